"""The verdict: the audits' conclusion over a result, written into report.json beside the findings.
Renderers display it (and may recompute it from a stored report: same function)."""
from __future__ import annotations


def is_complete(report: dict) -> bool:
    """Complete = the gatherer said so AND every state was reached."""
    states = [s for s in report.get("states") or [] if isinstance(s, dict)]
    return bool(report.get("complete")) and all(s.get("reached") for s in states)


def verdict(report: dict) -> str:
    """"incomplete" wins over everything: an incomplete scan never reads as a pass."""
    if not is_complete(report):
        return "incomplete"
    severities = {f.get("severity") for f in report.get("findings") or [] if isinstance(f, dict)}
    if "violation" in severities:
        return "violations"
    if "warning" in severities:
        return "warnings"
    return "pass"
