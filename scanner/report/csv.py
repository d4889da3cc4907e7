"""cookies.csv, storage.csv: one row per item (with the states it was seen in and on how many
pages); requests.csv: one row per request, state and page; findings.csv: one row per problem,
with its states, cause, legal source and remediation.

Columns are fixed (COLUMNS below, documented in docs/report-format.md) and always
present, in this order. Dates are ISO 8601 in UTC (`2026-07-05T09:00:00Z`), booleans
`yes`/`no`, lists joined with `; `, evidence as `label: value` pairs. Text cells that a
spreadsheet would read as a formula (starting with = + - @, a tab or a carriage return)
get a leading apostrophe. Control characters other than line feed and tab (ESC, BEL, C1,
DEL) and bidi overrides/isolates are written as escapes (\\x1b, \\u202e). Files are written
UTF-8 with a BOM (utf-8-sig) so Excel reads accents; the separator is the caller's (the CLI:
--csv-sep, by default ";" for a French report, else ",").
"""
from __future__ import annotations

import io
import json
from datetime import datetime, timezone
from typing import Any, Iterator

import pandas as pd

from ..classify import consent_mode, url_tracking
from ..redact import escape_controls, redacted
from .matrix import Report, iter_observations

COLUMNS: dict[str, tuple[str, ...]] = {
    "cookies.csv": (
        "name", "domain", "path", "party", "category", "category_source", "declared_as", "vendor", "purpose",
        "states", "pages", "first_page", "set_by", "setter_url", "session", "expires", "lifetime_s",
        "requested_lifetime_s", "secure", "http_only", "same_site", "partitioned", "size", "value_len",
        "value_sha256", "value", "stored", "blocked_reasons",
    ),
    "storage.csv": (
        "kind", "origin", "key", "party", "category", "category_source", "declared_as", "vendor", "purpose",
        "states", "pages", "first_page", "value_len", "value_sha256", "setter_url", "frame_url",
    ),
    "requests.csv": (
        "state", "page_url", "url", "method", "resource_type", "status", "host", "party", "vendor",
        "vendor_category", "category", "country", "tracker", "frame_url", "initiator_type", "initiator_url",
        "redirect_chain", "time_ms", "error", "consent_mode", "pixel", "body_bytes", "identifiers",
    ),
    "findings.csv": (
        "id", "severity", "rule", "title", "states", "subject_kind", "subject_name", "subject_domain",
        "subject_host", "message", "page", "pages", "page_count", "cause", "legal_source", "remediation",
        "why", "evidence", "baseline",
    ),
}
DATE_COLUMNS = {"expires"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CELL_CONTROLS = "\n\t"  # kept in a cell (quoted); every other control character is escaped


def neutralise(value: Any) -> Any:
    """Text a spreadsheet would evaluate gets a leading apostrophe; numbers, booleans, None unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _cell(value: Any) -> Any:
    if value is True or value is False:
        value = "yes" if value else "no"
    elif isinstance(value, (list, tuple)):
        value = "; ".join("" if v is None else str(v) for v in value)
    elif isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    # ESC, BEL, C1 and bidi overrides from a site shown as \x1b, \u202e: a viewer (or `cat`) acts on none
    return neutralise(escape_controls(value, keep=CELL_CONTROLS))


def iso_time(value: Any) -> Any:
    """A Unix time as ISO 8601 UTC; anything else unchanged."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    try:
        return datetime.fromtimestamp(value, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return value


def _inventory(report: Report, key: str, identity: tuple[str, ...], columns: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    """One row per item (`identity` fields, and stored or refused for cookies): the first
    observation's fields, with every state it was seen in and the number of distinct pages."""
    rows: dict[tuple, dict[str, Any]] = {}
    pages: dict[tuple, set] = {}
    for state, page, item in iter_observations(report, key):
        ident = tuple(str(item.get(f)) for f in identity) + ((item.get("stored") is False,) if key == "cookies" else ())
        row = rows.get(ident)
        if row is None:
            row = rows[ident] = {c: item.get(c) for c in columns}
            row.update(states=[], first_page=page.get("url"))
            pages[ident] = set()
        if state not in row["states"]:
            row["states"].append(state)
        pages[ident].add(str(page.get("url")))
    for ident, row in rows.items():
        row["pages"] = len(pages[ident])
        for column in DATE_COLUMNS & set(row):
            row[column] = iso_time(row[column])
        yield row


def _observed(report: Report, key: str, columns: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    for state, page, item in iter_observations(report, key):
        row = {c: item.get(c) for c in columns}
        row["state"], row["page_url"] = state, page.get("url")
        if key == "requests":
            row["redirect_chain"] = " -> ".join(str(u) for u in item.get("redirect_chain") or [])
            # a Google tag's Consent Mode signal in words; empty for a request that carries none
            signal = item.get("consent_mode")
            row["consent_mode"] = consent_mode.describe(signal) if isinstance(signal, dict) else None
            # identifiers handed to a third party in the URL: "gclid (click-id); fbp (cookie-value of _fbp)"
            row["identifiers"] = [url_tracking.describe(i) for i in item.get("identifiers") or [] if isinstance(i, dict)]
        yield row


def _evidence_text(evidence: dict) -> str:
    """'Set by: https://…; Requested lifetime: 2 years (63 072 000 s)' (the report's labels)."""
    from .html import evidence_view
    parts = []
    for key, value in evidence.items():
        if key == "why":
            continue
        view = evidence_view(str(key), value)
        parts.append(f"{view.label}: {view.text}" + (f" ({view.detail})" if view.detail else ""))
    return "; ".join(parts)


def _findings(report: Report) -> Iterator[dict[str, Any]]:
    audits = {a.get("id"): a for a in report.get("audits") or [] if isinstance(a, dict)}
    causes = {c.get("id"): c.get("label") for c in report.get("causes") or [] if isinstance(c, dict)}
    for f in report.get("findings") or []:
        subject = f.get("subject") or {}
        audit = audits.get(f.get("rule")) or {}
        evidence = f.get("evidence") if isinstance(f.get("evidence"), dict) else {}
        pages = [str(p) for p in f.get("pages") or []]
        yield {
            "id": f.get("id"), "severity": f.get("severity"), "rule": f.get("rule"),
            "title": audit.get("title"), "states": f.get("states") or ([f["state"]] if f.get("state") else []),
            "subject_kind": subject.get("kind"), "subject_name": subject.get("name"),
            "subject_domain": subject.get("domain"), "subject_host": subject.get("host"),
            "message": f.get("message"), "page": f.get("page"), "pages": " ".join(pages), "page_count": len(pages),
            "cause": causes.get(f.get("cause")), "legal_source": audit.get("legal_source"),
            "remediation": audit.get("remediation"), "why": evidence.get("why"),
            "evidence": _evidence_text(evidence), "baseline": f.get("baseline"),
        }


def _frame(rows: Iterator[dict[str, Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    # dtype=object keeps integers as integers next to empty cells (no "86400.0").
    records = [[_cell(r.get(c)) for c in columns] for r in rows]
    return pd.DataFrame(records, columns=list(columns), dtype=object)


def _to_text(frame: pd.DataFrame, sep: str) -> str:
    buf = io.StringIO()
    frame.to_csv(buf, sep=sep, index=False, lineterminator="\r\n")
    return buf.getvalue()


def table_rows(report: Report, name: str) -> Iterator[dict[str, Any]]:
    """The rows of one table (`cookies.csv`...) as dicts of COLUMNS[name], before cell formatting
    (report.xlsx writes the same rows)."""
    if name == "cookies.csv":
        return _inventory(report, "cookies", ("name", "domain", "path"), COLUMNS[name])
    if name == "storage.csv":
        return _inventory(report, "storage", ("kind", "origin", "key"), COLUMNS[name])
    if name == "requests.csv":
        return _observed(report, "requests", COLUMNS[name])
    return _findings(report)


def render_csv(report: Report, *, sep: str = ",") -> dict[str, str]:
    """{file name: CSV text}; the caller writes them with encoding utf-8-sig."""
    report = redacted(report)  # also a report.json written before URLs were redacted
    return {name: _to_text(_frame(table_rows(report, name), COLUMNS[name]), sep) for name in COLUMNS}
