"""summary.md: a short Markdown summary for $GITHUB_STEP_SUMMARY and pull-request comments.

Every string that comes from the scanned site goes through `md_escape`, so it
cannot open a link, an image, raw HTML, a code span or emphasis, nor break a
table row: Markdown punctuation is backslash-escaped, `<`, `>` and `&` become
entities, line breaks become spaces.
"""
from __future__ import annotations

import re

from ..redact import redacted
from . import verdict as compute_verdict
from .html import format_time
from .limits import limits_text, recording_limits
from .i18n import DEFAULT, N_, Translator, translator
from .matrix import Report, build_matrix, severity_counts, sorted_findings, state_label

MAX_FINDINGS = 15
MAX_MATRIX_ROWS = 20
# Characters that can open Markdown / GFM syntax anywhere in a line (links, images, emphasis,
# code, tables, strikethrough, math). Line-start-only syntax cannot occur: values are never
# placed at the start of a line.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()!|~$])")
_VERDICT_LINE = {   # (mark, title, text): "✅ **Pass**: no violation…"
    "pass": ("✅", N_("Pass"), N_("no violation or warning in any consent state tested.")),
    "violations": ("❌", N_("Violations found"),
                   N_("the site stores or sends data the law does not allow in some consent state.")),
    "warnings": ("⚠️", N_("Warnings"), N_("no clear violation, but some points need review.")),
    "incomplete": ("⏸️", N_("Incomplete, not a pass"), N_("some consent states could not be tested.")),
}
_CELL = {"not-allowed": "❌", "warning": "⚠️", "allowed": "✅", "present": "●", "absent": "·", "not-reached": N_("n/r")}


def md_escape(value: object, limit: int = 200) -> str:
    """Neutralise a hostile string for Markdown text or a table cell."""
    text = "" if value is None else str(value)
    text = re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # A backslash before the ":" of "://" and the "." of "www." keeps GitHub from turning a site's
    # string into a live link, and renders as nothing: a domain copied from the page is the domain.
    # A zero-width space after "@" keeps "@someone" from notifying a GitHub user (GitHub finds
    # mentions in the rendered text, where an escape is gone) and "a@b.example" from a mailto link.
    text = _MD_SPECIAL.sub(r"\\\1", text).replace("@", "@\u200b")
    return re.sub(r"(?i)(www)\.|:(?=//)", lambda m: m.group(1) + "\\." if m.group(1) else "\\:", text)


def _fix_first(report: Report, _: Translator) -> list[str]:
    """The three causes whose fix removes most violations and warnings, with their legal basis."""
    from ..audits.causes import summary
    audits = {a.get("id"): a for a in report.get("audits") or [] if isinstance(a, dict)}
    causes = [c for c in report.get("causes") or [] if isinstance(c, dict)
              and ((c.get("counts") or {}).get("violation") or (c.get("counts") or {}).get("warning"))][:3]
    if not causes:
        return []
    out = [f"### {_('What to fix first')}", ""]
    for i, c in enumerate(causes, 1):
        out.append(f"{i}. **{md_escape(_.cause_label(c, audits), 120)}**{_(':')} "
                   f"{md_escape(summary(c, label=False, lang=_.lang), 400)}")
        if c.get("legal_source"):
            out.append(f"   {_('Legal basis:')} {md_escape(_.legal(c.get('legal_source')), 300)}")
    return out + [""]


def _states_text(f: dict) -> str:
    return ", ".join(str(s) for s in f.get("states") or ([f["state"]] if f.get("state") else [])) or "—"


def _findings_table(report: Report, findings: list[dict] | None = None, title: str = N_("Top findings"),
                    _: Translator | None = None) -> list[str]:
    _ = _ or translator(DEFAULT)
    audits = {a.get("id"): a for a in report.get("audits") or [] if isinstance(a, dict)}
    findings = sorted_findings(report) if findings is None else findings
    if not findings:
        return []
    head = " | ".join(_(h) for h in (N_("Severity"), N_("Rule"), N_("States"), N_("Subject"), N_("Finding")))
    out = ["", f"### {_(title)}", "", f"| {head} |", "|---|---|---|---|---|"]
    for f in findings[:MAX_FINDINGS]:
        subject = f.get("subject") or {}
        where = subject.get("domain") or subject.get("host")
        subj = md_escape(subject.get("name"), 80) + (f" \\({md_escape(where, 60)}\\)" if where else "")
        history = f.get("history") if isinstance(f.get("history"), dict) else {}
        new = " 🆕" if f.get("baseline") == "new" or history.get("new") is True else ""
        since = ""
        if history.get("new") is False and history.get("first_seen"):   # the history database: since when
            since = " " + md_escape(_("(since {date})", date=str(history["first_seen"])[:10]), 40)
        audit = audits.get(f.get("rule")) or {}
        title = md_escape((_.rule(audit, "title") if audit.get("title") else "") or f.get("rule"), 80)
        out.append(f"| {md_escape(_.code('severity', f.get('severity')))}{new} | {title} "
                   f"| {md_escape(_states_text(f), 120)} | {subj}{since} | {md_escape(f.get('message'), 200)} |")
    if len(findings) > MAX_FINDINGS:
        out.append("")
        out.append(_("…and {n} more findings: see report.html or findings.csv.", n=len(findings) - MAX_FINDINGS))
    return out


def _matrix(report: Report, _: Translator) -> list[str]:
    matrix = build_matrix(report)
    rows = matrix.problem_rows
    if not rows:
        return []
    head = " | ".join(md_escape(state_label(c.state, report, lang=_.lang), 40) for c in matrix.columns)
    out = ["", f"### {_('Consent matrix (items present where they should not be)')}", "",
           f"| {_('Item')} | {_('Category')} | {head} |", "|---|---|" + "---|" * len(matrix.columns)]
    for row in rows[:MAX_MATRIX_ROWS]:
        what = {"cookie": _.code("subject_kind", "cookie"),
                "storage": _.code("storage_kind", row.detail) if row.detail else _.code("subject_kind", "storage"),
                "vendor": _("vendor"), "pixel": _("beacon") if row.detail == "ping" else _("tracking pixel"),
                "script": _("fingerprinting script"), "link": _("carries {params}", params=row.detail)}[row.kind]
        item = f"{md_escape(row.name, 60)} \\({md_escape(what)}, {md_escape(row.scope, 60)}\\)"
        cells = " | ".join(_(_CELL[c.status]) if c.status == "not-reached" else _CELL[c.status] for c in row.cells)
        out.append(f"| {item} | {md_escape(_.code('category', row.category))} | {cells} |")
    if len(rows) > MAX_MATRIX_ROWS:
        out.append("")
        out.append(_("…and {n} more rows: see report.html.", n=len(rows) - MAX_MATRIX_ROWS))
    out.append("")
    out.append(" · ".join((f"❌ {_('not allowed in that state')}",
                           f"⚠️ {_('may not be allowed (purpose unknown, or a font / CAPTCHA from its provider)')}",
                           f"✅ {_('allowed')}", f"● {_('contacted, no tracking request')}", f"· {_('absent')}",
                           f"{_(_CELL['not-reached'])} {_('state not reached')}")))
    return out


def render_markdown(report: Report, *, lang: str = DEFAULT) -> str:
    """summary.md in `lang` ("en" | "fr")."""
    _ = translator(lang)
    report = redacted(report)  # also a report.json written before URLs were redacted
    site = report.get("site") or {}
    tool = report.get("tool") or {}
    decl = report.get("declaration") or {}
    v = compute_verdict(report)
    counts = severity_counts(report)
    decl_text = f"{md_escape(decl.get('name'))} \\({md_escape(decl.get('path'))}\\)" if decl else _("none")
    mark, title, text = _VERDICT_LINE[v]
    started = report.get("started_at") if _.english else format_time(report.get("started_at"), lang)
    scanner = (f"cookie\\-scanner {md_escape(tool.get('version'))} \\(Chromium {md_escape(tool.get('chromium'))}, "
               f"{_('rules {version}', version=md_escape(tool.get('rules_version')))}\\)")
    lines = [
        f"## {_('Cookie compliance: {site}', site=md_escape(site.get('host') or site.get('url')))}",
        "",
        f"{mark} **{_(title)}**{_(':')} {_(text)}",
        "",
        _("**{violations}** violations · **{warnings}** warnings · **{info}** info",
          violations=counts["violation"], warnings=counts["warning"], info=counts["info"]),
        "",
        f"- {_('Site:')} {md_escape(site.get('url'))}",
        f"- {_('Scanned: {date} with {tool}', date=md_escape(started), tool=scanner)}",
        f"- {_('Declaration:')} {decl_text}",
    ]
    states = []
    for s in report.get("states") or []:
        reached = "✅" if s.get("reached") else f"❌ **{_('not reached')}**"
        states.append(f"{md_escape(state_label(str(s.get('state')), report, lang=lang))} {reached}")
    lines.append(f"- {_('States:')} {' · '.join(states) if states else _('none')}")
    proved = [(s, _.proof_text(s.get("proof"))) for s in report.get("states") or [] if s.get("reached")]
    if any(proof for _s, proof in proved):
        lines += ["", f"### {_('How each state was proved')}", ""]
        for s, proof in proved:  # the evidence itself (record, TC string) is in report.html
            lines.append(f"- **{md_escape(s.get('state'))}**: {md_escape(proof or _('no proof recorded'), 300)}")
    refused = (report.get("egress") or {}).get("refused") or []
    if refused:
        hosts = ", ".join(sorted({f"{r.get('host')} ({r.get('address')})" for r in refused})[:5])
        lines.append("- " + _("Egress guard: refused {n} connection(s) to private or local addresses: {hosts}",
                              n=len(refused), hosts=md_escape(hosts, 300)))
    limits = recording_limits(report)
    if limits:
        lines.append("- " + _("Recording limits reached {where}: not recorded, findings about them may be missing",
                              where=md_escape(limits_text(limits, _), 300)))
    unreached = [s for s in report.get("states") or [] if not s.get("reached")]
    if unreached or report.get("incomplete_reasons"):
        lines += ["", f"### {_('Not tested')}", ""]
        for s in unreached:
            error = md_escape(s.get("error") or _("no reason given"), 300)
            lines.append(f"- **{md_escape(s.get('state'))}** {_('not reached:')} {error}")
        for reason in report.get("incomplete_reasons") or []:
            if not any(str(s.get("state")) in str(reason) for s in unreached):
                lines.append(f"- {md_escape(reason, 300)}")
    base = report.get("baseline")
    compared: list[str] = []
    if base:   # what a CI gate on new violations fails on comes first, right after the counts
        new = [f for f in sorted_findings(report) if f.get("baseline") == "new"]
        compared = [f"**{_('Compared with baseline:')}** "
                    f"{_('{new} new, {gone} gone.', new=len(new), gone=len(base.get('gone') or []))}"]
        if new:
            compared += _findings_table(report, new, N_("New since the baseline"), _)
        compared.append("")
    lines[6:6] = compared + _fix_first(report, _)   # after the counts
    lines += _matrix(report, _)
    lines += _findings_table(report, None, N_("All findings") if base else N_("Top findings"), _)
    details = _("Full details: report.html (consent matrix, evidence, inventories, proposed declaration).")
    lines += ["", f"_{details}_", ""]
    return "\n".join(lines)
