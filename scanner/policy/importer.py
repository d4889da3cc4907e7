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
  3. anything else, in page order:
     - a <table> whose header row names a cookie column plus a provider, purpose,
       category or duration column ("Name | Anbieter | Zweck | Speicherdauer");
     - a two-column table of "label | value" rows, one cookie or service per table
       (Borlabs Cookie: "Name", "Anbieter", "Zweck", "Cookie Name", "Cookie Laufzeit");
     - a <dl> (<dt>_ga</dt><dd>Zweck: ... Speicherdauer: 2 Jahre</dd>, or <dt>Name</dt><dd>_ga</dd>
       <dt>Zweck</dt>...) or a <ul>/<ol> with one cookie per item
       ("Name: _ga – Finalidad: ... – Duración: 2 años").
     Column headers and labels are read in English, French, German, Spanish and Italian.
     Rows without a category take the nearest heading before them that names one
     (<h1>-<h6>, <summary>, a <p> or <strong> line standing alone: "Notwendige Cookies",
     "Cookie analitici"), even with paragraphs in between.

Category labels map to standard purposes through the shared vocabulary
(scanner.vocabulary, rules/categories.yaml); a label naming none keeps `purposes: []`
and `essential: false`. The result is a draft for a human to review: labels and
purposes are copied from the page, never invented. Page text is handled as text only.
"""
from __future__ import annotations

import bisect
import dataclasses
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from bs4 import BeautifulSoup, NavigableString, Tag

from ..domains import registrable_domain
from ..durations import parse_duration
from ..vocabulary import fold, purposes_for_label

MAX_COOKIES = 5000
MAX_TEXT = 1000

# Header words -> field, checked in this order ("Cookie expiry" / "Cookie-Laufzeit" is a
# duration, "Cookie type" / "Cookie-Art" a category, "Nom du cookie" / "Cookie-Name" a name).
# Headers are folded first (lower case, accents removed: "Durée" -> "duree", "Gültigkeit" ->
# "gultigkeit"), so the words below are plain ASCII. Every alternative is a literal or a
# bounded word: no backtracking on long cells.
HEADER_FIELDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("duration", re.compile(
        r"durat|durac|duree|expir|lifespan|life span|conserva|retention|validit|max(?:imum)? age|"
        r"storage period|stockage|"
        r"dauer|laufzeit|ablauf|gultig|speicherzeit|speicherfrist|verfall|"   # DE (Speicherdauer, Laufzeit)
        r"caduc|vencim|vigencia|plazo|"                                      # ES (Caducidad, Plazo de conservación)
        r"scaden|persistenz")),                                              # IT (Scadenza, Durata)
    ("purpose", re.compile(
        r"purpose|finalit|finalidad|objet|descri|usage|utilisation|utilite|\brole\b|\bbut\b|used for|"
        r"\bfunction\b|\bfonction\b|"
        r"zweck|beschreib|verwendung|\bfunktion\b|"                        # DE (Verwendungszweck, Beschreibung)
        r"proposito|\buso\b|\bfuncion\b|"                                 # ES (Finalidad, Propósito, Descripción)
        r"\bscopo\b|utilizzo|\bfunzione\b")),                             # IT (Finalità, Scopo, Descrizione)
    ("provider", re.compile(
        r"provider|fournisseur|editeur|emetteur|vendor|third.party|\btiers\b|domain|domaine|\bhost|hote|"
        r"set by|depose par|company|societe|service|"
        r"anbieter|herausgeber|\bdienst|gesetzt von|unternehmen|"           # DE (Anbieter, Domain)
        r"proveedor|titular|dominio|servicio|empresa|"                      # ES
        r"fornitore|titolare|servizio|emittente|\bsocieta\b")),             # IT
    ("category", re.compile(r"categor|kategor|\btype\b|\btyp\b|\btipo\b|tipologia|\bart\b")),
    ("name", re.compile(r"cookie|\bname\b|\bnom\b|traceur|tracker|identifi|"
                        r"bezeichnung|\bnombre\b|\bnome\b")),
)
# A name header that says "cookie" ("Cookie Name", "Nom du cookie") wins over a bare "Name":
# in Borlabs Cookie's lists "Name" is the service ("Google Analytics"), "Cookie Name" the cookies.
COOKIE_NAME_WORD = re.compile(r"cookie|traceur|tracker")
# A "Type"/"Typ"/"Tipo" column that gives the party or storage kind, not a category.
NOT_A_CATEGORY = frozenset(fold(w) for w in (
    "http", "https", "html", "pixel", "html local storage", "local storage", "session storage", "indexeddb",
    "first party", "first-party", "1st party", "third party", "third-party", "3rd party",
    "propia", "propias", "propio", "tercero", "terceros", "de terceros", "prima parte", "terza parte",
    "terze parti", "di terze parti", "erstanbieter", "drittanbieter", "persistent", "persistente",
    "session", "sesion", "sessione", "sitzung", "tiers", "interne", "externe"))
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
    for reader in (_read_cookiebot, _read_onetrust, _read_generic):
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


def _field_of(label: str, *, allow_category: bool = True, taken: Any = (),
              weak_name: bool = True) -> str | None:
    """The field a column header or list label names, or None ("Speicherdauer" -> "duration")."""
    folded = fold(label)
    for field_name, pattern in HEADER_FIELDS:
        if field_name in taken or (field_name == "category" and not allow_category):
            continue
        if field_name == "name" and not weak_name and not COOKIE_NAME_WORD.search(folded):
            continue
        if pattern.search(folded):
            return field_name
    return None


def _header_map(headers: list[str], *, allow_category: bool = True) -> dict[int, str]:
    columns: dict[int, str] = {}
    # "Cookie Name" beside a bare "Name" (the service): the cookie column is the name
    strong_name = any(_field_of(h, allow_category=allow_category) == "name" and COOKIE_NAME_WORD.search(fold(h))
                      for h in headers)
    for i, header in enumerate(headers):
        field_name = _field_of(header, allow_category=allow_category, taken=set(columns.values()),
                               weak_name=not strong_name)
        if field_name:
            columns[i] = field_name
    return columns


def _in_thead(tr: Tag, table: Tag) -> bool:
    """Whether the row sits in the table's <thead> (looks no higher than the table itself)."""
    node = tr.parent
    while node is not None and node is not table:
        if node.name == "thead":
            return True
        node = node.parent
    return False


def _header_and_rows(table: Tag) -> tuple[list[str], list[list[Tag]]]:
    rows = [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]
    header: list[str] = []
    body: list[list[Tag]] = []
    for tr in rows:
        cells = [c for c in tr.find_all(["td", "th"]) if c.find_parent("tr") is tr]
        is_header = (not header and not body and
                     (_in_thead(tr, table) or all(c.name == "th" for c in cells)))
        if is_header:
            header = [_text(c) for c in cells]
        elif cells and any(c.name == "td" for c in cells):
            body.append(cells)
    if not header and body:  # no <th>: the first row is the header
        header, body = [_text(c) for c in body[0]], body[1:]
    return header, body


def _category_value(text: str) -> str:
    """A category cell's label; "" when it gives the party or storage kind ("Third party", "HTTP")."""
    label = _clean_label(text)
    return "" if fold(label) in NOT_A_CATEGORY else label


def _rows_from_table(table: Tag, columns: dict[int, str], default_category: str) -> list[_Row]:
    _, body = _header_and_rows(table)
    rows: list[_Row] = []
    for cells in body:
        by_field = {columns[i]: cell for i, cell in enumerate(cells) if i in columns}
        names = _split_names("\n".join(_lines(by_field["name"]))) if "name" in by_field else ()
        if not names:
            continue
        provider, hosts = _provider(by_field.get("provider"))
        category = _category_value(_text(by_field.get("category"))) or default_category
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


# --- family 3: generic tables, definition lists and cookie lists -------------------------

MAX_CONTAINERS = 2000  # tables and lists examined per page
MAX_HEADINGS_BACK = 60  # headings looked at, walking back from a table or list
LABEL_MAX = 40          # characters of a "Speicherdauer:" label
MAX_LABELS = 40         # labels read per line
BLOCK_TAGS = frozenset(("p", "div", "li", "dd", "dt", "ul", "ol", "dl", "tr", "td", "th", "table", "section",
                        "article", "br", "summary", "details", "blockquote", "header", "footer", "h1", "h2", "h3",
                        "h4", "h5", "h6", "hr"))
# Where a <p> or <strong> is a field or a cell, never a category heading.
NOT_HEADING_CONTEXT = frozenset(("td", "th", "li", "dd", "dt", "a", "button", "label", "caption", "nav",
                                 "script", "style", "template", "option", "select", "textarea"))
LIST_TAGS = ("table", "dl", "ul", "ol")
# What ends a value and may start a label: "… – Zweck: …", "…; Duración: …", "…. Durata: …", "…, Anbieter: …".
LABEL_SEPARATOR = re.compile(r"[–—|;•·,]|\s-\s|[.!?]\s")
TRIM_CHARS = " \t–—|;•·,"
SECTION_NUMBER = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3}){0,4}\.?|[IVX]{1,5}\.|[a-z]\))\s+")


@dataclass(frozen=True)
class _Heading:
    pos: int
    label: str
    level: int  # 1-6 for <h1>-<h6>, 7 <summary>/<legend>, 8 a <p>/<strong> line standing alone
    purposes: tuple[str, ...]


def _short_text(node: Tag, limit: int) -> str | None:
    """The node's text, or None when it is longer than `limit` or holds too many elements
    (stops reading early: a heading is short and shallow)."""
    parts: list[str] = []
    size = 0
    for count, el in enumerate(node.descendants):
        if count > 200:
            return None
        if type(el) is NavigableString:
            parts.append(el)
            size += len(el)
            if size > limit * 4:  # whitespace is collapsed below; a generous bound before that
                return None
    text = " ".join("".join(parts).split())
    return text if len(text) <= limit else None


def _meaningful_siblings(node: Tag) -> tuple[Any, Any]:
    """First non-blank sibling before and after the node."""
    def skip_blank(siblings: Any) -> Any:
        for sib in siblings:
            if isinstance(sib, NavigableString) and not sib.strip():
                continue
            return sib
        return None
    return skip_blank(node.previous_siblings), skip_blank(node.next_siblings)


def _heading_label(text: str) -> str:
    """"3.2 Analyse-Cookies (4)" -> "Analyse-Cookies"."""
    return _clean_label(SECTION_NUMBER.sub("", text))


def _heading_like(node: Tag, in_context: bool) -> tuple[str, int] | None:
    """(label, level) when the node reads as a section heading."""
    name = node.name
    if name in HEADINGS:
        text = _short_text(node, 200)
        return (_heading_label(text), int(name[1])) if text else None
    if name in ("summary", "legend"):
        text = _short_text(node, 200)
        return (_heading_label(text), 7) if text else None
    if in_context or name not in ("p", "strong", "b"):
        return None
    text = _short_text(node, 120)
    if not text or text.endswith((".", "!", "?", ";", ",")):
        return None
    words = len(text.split())
    if name == "p":
        emphasised = _short_text_of(node.find_all(["strong", "b"], recursive=False)) == text
        if (emphasised and words <= 10) or (words <= 5 and not text.endswith(":")):
            return _heading_label(text), 8
        return None
    # <strong>/<b>: the first thing in its block, followed by nothing or a line break
    parent = node.parent
    before, after = _meaningful_siblings(node)
    if not isinstance(parent, Tag) or before is not None or words > 8:
        return None
    if after is None:
        return None if parent.name == "p" else (_heading_label(text), 8)  # a <p> like that is read as the <p>
    return (_heading_label(text), 8) if isinstance(after, Tag) and after.name == "br" else None


def _short_text_of(nodes: list[Tag]) -> str:
    return " ".join(" ".join(n.get_text(" ").split()) for n in nodes[:5])


def _scan(soup: BeautifulSoup) -> tuple[list[_Heading], list[tuple[int, Tag]]]:
    """Heading-like elements and tables/lists, in page order (one pass, no recursion)."""
    headings: list[_Heading] = []
    containers: list[tuple[int, Tag]] = []
    stack: list[tuple[Tag, bool]] = [(soup, False)]
    pos = 0
    while stack:
        node, in_context = stack.pop()
        pos += 1
        if node.name in LIST_TAGS and len(containers) < MAX_CONTAINERS:
            containers.append((pos, node))
        found = _heading_like(node, in_context)
        if found and found[0]:
            label, level = found
            headings.append(_Heading(pos, label, level, tuple(purposes_for_label(label))))
        inner = in_context or node.name in NOT_HEADING_CONTEXT
        stack.extend((child, inner) for child in reversed(node.contents) if isinstance(child, Tag))
    return headings, containers


def _heading_for(headings: list[_Heading], positions: list[int], pos: int) -> tuple[_Heading | None, _Heading | None]:
    """(heading naming a category, nearest heading) before `pos`.

    Walking back, the nearest heading that names a purpose wins; a heading that names none
    ("Google Analytics", "Autres traceurs") lets only a higher-level one through after it, so
    a service heading under "Statistik" still finds "Statistik", while a section heading does
    not borrow the category of the section before it.
    """
    idx = bisect.bisect_left(positions, pos)
    nearest: _Heading | None = None
    limit = 99
    for heading in reversed(headings[max(0, idx - MAX_HEADINGS_BACK):idx]):
        if heading.level >= limit:
            continue
        if heading.purposes:
            return heading, nearest
        nearest = nearest or heading
        limit = heading.level
    return None, nearest


def _caption_category(table: Tag) -> str:
    caption = table.find("caption")
    label = _clean_label(_text(caption)) if isinstance(caption, Tag) else ""
    return label if label and purposes_for_label(label) else ""


# -- labelled text: "Name: _ga – Zweck: … – Speicherdauer: 2 Jahre"

# A cookie name, not a label: "cookie_consent", "CookieConsent", "_ga4", "cookielawinfo-checkbox".
NOT_A_LABEL = re.compile(r"[_\d=.@/]|[a-z][A-Z]")


def _label_field(label: str, *, strict: bool = False) -> tuple[str, bool] | None:
    """(field, names the cookie explicitly) for a short label such as "Speicherdauer" or "Cookie-Name".

    `strict` (a <dt> or the first cell of a two-column table, which may as well be a cookie's
    name): the label must also start with a capital letter.
    """
    label = label.strip().rstrip(":").strip()
    if not label or len(label) > LABEL_MAX or len(label.split()) > 4 or NOT_A_LABEL.search(label):
        return None
    if strict and not label[0].isupper():
        return None
    field_name = _field_of(label)
    if field_name is None:
        return None
    return field_name, bool(COOKIE_NAME_WORD.search(fold(label)))


def _trim(value: str) -> str:
    value = value.strip()
    while True:
        trimmed = value.rstrip(TRIM_CHARS).rstrip()
        if trimmed.endswith(" -"):
            trimmed = trimmed[:-2].rstrip()
        trimmed = trimmed.lstrip(TRIM_CHARS + ")").lstrip()
        if trimmed.startswith("- "):
            trimmed = trimmed[2:].lstrip()
        if trimmed == value:
            return value
        value = trimmed


_Segment = tuple[str, str | None, bool, str]  # (kind: field|text|title|break, field, explicit name, value)


def _segments(line: str) -> list[_Segment]:
    """A line cut at its labels: [("text", None, False, lead), ("field", "purpose", False, "…"), …]."""
    line = line[:MAX_TEXT * 2]
    cuts: list[tuple[int, int, str, bool]] = []  # (label start, value start, field, explicit name)
    value_start = 0
    colon = line.find(":")
    while colon != -1 and len(cuts) < MAX_LABELS:
        low = max(value_start, colon - LABEL_MAX)
        window = line[low:colon]
        separators = list(LABEL_SEPARATOR.finditer(window))
        found: tuple[int, tuple[str, bool]] | None = None
        if separators or low == 0:
            start = low + (separators[-1].end() if separators else 0)
            field_info = _label_field(line[start:colon])
            if field_info:
                found = (start, field_info)
        if found is None:
            # "Zweck: Statistik Speicherdauer: 2 Jahre": a single capitalised label word
            words = window.rstrip().rsplit(None, 1)
            word = words[-1] if words else ""
            field_info = _label_field(word) if word[:1].isupper() else None
            if field_info and (len(words) > 1 or low == value_start):
                found = (colon - len(window) + len(window.rstrip()) - len(word), field_info)
        if found:
            start, (field_name, explicit) = found
            cuts.append((start, colon + 1, field_name, explicit))
            value_start = colon + 1
        colon = line.find(":", colon + 1)
    out: list[_Segment] = []
    lead = _trim(line[:cuts[0][0]] if cuts else line)
    if lead:
        out.append(("text", None, False, lead))
    for k, (_, begin, field_name, explicit) in enumerate(cuts):
        end = cuts[k + 1][0] if k + 1 < len(cuts) else len(line)
        out.append(("field", field_name, explicit, _trim(line[begin:end])))
    return out


def _block_lines(node: Tag) -> list[str]:
    """Text split at <br> and block elements only (inline <strong>/<em>/<a> stay in the line)."""
    parts: list[str] = []
    size = 0
    for el in node.descendants:
        if isinstance(el, NavigableString):
            if type(el) is not NavigableString or (el.parent is not None and el.parent.name in ("script", "style")):
                continue  # comments, doctype, CDATA, scripts
            parts.append(str(el))
            size += len(el)
            if size > MAX_TEXT * 8:
                break
        elif el.name in BLOCK_TAGS:
            parts.append("\n")
    return [" ".join(part.split()) for part in "".join(parts).split("\n") if part.strip()][:200]


def _is_cookie_name(name: str) -> bool:
    return (0 < len(name) <= 100 and not any(c.isspace() for c in name) and "://" not in name
            and not name.lower().startswith("www.") and not name.endswith(":"))


def _list_names(text: str) -> tuple[str, ...]:
    names = _split_names(text)
    return names if names and all(_is_cookie_name(n) for n in names) else ()


def _records(segments: list[_Segment]) -> list[dict[str, Any]]:
    """Group labelled segments into one dict per cookie (a repeated label starts the next one)."""
    records: list[dict[str, Any]] = []
    current: dict[str, Any] = {}

    def flush() -> None:
        nonlocal current
        if current and len(records) < MAX_COOKIES:
            records.append(current)
        current = {}

    for kind, field_name, explicit, value in segments:
        if kind == "break":
            flush()
        elif kind == "title":
            flush()
            current["title"] = value
        elif kind == "text":
            if not value:
                continue
            pending = current.pop("pending", None)
            if pending:  # "Name:" then "_ga" on the next line
                current[pending] = value
                continue
            head, sep, rest = value.partition(": ")
            if not current and sep and _is_cookie_name(head):  # "_ga: distinguishes users"
                current["title"], value = head, rest
            elif not current and _list_names(value):
                current["title"] = value
                continue
            current["text"] = (current.get("text", "") + " " + value).strip()[:MAX_TEXT]
        else:
            assert field_name is not None
            if field_name == "name" and "name" in current:
                if explicit and not current.get("explicit"):  # Borlabs: "Name" (service), then "Cookie Name"
                    current["service"] = current.pop("name")
                else:
                    flush()
            elif field_name in current:
                flush()
            current.pop("pending", None)
            if field_name == "name":
                current["explicit"] = explicit
            if value:
                current[field_name] = value[:MAX_TEXT]
            else:
                current["pending"] = field_name
                current.setdefault(field_name, "")
    flush()
    return records


def _provider_text(text: str) -> tuple[str | None, tuple[str, ...]]:
    """Provider name and host names from "Google Ireland Limited, Gordon House, …" or "vimeo.com"."""
    parts = [re.sub(r"^https?://", "", p.strip()).strip("/") for p in re.split(r"[,;\n]", text) if p.strip()]
    hosts = tuple(dict.fromkeys(p.lstrip(".").lower() for p in parts if DOMAIN.match(p)))
    name = parts[0] if parts else ""
    if DOMAIN.match(name):
        name = name.lstrip(".").lower()
    return (name[:200] or None), hosts


def _rows_from_records(records: list[dict[str, Any]]) -> list[_Row]:
    rows: list[_Row] = []
    for rec in records:
        names = _list_names(rec.get("name", "")) or _list_names(rec.get("title", ""))
        labelled = [f for f in ("purpose", "duration", "provider", "category") if rec.get(f)]
        if not names or not labelled:
            continue  # not a cookie, or nothing recognisable said about it
        provider, hosts = _provider_text(rec.get("provider", "")) if rec.get("provider") else (None, ())
        duration = " ".join(rec.get("duration", "").split())[:MAX_TEXT].rstrip(".")
        purpose = " ".join((rec.get("purpose") or rec.get("text") or "").split())[:MAX_TEXT]
        rows.append(_Row(names, provider, hosts, purpose, (duration,) if duration else (),
                         _category_value(rec.get("category", ""))))
    return rows


def _list_segments(container: Tag) -> list[_Segment]:
    segments: list[_Segment] = []
    if container.name == "dl":
        pending: tuple[str, bool] | None = None
        for item in container.find_all(["dt", "dd"])[:MAX_COOKIES * 4]:
            if item.find_parent("dl") is not container:
                continue  # a nested list reads its own items
            if item.name == "dt":
                text = _text(item)
                pending = _label_field(text, strict=True)
                if pending is None:
                    segments.append(("title", None, False, text))
            elif pending is not None:  # <dt>Zweck</dt><dd>…</dd>
                lines = _block_lines(item)
                joined = ("\n" if pending[0] in ("name", "provider") else " ").join(lines)
                segments.append(("field", pending[0], pending[1], joined))
                pending = None
            else:
                for line in _block_lines(item):
                    segments.extend(_segments(line))
    else:
        for item in container.find_all("li", recursive=False)[:MAX_COOKIES]:
            segments.append(("break", None, False, ""))
            for line in _block_lines(item):
                segments.extend(_segments(line))
    return segments


def _vertical_table_segments(table: Tag) -> list[_Segment]:
    """Two-column "label | value" tables (Borlabs Cookie): one segment per recognised row."""
    segments: list[_Segment] = []
    for tr in table.find_all("tr")[:MAX_COOKIES]:
        if tr.find_parent("table") is not table:
            continue
        cells = [c for c in tr.find_all(["td", "th"]) if c.find_parent("tr") is tr]
        if len(cells) != 2:
            continue
        field_info = _label_field(_text(cells[0]), strict=True)
        if field_info:
            joined = "\n".join(_lines(cells[1])) if field_info[0] in ("name", "provider") else _text(cells[1])
            segments.append(("field", field_info[0], field_info[1], joined))
    return segments


def _container_rows(container: Tag) -> tuple[list[_Row], str]:
    """Rows a table or list gives (category "" when it names none), and the table's caption category."""
    if container.name == "table":
        header, _ = _header_and_rows(container)
        columns = _header_map(header)
        if "name" in columns.values() and len(columns) >= 2:
            return _rows_from_table(container, columns, ""), _caption_category(container)
        return _rows_from_records(_records(_vertical_table_segments(container))), _caption_category(container)
    return _rows_from_records(_records(_list_segments(container))), ""


def _read_generic(soup: BeautifulSoup, found: _Found, consumed: set[int]) -> None:
    headings, containers = _scan(soup)
    positions = [h.pos for h in headings]
    skip = set(consumed)
    read: list[tuple[list[_Row], str, _Heading | None, _Heading | None]] = []
    for pos, container in containers:
        if id(container) in skip:
            for inner in container.find_all(LIST_TAGS):  # inside a table another reader took
                skip.add(id(inner))
            continue
        rows, caption = _container_rows(container)
        if not rows:
            continue  # not a cookie table or list (e.g. purposes / legal bases, navigation)
        consumed.add(id(container))
        for inner in container.find_all(LIST_TAGS):
            skip.add(id(inner))
        named, nearest = _heading_for(headings, positions, pos)
        read.append((rows, caption, named, nearest))
    # A heading naming no purpose ("Sonstige Cookies") is still a category when it sits at the
    # level of the headings that do name one on this page (real headings only: a short <p>
    # such as "Stand: März 2024" is not trusted unless it names a purpose).
    category_levels = {named.level for _, _, named, _ in read if named is not None and named.level <= 7}
    for rows, caption, named, nearest in read:
        default = caption or (named.label if named else "")
        if not default and nearest is not None and nearest.level in category_levels:
            default = nearest.label
        default = default or "Unclassified"
        _add(found, "", [r if r.category else dataclasses.replace(r, category=default) for r in rows])


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
