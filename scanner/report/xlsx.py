"""report.xlsx: the CSV tables in one Excel workbook, for the compliance officer.

Sheets: Summary (verdict, counts, the causes to fix first), Findings, Causes, Cookies, Storage,
Requests; each with its header row frozen, a filter on every column, widths fitted to the
content. Cells are the CSV cells (ISO dates, yes/no, readable evidence), and every text cell is
written as text: a site's "=HYPERLINK(...)" stays a string, never a formula, so the apostrophe the
CSV files need is not added here. Control characters are escaped as in the CSV files.
"""
from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from typing import Any, Iterable

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..redact import escape_controls, redacted
from . import verdict
from .csv import CELL_CONTROLS, COLUMNS, table_rows
from .i18n import DEFAULT, N_, Translator, translator
from .matrix import Report, severity_counts

MAX_WIDTH = 60
_NOT_XML = re.compile("[\ufffe\uffff\ud800-\udfff]")
HEADER_FILL = PatternFill("solid", fgColor="F2F4F7")


def _text(value: Any) -> Any:
    if value is True or value is False:
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        value = "; ".join("" if v is None else str(v) for v in value)
    if isinstance(value, str):   # and what XML 1.0 cannot hold (U+FFFE, U+FFFF, lone surrogates)
        return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", escape_controls(value, keep=CELL_CONTROLS))
    return value


def _sheet(book: Workbook, title: str, columns: Iterable[str], rows: Iterable[dict[str, Any]]) -> None:
    sheet = book.create_sheet(title)
    columns = list(columns)
    sheet.append(columns)
    widths = [len(c) for c in columns]
    count = 0
    for row in rows:
        count += 1
        for col, name in enumerate(columns, start=1):
            value = _text(row.get(name))
            cell = sheet.cell(row=count + 1, column=col, value=value)
            if isinstance(value, str):
                cell.data_type = "s"          # text, never a formula
                widths[col - 1] = max(widths[col - 1], min(MAX_WIDTH, len(value)))
            elif value is not None:
                widths[col - 1] = max(widths[col - 1], len(str(value)))
    for col, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = min(MAX_WIDTH, width + 2)
        head = sheet.cell(row=1, column=col)
        head.font, head.fill = Font(bold=True), HEADER_FILL
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"


def _summary(book: Workbook, report: Report, _: Translator) -> None:
    from ..audits.causes import summary
    audits = {a.get("id"): a for a in report.get("audits") or [] if isinstance(a, dict)}
    sheet = book.active
    sheet.title = _("Summary")
    site = report.get("site") or {}
    counts = severity_counts(report)
    rows = [(_("Site"), site.get("url")), (_("Scanned"), report.get("started_at")),
            (_("Verdict"), _.code("verdict", verdict(report))),
            (_("Violations"), counts["violation"]), (_("Warnings"), counts["warning"]), (_("Info"), counts["info"]),
            (_("States"), ", ".join(str(s.get("state")) if s.get("reached")
                                    else _("{state} (NOT reached)", state=s.get("state"))
                                    for s in report.get("states") or [] if isinstance(s, dict))), (None, None),
            (_("What to fix first"), None)]
    causes = [c for c in report.get("causes") or [] if isinstance(c, dict)
              and ((c.get("counts") or {}).get("violation") or (c.get("counts") or {}).get("warning"))][:3]
    rows += [(f"{i}. {_.cause_label(c, audits) if not _.english else c.get('label')}",
              summary(c, label=False, lang=_.lang)) for i, c in enumerate(causes, 1)]
    for key, value in rows:
        sheet.append([_text(key), _text(value)])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in sheet["A"]:
        cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width, sheet.column_dimensions["B"].width = 34, 110


def _findings_rows(report: Report, _: Translator):
    """findings.csv's rows; in another language than English, the rule's words and the cause in it."""
    rows = table_rows(report, "findings.csv")
    if _.english:
        yield from rows
        return
    audits = {a.get("id"): a for a in report.get("audits") or [] if isinstance(a, dict)}
    causes = {c.get("id"): c for c in report.get("causes") or [] if isinstance(c, dict)}
    cause_of = {f.get("id"): f.get("cause") for f in report.get("findings") or [] if isinstance(f, dict)}
    for row in rows:
        audit = audits.get(row.get("rule"))
        if audit:
            row.update(title=_.rule(audit, "title"), legal_source=_.rule(audit, "legal_source"),
                       remediation=_.rule(audit, "remediation"))
        cause = causes.get(cause_of.get(row.get("id")))
        if cause:
            row["cause"] = _.cause_label(cause, audits)
        yield row


def _causes_rows(report: Report, _: Translator):
    audits = {a.get("id"): a for a in report.get("audits") or [] if isinstance(a, dict)}
    for c in report.get("causes") or []:
        if not isinstance(c, dict):
            continue
        row = {**c, **{k: (c.get("counts") or {}).get(s) for k, s in (("violations", "violation"),
                                                                       ("warnings", "warning"), ("info", "info"))}}
        if not _.english:
            row.update(label=_.cause_label(c, audits), when=[_.when(w) for w in c.get("when") or []],
                       legal_source=_.legal(c.get("legal_source")),
                       remediation=_.rule_by_text(audits, c.get("rules") or (), "remediation", c.get("remediation")))
        yield row


def render_xlsx(report: Report, *, lang: str = DEFAULT) -> bytes:
    """report.xlsx; in `lang` ("en" | "fr"): the sheet names, the Summary and the rules' and causes' words
    (column names stay those of the CSV files)."""
    _ = translator(lang)
    report = redacted(report)   # also a report.json written before URLs were redacted
    book = Workbook()
    _summary(book, report, _)
    _sheet(book, _("Findings"), COLUMNS["findings.csv"], _findings_rows(report, _))
    _sheet(book, _("Causes"), ("label", "kind", "severity", "violations", "warnings", "info", "pages", "when",
                               "legal_source", "remediation"), _causes_rows(report, _))
    for title, name in ((N_("Cookies"), "cookies.csv"), (N_("Storage"), "storage.csv"),
                        (N_("Requests"), "requests.csv")):
        _sheet(book, _(title), COLUMNS[name], table_rows(report, name))
    stamp = _scan_time(report)
    book.properties.created = book.properties.modified = stamp
    book.properties.creator = "cookie-scanner"
    buffer = io.BytesIO()
    book.save(buffer)
    return _fixed_zip(buffer.getvalue(), stamp)


def _scan_time(report: Report) -> datetime:
    try:
        return datetime.strptime(str(report.get("started_at")), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return datetime(2000, 1, 1)


def _fixed_zip(data: bytes, stamp: datetime) -> bytes:
    """The same workbook with every entry dated `stamp`: a report re-rendered gives the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=(max(1980, stamp.year),) + stamp.timetuple()[1:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            payload = source.read(entry.filename)
            if entry.filename == "docProps/core.xml":   # openpyxl dates `modified` when it saves
                payload = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode(),
                                 payload)
            target.writestr(info, payload)
    return out.getvalue()
