"""junit.xml: one testcase per (audit rule x consent state), for CI test-report views.

* one <testsuite> per state (name = state), holding one testcase per audit id in
  `audits` (classname "cookie-scanner.<state>", name = rule id);
* a testcase FAILS when the rule has a violation or warning finding in that state
  (<failure> lists subjects and pages); info findings only go to <system-out>;
* otherwise it is SKIPPED when the state was not reached (with the reason);
* findings tied to no state (policy lint, site-wide checks) go to an extra suite
  "site", one testcase per rule that has such findings.

Characters XML 1.0 forbids are removed from every string.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict

from ..redact import redacted
from .matrix import Report

_XML_FORBIDDEN = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_FAILING = ("violation", "warning")
SITE_SUITE = "site"


def xml_text(value: object) -> str:
    return _XML_FORBIDDEN.sub("", "" if value is None else str(value))


def _subject(f: dict) -> str:
    subject = f.get("subject") or {}
    where = subject.get("domain") or subject.get("host")
    text = f"{subject.get('kind', 'item')} {subject.get('name', '')}"
    return f"{text} ({where})" if where else text


def _describe(findings: list[dict]) -> str:
    lines = []
    for f in findings:
        pages = ", ".join(str(p) for p in f.get("pages") or ([f["page"]] if f.get("page") else []))
        line = f"[{f.get('severity')}] {_subject(f)}: {f.get('message', '')}"
        lines.append(line + (f"\n    pages: {pages}" if pages else ""))
    return "\n".join(lines)


def _testcase(suite: ET.Element, state: str, rule: str, findings: list[dict], skipped_reason: str | None) -> str:
    case = ET.SubElement(suite, "testcase", classname=xml_text(f"cookie-scanner.{state}"), name=xml_text(rule),
                         time="0")
    failing = [f for f in findings if f.get("severity") in _FAILING]
    outcome = "passed"
    if failing:
        worst = "violation" if any(f.get("severity") == "violation" for f in failing) else "warning"
        subjects = "; ".join(sorted({_subject(f) for f in failing}))
        failure = ET.SubElement(case, "failure", type=worst,
                                message=xml_text(f"{len(failing)} finding(s) in state {state}: {subjects}"))
        failure.text = xml_text(_describe(failing))
        outcome = "failed"
    elif skipped_reason is not None:
        ET.SubElement(case, "skipped", message=xml_text(skipped_reason))
        outcome = "skipped"
    info = [f for f in findings if f.get("severity") not in _FAILING]
    if info:
        ET.SubElement(case, "system-out").text = xml_text(_describe(info))
    return outcome


def _suite(root: ET.Element, name: str, cases: list[tuple[str, list[dict], str | None]]) -> dict[str, int]:
    suite = ET.SubElement(root, "testsuite", name=xml_text(name))
    tally = {"tests": 0, "failures": 0, "skipped": 0}
    for rule, findings, skipped in cases:
        outcome = _testcase(suite, name, rule, findings, skipped)
        tally["tests"] += 1
        tally["failures"] += outcome == "failed"
        tally["skipped"] += outcome == "skipped"
    for key, value in tally.items():
        suite.set(key, str(value))
    suite.set("errors", "0")
    return tally


def build_junit(report: Report) -> ET.Element:
    report = redacted(report)  # also a report.json written before URLs were redacted
    rules = list(dict.fromkeys(str(a.get("id")) for a in report.get("audits") or [] if a.get("id")))
    by_key: dict[tuple[str | None, str], list[dict]] = defaultdict(list)
    for f in report.get("findings") or []:
        rule = str(f.get("rule"))
        if rule not in rules:
            rules.append(rule)  # a finding whose audit is not described still gets its testcase
        by_key[(f.get("state"), rule)].append(f)
    root = ET.Element("testsuites", name="cookie-scanner")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    known_states = set()
    for st in report.get("states") or []:
        state = str(st.get("state"))
        known_states.add(state)
        reason = None if st.get("reached") else f"state {state} not reached: {st.get('error') or 'no reason given'}"
        tally = _suite(root, state, [(rule, by_key.get((state, rule), []), reason) for rule in rules])
        totals = {k: totals[k] + tally[k] for k in totals}
    stateless = [(rule, by_key[(s, rule)], None) for (s, rule) in by_key if s is None or s not in known_states]
    if stateless:
        merged: dict[str, list[dict]] = defaultdict(list)
        for rule, findings, _ in stateless:
            merged[rule].extend(findings)
        tally = _suite(root, SITE_SUITE, [(rule, merged[rule], None) for rule in rules if rule in merged])
        totals = {k: totals[k] + tally[k] for k in totals}
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("errors", "0")
    root.set("time", str(report.get("duration_s") or 0))
    return root


def render_junit(report: Report) -> str:
    root = build_junit(report)
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
