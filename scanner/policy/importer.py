"""Draft a site declaration from a published cookie-policy page.

`import_declaration(html, source=...)` reads the cookie tables a page already
publishes and returns a dict ready to dump as YAML:

    site:       {name, url}
    categories: [{id, label, essential, purposes}]
    cookies:    [{name, match, provider, category, duration, duration_s, purpose}]
    vendors:    [{name, hosts}]

Three markup families are understood, in this order (a table is read once):
  1. Cookiebot's cookie declaration: div.CookieDeclarationType holding a
     p.CookieDeclarationTypeHeader ("Necessary (5)") and a table.CookieDeclarationTable;
  2. OneTrust's cookie list (#ot-sdk-cookie-policy): one <section> per group with
     h4.ot-sdk-cookie-policy-group and td.ot-host-td / ot-cookies-td / ot-life-span-td;
  3. any other <table> whose header row names a cookie column plus a provider,
     purpose, category or duration column, in English or French.

The result is a draft for a human to review: labels and purposes are copied
from the page, never invented. Page text is handled as text only.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from bs4 import BeautifulSoup, Tag

from ..domains import registrable_domain
from ..durations import parse_duration
from .lint import purposes_for_label

MAX_COOKIES = 5000
MAX_TEXT = 1000

# Header words -> field, checked in this order ("Cookie expiry" is a duration,
# "Cookie type" a category, "Nom du cookie" a name).
HEADER_FIELDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("duration", re.compile(r"durat|expir|lifespan|life span|durée|duree|conservation|retention|validit|"
                            r"max(?:imum)? age|storage period|stockage", re.I)),
    ("purpose", re.compile(r"purpose|finalit|objet|description|usage|utilisation|utilité|rôle|\bbut\b|used for", re.I)),
    ("provider", re.compile(r"provider|fournisseur|éditeur|editeur|émetteur|emetteur|vendor|third.party|\btiers\b|"
                            r"domain|domaine|\bhost|hôte|set by|déposé par|depose par|company|société|service", re.I)),
    ("category", re.compile(r"categor|catégor|\btype\b", re.I)),
    ("name", re.compile(r"cookie|\bname\b|\bnom\b|traceur|tracker|identifi", re.I)),
)
# Cookiebot's fixed column order, used when its headers are in a language we do not map.
COOKIEBOT_COLUMNS = ("name", "provider", "purpose", "duration", "type")
# Cookiebot appends "[x2]" when a cookie is set on two domains: a count, not a wildcard.
COUNT_SUFFIX = re.compile(r"\s*\[x\d+\]\s*$", re.I)
# Placeholders that stand for variable parts of a name: "_ga_#", "_hjSession_*",
# "wistia-[x]", "_ga_<container-id>", "{id}", OneTrust's "_gclxxxx" / "ASPSESSIONIDXXXXXXXX".
WILDCARD = re.compile(r"\*|\[x\]|#|<[^>]*>|\{[^}]*\}|(?:x{3,}|X{3,})$")
DOMAIN = re.compile(r"^\.?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$", re.I)
COOKIE_WORDS = {"cookie", "cookies", "traceur", "traceurs", "tracker", "trackers"}
EDGE_WORDS = {"de", "d", "des", "du", "les", "la", "le", "l", "of", "the", "and", "et"}
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


@dataclass(frozen=True)
class _Row:
    """One line of a cookie table, as text from the page."""
    names: tuple[str, ...]
    provider: str | None
    hosts: tuple[str, ...]
    purpose: str
    durations: tuple[str, ...]  # one per name, or one for all
    category: str               # the label as the page writes it


@dataclass
class _Found:
    rows: list[_Row] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # category labels in page order


def import_declaration(html: str, *, source: str = "") -> dict[str, Any]:
    """Declaration draft (YAML-ready dict) from a cookie-policy page's HTML."""
    soup = BeautifulSoup(html or "", "html.parser")
    found = _Found()
    consumed: set[int] = set()
    for reader in (_read_cookiebot, _read_onetrust, _read_generic_tables):
        reader(soup, found, consumed)
    return _assemble(found, _site(soup, source))


# --- helpers -------------------------------------------------------------------

def _text(node: Tag | None) -> str:
    if node is None:
        return ""
    return " ".join(node.get_text(" ").split())[:MAX_TEXT]


def _lines(node: Tag) -> list[str]:
    """Cell text split at <br> and block boundaries."""
    parts = node.get_text("\n").split("\n")
    return [" ".join(p.split()) for p in parts if p.strip()]


def _clean_label(text: str) -> str:
    """"Necessary (5)" -> "Necessary"."""
    return re.sub(r"\s*\(\s*\d+\s*\)\s*$", "", " ".join(text.split())).strip(" :")[:120]


def slug(label: str) -> str:
    """Category id: ASCII slug without the words "cookies"/"traceurs" and edge stopwords."""
    folded = unicodedata.normalize("NFKD", label)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    words = [w for w in re.findall(r"[a-z0-9]+", folded) if w not in COOKIE_WORDS]
    while words and words[0] in EDGE_WORDS:
        words.pop(0)
    while words and words[-1] in EDGE_WORDS:
        words.pop()
    return "-".join(words) or "unclassified"


def name_and_match(raw: str) -> tuple[str, str] | None:
    """("_ga_", "prefix") for "_ga_#"; ("_ga", "exact") for "_ga"; None when nothing is left."""
    name = COUNT_SUFFIX.sub("", " ".join(raw.split()))
    if not name or len(name) > 200:
        return None
    wild = WILDCARD.search(name)
    if wild:
        prefix = name[:wild.start()]
        return (prefix, "prefix") if prefix else None
    if name.endswith(("_", "-")):
        return name, "prefix"
    return name, "exact"


def _provider(cell: Tag | None) -> tuple[str | None, tuple[str, ...]]:
    """Provider name and the host names a provider cell lists."""
    if cell is None:
        return None, ()
    lines = _lines(cell)
    hosts = tuple(dict.fromkeys(
        re.sub(r"^https?://", "", ln).strip("/").lstrip(".").lower() for ln in lines
        if DOMAIN.match(re.sub(r"^https?://", "", ln).strip("/"))))
    link = cell.find("a")
    name = _text(link) if isinstance(link, Tag) and _text(link) else (lines[0] if lines else "")
    name = re.sub(r"^https?://", "", name).strip("/")
    if DOMAIN.match(name):
        name = name.lstrip(".").lower()
    return (name[:200] or None), hosts


def _split_names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in re.split(r"[,;\n]|\s+/\s+", text) if n.strip())


def _header_map(headers: list[str], *, allow_category: bool = True) -> dict[int, str]:
    columns: dict[int, str] = {}
    for i, header in enumerate(headers):
        for field_name, pattern in HEADER_FIELDS:
            if field_name == "category" and not allow_category:
                continue
            if pattern.search(header) and field_name not in columns.values():
                columns[i] = field_name
                break
    return columns


def _header_and_rows(table: Tag) -> tuple[list[str], list[list[Tag]]]:
    rows = [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]
    header: list[str] = []
    body: list[list[Tag]] = []
    for tr in rows:
        cells = [c for c in tr.find_all(["td", "th"]) if c.find_parent("tr") is tr]
        is_header = (not header and not body and
                     (tr.find_parent("thead") is not None or all(c.name == "th" for c in cells)))
        if is_header:
            header = [_text(c) for c in cells]
        elif cells and any(c.name == "td" for c in cells):
            body.append(cells)
    if not header and body:  # no <th>: the first row is the header
        header, body = [_text(c) for c in body[0]], body[1:]
    return header, body


def _rows_from_table(table: Tag, columns: dict[int, str], default_category: str) -> list[_Row]:
    _, body = _header_and_rows(table)
    rows: list[_Row] = []
    for cells in body:
        by_field = {columns[i]: cell for i, cell in enumerate(cells) if i in columns}
        names = _split_names("\n".join(_lines(by_field["name"]))) if "name" in by_field else ()
        if not names:
            continue
        provider, hosts = _provider(by_field.get("provider"))
        category = _clean_label(_text(by_field.get("category"))) or default_category
        duration = _text(by_field.get("duration"))
        rows.append(_Row(names, provider, hosts, _text(by_field.get("purpose")),
                         (duration,) if duration else (), category))
    return rows


def _add(found: _Found, label: str, rows: list[_Row]) -> None:
    for lab in [label] + [r.category for r in rows]:
        if lab and lab not in found.labels:
            found.labels.append(lab)
    found.rows.extend(rows)


# --- family 1: Cookiebot ----------------------------------------------------------

def _read_cookiebot(soup: BeautifulSoup, found: _Found, consumed: set[int]) -> None:
    for block in soup.select("div.CookieDeclarationType"):
        label = _clean_label(_text(block.select_one(".CookieDeclarationTypeHeader"))) or "Unclassified"
        rows: list[_Row] = []
        for table in block.select("table.CookieDeclarationTable"):
            consumed.add(id(table))
            header, _ = _header_and_rows(table)
            columns = _header_map(header, allow_category=False)
            if "name" not in columns.values():
                columns = dict(enumerate(COOKIEBOT_COLUMNS))
            rows += _rows_from_table(table, columns, label)
        # each row belongs to the block's category, whatever a "Type" column says
        _add(found, label, [_Row(r.names[:1], r.provider, r.hosts, r.purpose, r.durations, label)
                            for r in rows])


# --- family 2: OneTrust -------------------------------------------------------------

OT_CELLS = {"ot-host-td": "provider", "ot-cookies-td": "name", "ot-life-span-td": "duration",
            "ot-cookies-type": "party"}


def _read_onetrust(soup: BeautifulSoup, found: _Found, consumed: set[int]) -> None:
    for heading in soup.select(".ot-sdk-cookie-policy-group"):
        section = heading.find_parent("section") or heading.parent
        if not isinstance(section, Tag):
            continue
        label = _clean_label(_text(heading)) or "Unclassified"
        rows: list[_Row] = []
        for table in section.find_all("table"):
            consumed.add(id(table))
            rows += _onetrust_rows(table, label)
        _add(found, label, rows)


def _onetrust_rows(table: Tag, label: str) -> list[_Row]:
    rows: list[_Row] = []
    for tr in table.find_all("tr"):
        cells: dict[str, Tag] = {}
        for td in tr.find_all("td"):
            for cls in td.get("class") or []:
                if cls in OT_CELLS:
                    cells[OT_CELLS[cls]] = td
        if "name" not in cells:
            continue
        content = cells["name"].select_one(".ot-cookies-td-content") or cells["name"]
        names = _split_names(_text(content))
        if not names:
            continue
        provider, hosts = _provider(cells.get("provider"))
        spans: tuple[str, ...] = ()
        if "duration" in cells:
            span_node = cells["duration"].select_one(".ot-life-span-td-content") or cells["duration"]
            spans = tuple(s.strip() for s in _text(span_node).split(",") if s.strip())
        rows.append(_Row(names, provider, hosts, "", spans, label))
    return rows


# --- family 3: generic tables ---------------------------------------------------------

def _read_generic_tables(soup: BeautifulSoup, found: _Found, consumed: set[int]) -> None:
    for table in soup.find_all("table"):
        if id(table) in consumed:
            continue
        header, _ = _header_and_rows(table)
        columns = _header_map(header)
        if "name" not in columns.values() or len(columns) < 2:
            continue  # not a cookie table (e.g. purposes / legal bases)
        consumed.add(id(table))
        # rows without a category cell take the table's heading, if it names one
        _add(found, "", _rows_from_table(table, columns, _table_category(table) or "Unclassified"))


def _table_category(table: Tag) -> str:
    """Category named by the table's caption or the nearest heading before it, if any."""
    for candidate in (table.find("caption"), table.find_previous(HEADINGS)):
        label = _clean_label(_text(candidate)) if isinstance(candidate, Tag) else ""
        if label and purposes_for_label(label):
            return label
    return ""


# --- output --------------------------------------------------------------------------

def _site(soup: BeautifulSoup, source: str) -> dict[str, Any]:
    title = _text(soup.find("title"))[:200]
    is_url = bool(re.match(r"(?i)https?://", source or ""))
    return {"name": title or source or "unknown", "url": source if is_url else None}


def _durations_for(row: _Row) -> list[str]:
    if len(row.durations) == len(row.names):
        return list(row.durations)
    if len(row.durations) == 1:
        return [row.durations[0]] * len(row.names)
    return [""] * len(row.names)  # counts disagree: do not guess which is which


def _assemble(found: _Found, site: dict[str, Any]) -> dict[str, Any]:
    categories: dict[str, dict[str, Any]] = {}
    for label in found.labels:
        cid = slug(label)
        if cid not in categories:
            purposes = purposes_for_label(label)
            categories[cid] = {"id": cid, "label": label, "essential": purposes == ["necessary"],
                               "purposes": purposes}
    cookies: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str, str]] = set()
    vendors: dict[str, dict[str, Any]] = {}
    for row in found.rows:
        cid = slug(row.category)
        for raw, duration in zip(row.names, _durations_for(row)):
            parsed = name_and_match(raw)
            if parsed is None or len(cookies) >= MAX_COOKIES:
                continue
            name, match = parsed
            key = (name, match, cid, (row.provider or "").lower())
            if key in seen:
                continue
            seen.add(key)
            cookies.append({"name": name, "match": match, "provider": row.provider, "category": cid,
                            "duration": duration or None,
                            "duration_s": parse_duration(duration) if duration else None,
                            "purpose": row.purpose})
        if row.provider:
            # a provider given as a host name is grouped under its registrable domain
            name = registrable_domain(row.provider) if DOMAIN.match(row.provider) else row.provider
            vendor = vendors.setdefault(name.lower(), {"name": name, "hosts": []})
            vendor["hosts"].extend(h for h in row.hosts if h not in vendor["hosts"])
    return {"site": site, "categories": list(categories.values()), "cookies": cookies,
            "vendors": list(vendors.values())}
