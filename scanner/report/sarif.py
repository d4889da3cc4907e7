"""results.sarif: SARIF 2.1.0 for code-scanning dashboards.

* one reportingDescriptor (rule) per audit id: shortDescription = title,
  fullDescription = description, help = remediation, properties.legal_source,
  defaultConfiguration.level = error / warning / note;
* one result per finding: level from its severity, the page URL as
  locations[].physicalLocation.artifactLocation.uri, the subject as a logical
  location ("cookie:_ga@.micropep.com"), partialFingerprints.findingId = finding id,
  baselineState new / unchanged when the report was compared with a baseline;
* invocation: the command line, start and end times, executionSuccessful = the
  scan was complete, and one error notification per incomplete reason.
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from . import verdict
from ..redact import redacted
from .matrix import Report

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"violation": "error", "warning": "warning", "info": "note"}
_URI_SAFE = ":/?#[]@!$&'()*+,;=%~"


def _uri(value: Any) -> str:
    """Percent-encode what is not allowed in a URI (spaces, quotes, < >, non-ASCII)."""
    return quote(str(value), safe=_URI_SAFE)


def _rule(audit: dict, level: str) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": str(audit.get("id")),
        "shortDescription": {"text": str(audit.get("title") or audit.get("id"))},
        "fullDescription": {"text": str(audit.get("description") or audit.get("title") or audit.get("id"))},
        "defaultConfiguration": {"level": level},
        "properties": {"legal_source": str(audit.get("legal_source") or ""), "severity": audit.get("severity")},
    }
    if audit.get("remediation"):
        rule["help"] = {"text": str(audit["remediation"])}
    return rule


def _logical(subject: dict) -> dict[str, Any]:
    kind = str(subject.get("kind") or "item")
    name = str(subject.get("name") or "")
    where = subject.get("domain") or subject.get("host")
    return {"name": name, "kind": kind, "fullyQualifiedName": f"{kind}:{name}" + (f"@{where}" if where else "")}


def _result(f: dict, rule_index: dict[str, int], site_url: str) -> dict[str, Any]:
    subject = f.get("subject") or {}
    page = f.get("page") or next(iter(f.get("pages") or []), None) or site_url
    result: dict[str, Any] = {
        "ruleId": str(f.get("rule")),
        "ruleIndex": rule_index[str(f.get("rule"))],
        "level": LEVELS.get(f.get("severity"), "note"),
        "message": {"text": str(f.get("message") or f.get("rule"))},
        "locations": [{
            "physicalLocation": {"artifactLocation": {"uri": _uri(page)}},
            "logicalLocations": [_logical(subject)],
        }],
        "partialFingerprints": {"findingId": str(f.get("id"))},
        "properties": {"state": f.get("state"), "subject": subject, "pages": list(f.get("pages") or []),
                       "evidence": f.get("evidence") or {}},
    }
    if f.get("baseline") in ("new", "unchanged"):
        result["baselineState"] = f["baseline"]
    return result


def build_sarif(report: Report) -> dict[str, Any]:
    report = redacted(report)  # also a report.json written before URLs were redacted
    tool = report.get("tool") or {}
    site = report.get("site") or {}
    audits = [a for a in report.get("audits") or [] if a.get("id")]
    rules = [_rule(a, LEVELS.get(a.get("severity"), "note")) for a in audits]
    rule_index = {r["id"]: i for i, r in enumerate(rules)}
    for f in report.get("findings") or []:  # a finding whose audit is not described still needs a rule
        rid = str(f.get("rule"))
        if rid not in rule_index:
            rule_index[rid] = len(rules)
            rules.append(_rule({"id": rid, "severity": f.get("severity")}, LEVELS.get(f.get("severity"), "note")))
    invocation: dict[str, Any] = {
        "executionSuccessful": bool(report.get("complete")),
        "commandLine": " ".join(str(c) for c in report.get("command") or []),
        "toolExecutionNotifications": [{"level": "error", "message": {"text": str(r)}}
                                       for r in report.get("incomplete_reasons") or []],
    }
    for key, prop in (("started_at", "startTimeUtc"), ("finished_at", "endTimeUtc")):
        if report.get(key):
            invocation[prop] = str(report[key])
    driver: dict[str, Any] = {"name": str(tool.get("name") or "cookie-scanner"), "rules": rules}
    if tool.get("version"):
        driver["version"] = str(tool["version"])
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "invocations": [invocation],
            "results": [_result(f, rule_index, str(site.get("url") or "")) for f in report.get("findings") or []],
            "properties": {"site": site.get("url"), "chromium": tool.get("chromium"),
                           "rules_version": tool.get("rules_version"), "verdict": verdict(report),
                           "report_schema_version": report.get("schema_version")},
        }],
    }


def render_sarif_json(report: Report) -> str:
    return json.dumps(build_sarif(report), indent=1, ensure_ascii=False) + "\n"
