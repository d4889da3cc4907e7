"""results.sarif: SARIF 2.1.0 that GitHub code scanning accepts.

A website has no source lines, and code scanning only places results in files of the repository
(an `https://` page URI is refused). So every result points at a repository file:

* web findings at the site's declaration (`--declaration`, by its path relative to the repository
  root), or the file given with `--sarif-file`; without either, at the report's own report.json.
  The scan records the path in report.json (`options.sarif_file`), so a re-render points at the same
  file. Line 1: the declaration is the file that says what the site may do;
* policy-lint findings of a policy given as a file of the repository: that file, at the quoted line.

The page URL, the consent state(s) and the item go in the message text (what the alert shows) and in
`properties` (`page`, `pages`, `states`, `subject`, `evidence`).

* one reportingDescriptor (rule) per audit id: `name`, `shortDescription` = title,
  `fullDescription` = description, `help` (text and Markdown) = remediation and legal source,
  `defaultConfiguration.level` = error / warning / note, `properties.tags` and
  `properties.security-severity` (violation 7.5 high, warning 5.0 medium, info 2.0 low);
* one result per finding (one per problem, with every consent state it occurs in): level from its
  severity, `partialFingerprints.findingId` = the finding id (stable per rule and item), so an alert
  stays one alert across scans; `baselineState` new / unchanged when compared with a baseline;
* invocation: the command line, start and end times, executionSuccessful = the scan was complete,
  and one error notification per incomplete reason.

GitHub's limits are kept: one run, at most 25,000 results (worst first) and rules, one location
per result, at most 20 tags per rule, descriptions within 1,000 characters.
"""
from __future__ import annotations

import json
import posixpath
from typing import Any
from urllib.parse import quote, urlsplit

from . import verdict
from ..redact import redacted
from .matrix import Report

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"violation": "error", "warning": "warning", "info": "note"}
SECURITY_SEVERITY = {"violation": "7.5", "warning": "5.0", "info": "2.0"}
TAGS = ["privacy", "cookies", "consent", "security"]
SRCROOT = "%SRCROOT%"
MAX_RESULTS = 25_000          # GitHub: results per run (and rules per run)
MAX_TEXT = 1_000              # GitHub: shortDescription / fullDescription (1,024; kept below)
MAX_PAGES = 100               # pages listed in one result's properties (the report has them all)
_PATH_SAFE = "/-._~!$&'()*+,;=:@%"


def _cut(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def repository_path(value: Any) -> str | None:
    """A relative path inside the repository, percent-encoded for a URI; None for anything else
    (a URL, an absolute path, a path leaving the repository with `..`)."""
    text = str(value or "").strip().replace("\\", "/")
    try:
        scheme = urlsplit(text).scheme
    except ValueError:            # "http://[x/": a broken URL is no repository path either
        return None
    if not text or scheme or text.startswith("/"):
        return None
    norm = posixpath.normpath(text)
    if norm == "." or norm.startswith("../") or norm == "..":
        return None
    return quote(norm, safe=_PATH_SAFE)


def artifact_of(report: Report) -> str:
    """The repository file web findings point at: options.sarif_file, else the declaration, else
    report.json."""
    for candidate in ((report.get("options") or {}).get("sarif_file"),
                      (report.get("declaration") or {}).get("path")):
        path = repository_path(candidate)
        if path:
            return path
    return "report.json"


def _rule(audit: dict, severity: str | None) -> dict[str, Any]:
    rid = str(audit.get("id"))
    title = str(audit.get("title") or rid)
    legal = str(audit.get("legal_source") or "")
    remediation = str(audit.get("remediation") or audit.get("description") or title)
    rule: dict[str, Any] = {
        "id": rid,
        "name": "".join(part.capitalize() for part in rid.replace("_", "-").split("-") if part) or rid,
        "shortDescription": {"text": _cut(title)},
        "fullDescription": {"text": _cut(str(audit.get("description") or title))},
        "help": {"text": remediation + (f"\n\nLegal source: {legal}" if legal else ""),
                 "markdown": f"**How to fix:** {remediation}" + (f"\n\n**Legal source:** {legal}" if legal else "")},
        "defaultConfiguration": {"level": LEVELS.get(severity or "", "note")},
        "properties": {"legal_source": legal, "severity": severity, "tags": list(TAGS),
                       "security-severity": SECURITY_SEVERITY.get(severity or "", "2.0")},
    }
    return rule


def _logical(subject: dict) -> dict[str, Any]:
    kind = str(subject.get("kind") or "item")
    name = str(subject.get("name") or "")
    where = subject.get("domain") or subject.get("host")
    return {"name": name, "kind": kind, "fullyQualifiedName": f"{kind}:{name}" + (f"@{where}" if where else "")}


def states_of(f: dict) -> list[str]:
    """Every consent state a finding occurs in (`states`, else its one `state`)."""
    states = f.get("states")
    if isinstance(states, list) and states:
        return [str(s) for s in states]
    return [str(f["state"])] if f.get("state") else []


def _item(subject: dict) -> str:
    where = subject.get("domain") or subject.get("host")
    return f"{subject.get('kind') or 'item'} {subject.get('name') or ''}" + (f" ({where})" if where else "")


def _location(f: dict, artifact: str) -> dict[str, Any]:
    """The policy file itself for a policy finding read from a repository file (at its line);
    else the declaration (or --sarif-file)."""
    evidence = f.get("evidence") if isinstance(f.get("evidence"), dict) else {}
    uri, line = artifact, 1
    if str(f.get("rule", "")).startswith("policy-"):
        own = repository_path(f.get("page"))
        if own:
            uri = own
            if isinstance(evidence.get("line"), int) and evidence["line"] >= 1:
                line = evidence["line"]
    return {"physicalLocation": {"artifactLocation": {"uri": uri, "uriBaseId": SRCROOT},
                                 "region": {"startLine": line}},
            "logicalLocations": [_logical(f.get("subject") or {})]}


def _result(f: dict, rule_index: dict[str, int], site_url: str, artifact: str) -> dict[str, Any]:
    subject = f.get("subject") or {}
    pages = [str(p) for p in f.get("pages") or [] if p]
    page = str(f.get("page") or (pages[0] if pages else "") or site_url)
    states = states_of(f)
    more = f" and {len(pages) - 1} other page{'s' if len(pages) > 2 else ''}" if len(pages) > 1 else ""
    where = (f" (state{'s' if len(states) > 1 else ''}: {', '.join(states)})" if states else "")
    text = f"{f.get('message') or f.get('rule')}\nItem: {_item(subject)}{where}\nPage: {page}{more}"
    result: dict[str, Any] = {
        "ruleId": str(f.get("rule")),
        "ruleIndex": rule_index[str(f.get("rule"))],
        "level": LEVELS.get(f.get("severity"), "note"),
        "message": {"text": text},
        "locations": [_location(f, artifact)],
        "partialFingerprints": {"findingId": str(f.get("id"))},
        "properties": {"page": page, "pages": pages[:MAX_PAGES], "pages_count": len(pages),
                       "state": f.get("state"), "states": states, "subject": subject,
                       "evidence": f.get("evidence") or {}},
    }
    mark = f.get("baseline")
    if mark not in ("new", "unchanged") and isinstance(f.get("new"), bool):
        mark = "new" if f["new"] else "unchanged"
    if mark in ("new", "unchanged"):
        result["baselineState"] = mark
    return result


_ORDER = {"violation": 0, "warning": 1, "info": 2}


def build_sarif(report: Report, *, artifact: str | None = None) -> dict[str, Any]:
    report = redacted(report)  # also a report.json written before URLs were redacted
    tool = report.get("tool") or {}
    site = report.get("site") or {}
    uri = repository_path(artifact) or artifact_of(report)
    audits = [a for a in report.get("audits") or [] if a.get("id")]
    rules = [_rule(a, a.get("severity")) for a in audits]
    rule_index = {r["id"]: i for i, r in enumerate(rules)}
    findings = [f for f in report.get("findings") or [] if isinstance(f, dict)]
    if len(findings) > MAX_RESULTS:  # GitHub refuses more: the worst are kept
        findings = sorted(findings, key=lambda f: _ORDER.get(f.get("severity"), 3))[:MAX_RESULTS]
    for f in findings:  # a finding whose audit is not described still needs a rule
        rid = str(f.get("rule"))
        if rid not in rule_index:
            rule_index[rid] = len(rules)
            rules.append(_rule({"id": rid}, f.get("severity")))
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
            "results": [_result(f, rule_index, str(site.get("url") or ""), uri) for f in findings],
            "properties": {"site": site.get("url"), "chromium": tool.get("chromium"),
                           "rules_version": tool.get("rules_version"), "verdict": verdict(report),
                           "report_schema_version": report.get("schema_version"),
                           "results_dropped": len(report.get("findings") or []) - len(findings)},
        }],
    }


def render_sarif_json(report: Report, *, artifact: str | None = None) -> str:
    return json.dumps(build_sarif(report, artifact=artifact), indent=1, ensure_ascii=False) + "\n"
