"""junit.xml: one testcase per (audit rule x consent state), for CI test-report views.

* one <testsuite> per state (name = state), holding one testcase per audit id in
  `audits` (classname "cookie-scanner.<state>", name = rule id);
* a testcase FAILS exactly when the gate fails on it: a finding of that rule in that state (a finding
  occurring in several states - `states` - counts in each) that `--fail-on` fails on
  (`violation`: violations; `warning`: violations and warnings; `new-violation`: violations new since
  the baseline; `never`: nothing). The other findings (warnings under `--fail-on violation`, info)
  are listed in <system-out>;
* a testcase is an ERROR when its state was not reached (the reason in the message): the check
  could not run, which is not a pass and not a skip;
* findings tied to no state (policy lint, site-wide checks) go to an extra suite
  "site", one testcase per rule that has such findings.

`fail_on` comes from the caller (`scan --fail-on`, `report --fail-on`), else from the scan that wrote
the report (report.json `options.fail_on`), else `violation`.

Characters XML 1.0 forbids are removed from every string.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict

from ..redact import redacted
from .matrix import Report

_XML_FORBIDDEN = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
SITE_SUITE = "site"
FAIL_ON = ("violation", "warning", "never", "new-violation")


def xml_text(value: object) -> str:
    return _XML_FORBIDDEN.sub("", "" if value is None else str(value))


def states_of(f: dict) -> list[str]:
    """Every consent state a finding occurs in: `states`, else its one `state` (reports before 1.3)."""
    states = f.get("states")
    if isinstance(states, list) and states:
        return [str(s) for s in states]
    return [str(f["state"])] if f.get("state") else []


def is_new(f: dict, report: Report) -> bool:
    """New since the baseline: the baseline mark (`baseline: "new"`, or `new: true`); without a
    baseline every finding is new, except on the first run of a gate (the baseline file did not
    exist yet), where nothing is."""
    if isinstance(f.get("new"), bool):
        return f["new"]
    if report.get("baseline") is None:
        given = (report.get("options") or {}).get("baseline")
        return not (isinstance(given, dict) and given.get("found") is False)
    return f.get("baseline", "new") == "new"


def fails(f: dict, report: Report, fail_on: str) -> bool:
    """Whether `--fail-on fail_on` fails on finding `f`."""
    severity = f.get("severity")
    if fail_on == "warning":
        return severity in ("violation", "warning")
    if fail_on == "violation":
        return severity == "violation"
    if fail_on == "new-violation":
        return severity == "violation" and is_new(f, report)
    return False


def gate_failures(report: Report, fail_on: str) -> list[dict]:
    """The findings that fail the gate, in the report's order (worst first)."""
    return [f for f in report.get("findings") or [] if isinstance(f, dict) and fails(f, report, fail_on)]


def resolve_fail_on(report: Report, fail_on: str | None) -> str:
    chosen = fail_on or (report.get("options") or {}).get("fail_on") or "violation"
    if chosen not in FAIL_ON:
        raise ValueError(f"unknown fail-on value {chosen!r}; choose one of {', '.join(FAIL_ON)}")
    return chosen


def _subject(f: dict) -> str:
    subject = f.get("subject") or {}
    where = subject.get("domain") or subject.get("host")
    text = f"{subject.get('kind', 'item')} {subject.get('name', '')}"
    return f"{text} ({where})" if where else text


def _pages_in(f: dict, state: str | None) -> list[str]:
    """The pages a finding was seen on in `state` (its occurrence there), else all its pages."""
    for occurrence in f.get("occurrences") or []:
        if isinstance(occurrence, dict) and occurrence.get("state") == state and occurrence.get("pages"):
            return [str(p) for p in occurrence["pages"]]
    return [str(p) for p in f.get("pages") or ([f["page"]] if f.get("page") else [])]


def _describe(findings: list[dict], state: str | None) -> str:
    lines = []
    for f in findings:
        pages = ", ".join(_pages_in(f, state))
        new = " (new)" if f.get("baseline") == "new" or f.get("new") is True else ""
        line = f"[{f.get('severity')}]{new} {_subject(f)}: {f.get('message', '')}"
        lines.append(line + (f"\n    pages: {pages}" if pages else ""))
    return "\n".join(lines)


def _testcase(suite: ET.Element, state: str, rule: str, findings: list[dict], unreached: str | None,
              report: Report, fail_on: str) -> str:
    case = ET.SubElement(suite, "testcase", classname=xml_text(f"cookie-scanner.{state}"), name=xml_text(rule),
                         time="0")
    key = None if state == SITE_SUITE else state
    failing = [f for f in findings if fails(f, report, fail_on)]
    outcome = "passed"
    if unreached is not None:
        error = ET.SubElement(case, "error", type="state-not-reached", message=xml_text(unreached))
        error.text = xml_text(f"{unreached}\nThis check could not run in state {state}.")
        outcome = "error"
    elif failing:
        worst = "violation" if any(f.get("severity") == "violation" for f in failing) else "warning"
        subjects = "; ".join(sorted({_subject(f) for f in failing}))
        failure = ET.SubElement(case, "failure", type=worst,
                                message=xml_text(f"{len(failing)} finding(s) in state {state}: {subjects}"))
        failure.text = xml_text(_describe(failing, key))
        outcome = "failed"
    others = [f for f in findings if f not in failing or outcome == "error"]
    if others:
        ET.SubElement(case, "system-out").text = xml_text(_describe(others, key))
    return outcome


def _suite(root: ET.Element, name: str, cases: list[tuple[str, list[dict], str | None]], report: Report,
           fail_on: str) -> dict[str, int]:
    suite = ET.SubElement(root, "testsuite", name=xml_text(name))
    tally = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for rule, findings, unreached in cases:
        outcome = _testcase(suite, name, rule, findings, unreached, report, fail_on)
        tally["tests"] += 1
        tally["failures"] += outcome == "failed"
        tally["errors"] += outcome == "error"
    for key, value in tally.items():
        suite.set(key, str(value))
    return tally


def build_junit(report: Report, *, fail_on: str | None = None) -> ET.Element:
    fail_on = resolve_fail_on(report, fail_on)
    report = redacted(report)  # also a report.json written before URLs were redacted
    rules = list(dict.fromkeys(str(a.get("id")) for a in report.get("audits") or [] if a.get("id")))
    known_states = [str(st.get("state")) for st in report.get("states") or []]
    by_key: dict[tuple[str | None, str], list[dict]] = defaultdict(list)
    for f in report.get("findings") or []:
        if not isinstance(f, dict):
            continue
        rule = str(f.get("rule"))
        if rule not in rules:
            rules.append(rule)  # a finding whose audit is not described still gets its testcase
        states = [s for s in states_of(f) if s in known_states]
        for state in states or [None]:  # a finding of several states counts in each
            by_key[(state, rule)].append(f)
    root = ET.Element("testsuites", name="cookie-scanner")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for st in report.get("states") or []:
        state = str(st.get("state"))
        reason = None if st.get("reached") else f"state {state} not reached: {st.get('error') or 'no reason given'}"
        tally = _suite(root, state, [(rule, by_key.get((state, rule), []), reason) for rule in rules], report, fail_on)
        totals = {k: totals[k] + tally[k] for k in totals}
    stateless = {rule: found for (state, rule), found in by_key.items() if state is None}
    if stateless:
        tally = _suite(root, SITE_SUITE, [(rule, stateless[rule], None) for rule in rules if rule in stateless],
                       report, fail_on)
        totals = {k: totals[k] + tally[k] for k in totals}
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", str(report.get("duration_s") or 0))
    return root


def render_junit(report: Report, *, fail_on: str | None = None) -> str:
    root = build_junit(report, fail_on=fail_on)
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
