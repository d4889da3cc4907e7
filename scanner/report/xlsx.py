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


def _summary(book: Workbook, report: Report) -> None:
    from ..audits.causes import summary
    sheet = book.active
    sheet.title = "Summary"
    site = report.get("site") or {}
    counts = severity_counts(report)
    rows = [("Site", site.get("url")), ("Scanned", report.get("started_at")), ("Verdict", verdict(report)),
            ("Violations", counts["violation"]), ("Warnings", counts["warning"]), ("Info", counts["info"]),
            ("States", ", ".join(f"{s.get('state')}{'' if s.get('reached') else ' (NOT reached)'}"
                                 for s in report.get("states") or [] if isinstance(s, dict))), (None, None),
            ("What to fix first", None)]
    causes = [c for c in report.get("causes") or [] if isinstance(c, dict)
              and ((c.get("counts") or {}).get("violation") or (c.get("counts") or {}).get("warning"))][:3]
    rows += [(f"{i}. {c.get('label')}", summary(c, label=False)) for i, c in enumerate(causes, 1)]
    for key, value in rows:
        sheet.append([_text(key), _text(value)])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in sheet["A"]:
        cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width, sheet.column_dimensions["B"].width = 34, 110


def render_xlsx(report: Report) -> bytes:
    report = redacted(report)   # also a report.json written before URLs were redacted
    book = Workbook()
    _summary(book, report)
    _sheet(book, "Findings", COLUMNS["findings.csv"], table_rows(report, "findings.csv"))
    _sheet(book, "Causes", ("label", "kind", "severity", "violations", "warnings", "info", "pages", "when",
                            "legal_source", "remediation"),
           ({**c, **{k: (c.get("counts") or {}).get(s) for k, s in (("violations", "violation"), ("warnings", "warning"),
                                                                     ("info", "info"))}}
            for c in report.get("causes") or [] if isinstance(c, dict)))
    for title, name in (("Cookies", "cookies.csv"), ("Storage", "storage.csv"), ("Requests", "requests.csv")):
        _sheet(book, title, COLUMNS[name], table_rows(report, name))
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
