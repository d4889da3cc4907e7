"""cookies.csv, storage.csv, requests.csv, findings.csv: one row per item and state (and page).

Columns are fixed (COLUMNS below, documented in docs/report-format.md) and always
present, in this order, even when empty. Text cells that a spreadsheet would read
as a formula (starting with = + - @, a tab or a carriage return) get a leading
apostrophe. Control characters other than line feed and tab (ESC, BEL, C1, DEL) and
bidi overrides/isolates are written as escapes (\\x1b, \\u202e). Files are written
UTF-8 with a BOM (utf-8-sig) so Excel reads accents; the separator is "," unless asked
otherwise (";" for French-locale spreadsheets).
"""
from __future__ import annotations

import io
import json
from typing import Any, Iterator

import pandas as pd

from ..redact import escape_controls, redacted
from .matrix import Report, iter_observations

COLUMNS: dict[str, tuple[str, ...]] = {
    "cookies.csv": (
        "state", "page_url", "name", "domain", "path", "party", "category", "category_source", "declared_as",
        "vendor", "purpose", "set_by", "setter_url", "session", "expires", "lifetime_s", "requested_lifetime_s",
        "secure", "http_only", "same_site", "partitioned", "size", "value_len", "value_sha256", "value", "stored",
        "blocked_reasons",
    ),
    "storage.csv": (
        "state", "page_url", "kind", "origin", "key", "party", "category", "category_source", "declared_as",
        "vendor", "purpose", "value_len", "value_sha256", "setter_url", "frame_url",
    ),
    "requests.csv": (
        "state", "page_url", "url", "method", "resource_type", "status", "host", "party", "vendor",
        "vendor_category", "category", "country", "tracker", "frame_url", "initiator_type", "initiator_url",
        "redirect_chain", "time_ms", "error",
    ),
    "findings.csv": (
        "id", "severity", "rule", "title", "state", "subject_kind", "subject_name", "subject_domain",
        "subject_host", "message", "page", "pages", "baseline", "evidence",
    ),
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CELL_CONTROLS = "\n\t"  # kept in a cell (quoted); every other control character is escaped


def neutralise(value: Any) -> Any:
    """Text a spreadsheet would evaluate gets a leading apostrophe; numbers, booleans, None unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        value = "; ".join("" if v is None else str(v) for v in value)
    elif isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    # ESC, BEL, C1 and bidi overrides from a site shown as \x1b, \u202e: a viewer (or `cat`) acts on none
    return neutralise(escape_controls(value, keep=CELL_CONTROLS))


def _observed(report: Report, key: str, columns: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    for state, page, item in iter_observations(report, key):
        row = {c: item.get(c) for c in columns}
        row["state"], row["page_url"] = state, page.get("url")
        if key == "requests":
            row["redirect_chain"] = " -> ".join(str(u) for u in item.get("redirect_chain") or [])
        yield row


def _findings(report: Report) -> Iterator[dict[str, Any]]:
    titles = {a.get("id"): a.get("title") for a in report.get("audits") or []}
    for f in report.get("findings") or []:
        subject = f.get("subject") or {}
        yield {
            "id": f.get("id"), "severity": f.get("severity"), "rule": f.get("rule"),
            "title": titles.get(f.get("rule")), "state": f.get("state"), "subject_kind": subject.get("kind"),
            "subject_name": subject.get("name"), "subject_domain": subject.get("domain"),
            "subject_host": subject.get("host"), "message": f.get("message"), "page": f.get("page"),
            "pages": " ".join(str(p) for p in f.get("pages") or []), "baseline": f.get("baseline"),
            "evidence": f.get("evidence") or {},
        }


def _frame(rows: Iterator[dict[str, Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    # dtype=object keeps integers as integers next to empty cells (no "86400.0").
    records = [[_cell(r.get(c)) for c in columns] for r in rows]
    return pd.DataFrame(records, columns=list(columns), dtype=object)


def _to_text(frame: pd.DataFrame, sep: str) -> str:
    buf = io.StringIO()
    frame.to_csv(buf, sep=sep, index=False, lineterminator="\r\n")
    return buf.getvalue()


def render_csv(report: Report, *, sep: str = ",") -> dict[str, str]:
    """{file name: CSV text}; the caller writes them with encoding utf-8-sig."""
    report = redacted(report)  # also a report.json written before URLs were redacted
    sources = {
        "cookies.csv": _observed(report, "cookies", COLUMNS["cookies.csv"]),
        "storage.csv": _observed(report, "storage", COLUMNS["storage.csv"]),
        "requests.csv": _observed(report, "requests", COLUMNS["requests.csv"]),
        "findings.csv": _findings(report),
    }
    return {name: _to_text(_frame(rows, COLUMNS[name]), sep) for name, rows in sources.items()}
