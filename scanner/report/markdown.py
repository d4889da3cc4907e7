"""summary.md: a short Markdown summary for $GITHUB_STEP_SUMMARY and pull-request comments.

Every string that comes from the scanned site goes through `md_escape`, so it
cannot open a link, an image, raw HTML, a code span or emphasis, nor break a
table row: Markdown punctuation is backslash-escaped, `<`, `>` and `&` become
entities, line breaks become spaces.
"""
from __future__ import annotations

import re

from ..consent_states import proof_text
from ..redact import redacted
from . import verdict as compute_verdict
from .matrix import Report, build_matrix, severity_counts, sorted_findings, state_label

MAX_FINDINGS = 15
MAX_MATRIX_ROWS = 20
# Characters that can open Markdown / GFM syntax anywhere in a line (links, images, emphasis,
# code, tables, strikethrough, math). Line-start-only syntax cannot occur: values are never
# placed at the start of a line.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()!|~$])")
_VERDICT_LINE = {
    "pass": "✅ **Pass**: no violation or warning in any consent state tested.",
    "violations": "❌ **Violations found**: the site stores or sends data the law does not allow in some consent state.",
    "warnings": "⚠️ **Warnings**: no clear violation, but some points need review.",
    "incomplete": "⏸️ **Incomplete, not a pass**: some consent states could not be tested.",
}
_CELL = {"not-allowed": "❌", "warning": "⚠️", "allowed": "✅", "present": "●", "absent": "·", "not-reached": "n/r"}


def md_escape(value: object, limit: int = 200) -> str:
    """Neutralise a hostile string for Markdown text or a table cell."""
    text = "" if value is None else str(value)
    text = re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # A zero-width space after "@" keeps "@someone" from notifying a GitHub user, and one
    # inside "://" and "www." keeps GitHub from turning a site's string into a live link.
    text = _MD_SPECIAL.sub(r"\\\1", text).replace("@", "@\u200b")
    return re.sub(r"(?i)(:)(//)|\b(www)(\.)", lambda m: (m.group(1) or m.group(3)) + "\u200b" + (m.group(2) or m.group(4)), text)


def _fix_first(report: Report) -> list[str]:
    """The three causes whose fix removes most violations and warnings, with their legal basis."""
    from ..audits.causes import summary
    causes = [c for c in report.get("causes") or [] if isinstance(c, dict)
              and ((c.get("counts") or {}).get("violation") or (c.get("counts") or {}).get("warning"))][:3]
    if not causes:
        return []
    out = ["### What to fix first", ""]
    for i, c in enumerate(causes, 1):
        out.append(f"{i}. **{md_escape(c.get('label'), 120)}**: {md_escape(summary(c, label=False), 400)}")
        if c.get("legal_source"):
            out.append(f"   Legal basis: {md_escape(c.get('legal_source'), 300)}")
    return out + [""]


def _states_text(f: dict) -> str:
    return ", ".join(str(s) for s in f.get("states") or ([f["state"]] if f.get("state") else [])) or "—"


def _findings_table(report: Report, findings: list[dict] | None = None, title: str = "### Top findings") -> list[str]:
    titles = {a.get("id"): a.get("title") for a in report.get("audits") or []}
    findings = sorted_findings(report) if findings is None else findings
    if not findings:
        return []
    out = ["", title, "", "| Severity | Rule | States | Subject | Finding |", "|---|---|---|---|---|"]
    for f in findings[:MAX_FINDINGS]:
        subject = f.get("subject") or {}
        where = subject.get("domain") or subject.get("host")
        subj = md_escape(subject.get("name"), 80) + (f" \\({md_escape(where, 60)}\\)" if where else "")
        new = " 🆕" if f.get("baseline") == "new" else ""
        title = md_escape(titles.get(f.get("rule")) or f.get("rule"), 80)
        out.append(f"| {md_escape(f.get('severity'))}{new} | {title} | {md_escape(_states_text(f), 120)} "
                   f"| {subj} | {md_escape(f.get('message'), 200)} |")
    if len(findings) > MAX_FINDINGS:
        out.append("")
        out.append(f"…and {len(findings) - MAX_FINDINGS} more findings: see report.html or findings.csv.")
    return out


def _matrix(report: Report) -> list[str]:
    matrix = build_matrix(report)
    rows = matrix.problem_rows
    if not rows:
        return []
    head = " | ".join(md_escape(state_label(c.state, report), 40) for c in matrix.columns)
    out = ["", "### Consent matrix (items present where they should not be)", "",
           f"| Item | Category | {head} |", "|---|---|" + "---|" * len(matrix.columns)]
    for row in rows[:MAX_MATRIX_ROWS]:
        what = {"cookie": "cookie", "storage": row.detail or "storage", "vendor": "vendor"}[row.kind]
        item = f"{md_escape(row.name, 60)} \\({what}, {md_escape(row.scope, 60)}\\)"
        cells = " | ".join(_CELL[c.status] for c in row.cells)
        out.append(f"| {item} | {md_escape(row.category)} | {cells} |")
    if len(rows) > MAX_MATRIX_ROWS:
        out.append("")
        out.append(f"…and {len(rows) - MAX_MATRIX_ROWS} more rows: see report.html.")
    out.append("")
    out.append("❌ not allowed in that state · ⚠️ may not be allowed (purpose unknown, or a font / CAPTCHA from its provider) · ✅ allowed · "
               "● contacted, no tracking request · · absent · n/r state not reached")
    return out


def render_markdown(report: Report) -> str:
    report = redacted(report)  # also a report.json written before URLs were redacted
    site = report.get("site") or {}
    tool = report.get("tool") or {}
    decl = report.get("declaration") or {}
    v = compute_verdict(report)
    counts = severity_counts(report)
    decl_text = f"{md_escape(decl.get('name'))} \\({md_escape(decl.get('path'))}\\)" if decl else "none"
    lines = [
        f"## Cookie compliance: {md_escape(site.get('host') or site.get('url'))}",
        "",
        _VERDICT_LINE[v],
        "",
        f"**{counts['violation']}** violations · **{counts['warning']}** warnings · **{counts['info']}** info",
        "",
        f"- Site: {md_escape(site.get('url'))}",
        f"- Scanned: {md_escape(report.get('started_at'))} with cookie\\-scanner {md_escape(tool.get('version'))}"
        f" \\(Chromium {md_escape(tool.get('chromium'))}, rules {md_escape(tool.get('rules_version'))}\\)",
        f"- Declaration: {decl_text}",
    ]
    states = []
    for s in report.get("states") or []:
        mark = "✅" if s.get("reached") else "❌ **not reached**"
        states.append(f"{md_escape(state_label(str(s.get('state')), report))} {mark}")
    lines.append(f"- States: {' · '.join(states) if states else 'none'}")
    proved = [(s, proof_text(s.get("proof"))) for s in report.get("states") or [] if s.get("reached")]
    if any(text for _, text in proved):
        lines += ["", "### How each state was proved", ""]
        for s, text in proved:  # the evidence itself (record, TC string) is in report.html
            lines.append(f"- **{md_escape(s.get('state'))}**: {md_escape(text or 'no proof recorded', 300)}")
    refused = (report.get("egress") or {}).get("refused") or []
    if refused:
        hosts = ", ".join(sorted({f"{r.get('host')} ({r.get('address')})" for r in refused})[:5])
        lines.append(f"- Egress guard: refused {len(refused)} connection(s) to private or local addresses: "
                     f"{md_escape(hosts, 300)}")
    unreached = [s for s in report.get("states") or [] if not s.get("reached")]
    if unreached or report.get("incomplete_reasons"):
        lines += ["", "### Not tested", ""]
        for s in unreached:
            error = md_escape(s.get("error") or "no reason given", 300)
            lines.append(f"- **{md_escape(s.get('state'))}** not reached: {error}")
        for reason in report.get("incomplete_reasons") or []:
            if not any(str(s.get("state")) in str(reason) for s in unreached):
                lines.append(f"- {md_escape(reason, 300)}")
    base = report.get("baseline")
    if base:
        new = [f for f in sorted_findings(report) if f.get("baseline") == "new"]
        lines += ["", f"**Compared with baseline:** {len(new)} new, {len(base.get('gone') or [])} gone."]
        lines += _findings_table(report, new, "### New since the baseline")
    lines[6:6] = _fix_first(report)   # after the counts
    lines += _matrix(report)
    lines += _findings_table(report, None, "### All findings" if base else "### Top findings")
    lines += ["", "_Full details: report.html (consent matrix, evidence, inventories, proposed declaration)._", ""]
    return "\n".join(lines)
