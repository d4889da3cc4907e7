"""The consent matrix and the findings come from one judgement: they must agree cell by cell."""
from __future__ import annotations

from scanner.audits.checks import STATE_RULES
from scanner.report.matrix import build_matrix

ITEM_RULES = {"unknown-purpose", "undeclared-cookie", "undeclared-storage"}


def _row_key(row) -> tuple:
    if row.kind in ("vendor", "pixel"):
        return ("request", row.name, None)
    return (row.kind, row.name, row.scope)


def _finding_key(f) -> tuple:
    subject = f["subject"]
    if subject.get("kind") == "request":
        return ("request", subject.get("name"), None)
    return (subject.get("kind"), subject.get("name"), subject.get("domain") or subject.get("host"))


def disagreements(report: dict) -> list[str]:
    """Every red cell has a violation in its state, every amber cell a finding about the item,
    and every state-dependent finding a red (violation) or amber (warning) cell."""
    matrix = build_matrix(report)
    findings = report.get("findings") or []
    problems = []
    cells = {}
    for row in matrix.rows:
        for col, cell in zip(matrix.columns, row.cells):
            cells.setdefault((_row_key(row), col.state), set()).add(cell.status)
    by_item: dict[tuple, list[dict]] = {}
    for f in findings:
        by_item.setdefault(_finding_key(f), []).append(f)
    for (key, state), statuses in cells.items():
        about = by_item.get(key, [])
        if "not-allowed" in statuses and not any(_severity_in(f, state) == "violation" for f in about):
            problems.append(f"red cell without a violation: {key} in {state}")
        if "warning" in statuses and not any(
                _severity_in(f, state) or (f["state"] is None and f["rule"] in ITEM_RULES) for f in about):
            problems.append(f"amber cell without a finding: {key} in {state}")
    for f in findings:
        if f["rule"] not in STATE_RULES:
            continue
        for state in f["states"]:
            wanted = "not-allowed" if _severity_in(f, state) == "violation" else "warning"
            shown = cells.get((_finding_key(f), state), set())
            # a cell shows the worst of its item: a warning under a red cell is shown by it
            if wanted not in shown and not (wanted == "warning" and "not-allowed" in shown):
                problems.append(f"{f['rule']} finding without a {wanted} cell: {_finding_key(f)} in {state}")
    return problems


def _severity_in(finding: dict, state: str) -> str | None:
    """The finding's severity in `state` (its occurrence there), None when it does not occur there."""
    for occurrence in finding.get("occurrences") or []:
        if occurrence["state"] == state:
            return occurrence["severity"]
    return None


def per_state(findings) -> list[tuple[dict, str | None, str]]:
    """(finding, state, severity in that state) for every state a finding occurs in; one row with
    state None for a site-wide finding (report.json 1.3: one finding per problem)."""
    rows = []
    for f in findings:
        occurrences = [o for o in f.get("occurrences") or [] if o.get("state")]
        if not occurrences:
            rows.append((f, f.get("state"), f["severity"]))
        rows += [(f, o["state"], o.get("severity") or f["severity"]) for o in occurrences]
    return rows
