"""Models shared by the human-facing renderers (HTML and Markdown).

Everything here is computed from a report.json dict alone:

* `build_matrix`: the consent matrix, one row per cookie (name + domain),
  storage key (kind + origin + key) or tracker vendor, one column per consent
  state, each cell judged allowed / not allowed / warning / absent / not reached;
* `cookie_items`, `storage_items`, `host_rows`: inventories aggregated over
  states and pages;
* `check_declaration`: declared vs observed;
* `proposed_declaration`: a cookie table ready to paste into a cookie policy;
* small formatting helpers (`human_duration`, `state_label`, `severity_counts`).

Strings taken from the report are returned as they are (never pre-escaped):
each renderer escapes for its own output format.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from .. import consent_states
from ..judgement import ConsentModel, judge, known_category
from ..audits.checks import script_name

Report = dict[str, Any]

SEVERITIES = ("violation", "warning", "info")
# The consent categories of the contract. Requests may carry a vendor type instead
# ("video", "tag-manager", "cdn"...): such rows are shown, but not judged.
CONSENT_CATEGORIES = ("necessary", "preferences", "analytics", "marketing", "media", "unknown")
# Matrix row kinds, in the order shown: cookies, storage, vendors contacted, tracking pixels and
# beacons, fingerprinting scripts, outgoing links decorated with identifiers.
ROW_KINDS = ("cookie", "storage", "vendor", "pixel", "script", "link")
# Cell statuses, worst first.
STATUS_ORDER = ("not-allowed", "warning", "present", "allowed", "absent", "not-reached")


# --------------------------------------------------------------------------- helpers

def _fallback_format_duration(seconds: int) -> str:
    """Same units as scanner/durations.py: month = 30 days, year = 365 days."""
    day, month, year = 86_400, 30 * 86_400, 365 * 86_400
    for unit, word, minimum in ((year, "year", year), (month, "month", 12 * month)):
        n = round(seconds / unit)
        if seconds >= minimum * 0.998 and abs(seconds - n * unit) <= 0.002 * seconds:
            return f"{n} {word}{'' if n == 1 else 's'}"
    if seconds >= 2 * day:
        n = round(seconds / day)
        return f"{n} days"
    if seconds >= 7200 or seconds % 3600 == 0:
        return f"{round(seconds / 3600)} h"
    if seconds >= 120 or seconds % 60 == 0:
        return f"{round(seconds / 60)} min"
    return f"{seconds} s"


try:  # written concurrently by another helper; same units, preferred when present
    from scanner.durations import format_duration as _format_duration
except ImportError:  # pragma: no cover - depends on the checkout
    _format_duration = None


def human_duration(seconds: Any, *, session: bool = False, lang: str = "en") -> str:
    """"session", "2 years", "13 months", "90 days", "30 min"; "—" when unknown; `lang` "fr": "2 ans"."""
    text = _english_duration(seconds, session=session)
    if lang == "en":
        return text
    from .i18n import translator
    return translator(lang).duration(text)


def _english_duration(seconds: Any, *, session: bool = False) -> str:
    if session:
        return "session"
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        return "—"
    value = int(seconds)
    if value < 0:
        return "expired"
    if value == 0:
        return "0 s"
    if _format_duration is not None:
        return str(_format_duration(value))
    return _fallback_format_duration(value)


def category_labels(report: Report) -> dict[str, str]:
    """Category id -> label ("analytics" -> "Analytics cookies"): the declaration's, and those the
    consent manager offered that the declaration lacks ("video" -> "Videos")."""
    model = ConsentModel.from_report(report)
    return {cid: model.label(cid) for cid in model.categories}


def state_label(state: str, report: Report | None = None, *, lang: str = "en") -> str:
    """"Reject all", "Only “Marketing cookies”" (the declaration's label of the category); `lang` "fr": French."""
    category = consent_states.only_category(state)
    category_label = category_labels(report or {}).get(category) if category else None
    if lang == "en":
        return consent_states.label(state, category_label)
    from .i18n import translator
    return translator(lang).state_label(state, category_label)


def state_hint(state: str, *, lang: str = "en") -> str:
    if lang == "en":
        return consent_states.hint(state)
    from .i18n import translator
    return translator(lang).state_hint(state)


def severity_counts(report: Report) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in report.get("findings") or []:
        sev = f.get("severity")
        if sev in counts:
            counts[sev] += 1
    return counts


def sorted_findings(report: Report, findings: list[dict] | None = None) -> list[dict]:
    """Severity (violations first), then audit order, state order, subject name."""
    if findings is None:
        findings = [f for f in report.get("findings") or [] if isinstance(f, dict)]
    audits = {str(a.get("id")): i for i, a in enumerate(report.get("audits") or []) if isinstance(a, dict)}
    states = {str(s["state"]): i for i, s in enumerate(states_in_order(report))}
    return sorted(findings, key=lambda f: (
        SEVERITIES.index(f["severity"]) if f.get("severity") in SEVERITIES else len(SEVERITIES),
        audits.get(str(f.get("rule")), len(audits)), str(f.get("rule")),
        states.get(str(f.get("state")), -1), str((f.get("subject") or {}).get("name")).lower(), str(f.get("id"))))


def states_in_order(report: Report) -> list[dict[str, Any]]:
    return [s for s in report.get("states") or [] if isinstance(s, dict) and s.get("state")]


def iter_observations(report: Report, key: str) -> Iterator[tuple[str, dict, dict]]:
    """(state name, page, item) for every cookie / storage item / request of every page."""
    for st in states_in_order(report):
        for page in st.get("pages") or []:
            for item in page.get(key) or []:
                if isinstance(item, dict):
                    yield str(st["state"]), page, item


def _text(value: Any) -> str:
    return "" if value is None else str(value)


# --------------------------------------------------------------------------- matrix

def _purposes(report: Report) -> dict[str, set[str]]:
    model = ConsentModel.from_report(report)
    return {cid: set(model.purposes(cid)) for cid in model.categories}


@dataclass(frozen=True)
class Column:
    state: str
    label: str
    hint: str
    reached: bool
    error: str | None


@dataclass
class Cell:
    status: str
    count: int = 0
    pages: list[str] = field(default_factory=list)
    reason: str = ""   # the judgement's reason (scanner.judgement), shown on hover

    @property
    def present(self) -> bool:
        return self.count > 0


@dataclass
class Row:
    kind: str  # one of ROW_KINDS
    name: str
    scope: str  # cookie domain, storage origin, the vendor's hosts, or the pixel's, script's or link's host
    detail: str  # storage kind; a pixel's resource type (image, ping); a link's parameters; else ""
    category: str
    category_source: str
    vendor: str | None
    declared_as: str | None
    party: str
    cells: list[Cell]

    @property
    def worst(self) -> str:
        return min((c.status for c in self.cells), key=STATUS_ORDER.index, default="absent")


@dataclass
class Matrix:
    columns: list[Column]
    rows: list[Row]

    def rows_of(self, kind: str) -> list[Row]:
        return [r for r in self.rows if r.kind == kind]

    @property
    def problem_rows(self) -> list[Row]:
        return [r for r in self.rows if r.worst in ("not-allowed", "warning")]


@dataclass
class _Acc:
    kind: str
    name: str
    scope: str
    detail: str
    category: str = "unknown"
    category_source: str = "unknown"
    vendor: str | None = None
    declared_as: str | None = None
    party: str = ""
    hosts: set[str] = field(default_factory=set)
    seen: dict[str, list[str]] = field(default_factory=dict)  # state -> pages
    status: dict[str, str] = field(default_factory=dict)  # state -> worst judgement of its items
    reasons: dict[str, str] = field(default_factory=dict)  # state -> why (the worst item's reason)
    rank: dict[str, tuple[int, int]] = field(default_factory=dict)
    tracked: set[str] = field(default_factory=set)  # vendor rows: states with a tracker request


def request_category(r: dict) -> str:
    """The consent category of a request: `category`, else `vendor_category`; a tracker without one is unknown."""
    for value in (r.get("category"), r.get("vendor_category")):
        if value in CONSENT_CATEGORIES and value != "unknown":
            return str(value)
    if r.get("tracker"):
        return "unknown"
    return _text(r.get("category") or r.get("vendor_category") or "unknown")


# Several items make one cell (a vendor's requests, a cookie on several pages): the worst judged
# status wins; a request that is not judged (a loader, a stylesheet) never hides one that is.
def _merge_rank(status: str, judged: bool) -> tuple[int, int]:
    if judged:
        return 0, ("not-allowed", "warning", "allowed").index(status)
    return 1, ("present", "allowed").index(status)


def _accumulate(acc: dict[tuple, _Acc], key: tuple, kind: str, name: str, scope: str, detail: str,
                state: str, page_url: str, item: dict, model: ConsentModel) -> _Acc:
    row = acc.get(key)
    if row is None:
        row = acc[key] = _Acc(kind, name, scope, detail,
                              category=_text(item.get("category") or "unknown"),
                              category_source=_text(item.get("category_source") or "unknown"),
                              vendor=item.get("vendor"), declared_as=item.get("declared_as"),
                              party=_text(item.get("party")))
    pages = row.seen.setdefault(state, [])
    if page_url not in pages:
        pages.append(page_url)
    verdict = judge("request" if kind in ("vendor", "pixel") else kind, item, state, model)
    rank = _merge_rank(verdict.status, verdict.judged)
    if state not in row.rank or rank < row.rank[state]:
        row.rank[state] = rank
        row.status[state] = verdict.status
        row.reasons[state] = verdict.reason
    return row


def build_matrix(report: Report) -> Matrix:
    """Every cell is judged by scanner.judgement.judge, as the audits are: red where an item is
    present that the state does not allow, amber where it may not be, for the reason given."""
    states = states_in_order(report)
    model = ConsentModel.from_report(report)
    columns = [Column(str(s["state"]), state_label(str(s["state"]), report), state_hint(str(s["state"])),
                      bool(s.get("reached")), s.get("error")) for s in states]
    acc: dict[tuple, _Acc] = {}
    for state, page, c in iter_observations(report, "cookies"):
        if c.get("stored") is False:
            continue  # refused by the browser: never present
        name, domain = _text(c.get("name")), _text(c.get("domain"))
        _accumulate(acc, ("cookie", name, domain), "cookie", name, domain, "", state, _text(page.get("url")), c, model)
    for state, page, s in iter_observations(report, "storage"):
        kind, origin, key = _text(s.get("kind")), _text(s.get("origin")), _text(s.get("key"))
        _accumulate(acc, ("storage", kind, origin, key), "storage", key, origin, kind, state,
                    _text(page.get("url")), s, model)
    for state, page, r in iter_observations(report, "requests"):
        if r.get("pixel") and r.get("party") == "third":   # tracking pixels and beacons: rows of their own
            label = _text(r.get("vendor") or r.get("host"))
            row = _accumulate(acc, ("pixel", label), "pixel", label, _text(r.get("host")), _text(r.get("resource_type")),
                              state, _text(page.get("url")), r, model)
            row.category = request_category(r)
            continue
        if not (r.get("vendor") or r.get("tracker") or r.get("embed") or (r.get("identifiers") and r.get("party") == "third")):
            continue
        label = _text(r.get("vendor") or r.get("host"))
        row = _accumulate(acc, ("vendor", label), "vendor", label, "", "", state, _text(page.get("url")), r, model)
        if r.get("tracker"):
            if not row.tracked:  # the first tracker request decides the row's category
                row.category = request_category(r)
            row.tracked.add(state)
        elif not row.tracked and row.category not in CONSENT_CATEGORIES:
            row.category = request_category(r)
        row.category_source = "vendor"
        if r.get("declared_as"):
            row.declared_as = r.get("declared_as")
        if r.get("host"):
            row.hosts.add(_text(r.get("host")))
    for state, page, script in iter_observations(report, "fingerprinting"):
        if not script.get("fingerprinting"):
            continue   # a few device reads: listed on the page, not judged
        name = _text(script_name(_text(script.get("script"))))
        row = _accumulate(acc, ("script", name), "script", name, _text(script.get("host")), "", state,
                          _text(page.get("url")), script, model)
        row.category = _text(script.get("category") or "unknown")
    for state, page, link in iter_observations(report, "decorated_links"):
        name = _text(link.get("vendor") or link.get("host"))
        params = ", ".join(_text(i.get("param")) for i in link.get("identifiers") or [] if isinstance(i, dict))
        row = _accumulate(acc, ("link", name), "link", name, _text(link.get("host")), "", state,
                          _text(page.get("url")), link, model)
        row.detail = params if not row.detail else ", ".join(dict.fromkeys(row.detail.split(", ") + params.split(", ")))
        purposes = [i.get("purpose") for i in link.get("identifiers") or [] if isinstance(i, dict)]
        row.category = next((str(p) for p in purposes if p in CONSENT_CATEGORIES), "unknown")

    rows: list[Row] = []
    for a in acc.values():
        cells = []
        for col in columns:
            pages = a.seen.get(col.state, [])
            if not col.reached:
                status = "not-reached"
            elif not pages:
                status = "absent"
            else:
                status = a.status[col.state]
            cells.append(Cell(status, len(pages), pages, a.reasons.get(col.state, "") if pages else ""))
        scope = ", ".join(sorted(a.hosts)) if a.kind == "vendor" else a.scope
        rows.append(Row(a.kind, a.name, scope, a.detail, a.category, a.category_source, a.vendor,
                        a.declared_as, a.party, cells))
    kinds = ROW_KINDS
    rows.sort(key=lambda r: (kinds.index(r.kind), STATUS_ORDER.index(r.worst), r.name.lower(), r.scope))
    return Matrix(columns, rows)


# --------------------------------------------------------------------------- inventories

@dataclass
class Item:
    """A cookie or storage item aggregated over every state and page it was seen in."""

    kind: str  # "cookie" | "local" | "session" | "indexeddb"
    name: str
    scope: str  # cookie domain or storage origin
    path: str
    party: str
    category: str
    category_source: str
    declared_as: str | None
    vendor: str | None
    purpose: str
    states: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    session: bool = False
    lifetime_s: int | None = None
    requested_lifetime_s: int | None = None
    set_by: str = ""
    setter_url: str = ""
    secure: bool | None = None
    http_only: bool | None = None
    same_site: str | None = None
    value_len: int | None = None
    known_category: str | None = None


def _max(a: int | None, b: Any) -> int | None:
    if isinstance(b, bool) or not isinstance(b, (int, float)):
        return a
    return int(b) if a is None else max(a, int(b))


def cookie_items(report: Report) -> list[Item]:
    items: dict[tuple, Item] = {}
    for state, page, c in iter_observations(report, "cookies"):
        if c.get("stored") is False:
            continue
        key = (_text(c.get("name")), _text(c.get("domain")), _text(c.get("path")))
        it = items.get(key)
        if it is None:
            it = items[key] = Item(
                "cookie", key[0], key[1], key[2], _text(c.get("party")), _text(c.get("category") or "unknown"),
                _text(c.get("category_source") or "unknown"), c.get("declared_as"), c.get("vendor"),
                _text(c.get("purpose")), session=bool(c.get("session")), set_by=_text(c.get("set_by")),
                setter_url=_text(c.get("setter_url")), secure=c.get("secure"), http_only=c.get("http_only"),
                same_site=c.get("same_site"), value_len=c.get("value_len"), known_category=known_category(c))
        it.lifetime_s = _max(it.lifetime_s, c.get("lifetime_s"))
        it.requested_lifetime_s = _max(it.requested_lifetime_s, c.get("requested_lifetime_s"))
        _note(it, state, _text(page.get("url")))
    return sorted(items.values(), key=lambda i: (i.party != "first", i.name.lower(), i.scope))


def storage_items(report: Report) -> list[Item]:
    items: dict[tuple, Item] = {}
    for state, page, s in iter_observations(report, "storage"):
        key = (_text(s.get("kind")), _text(s.get("origin")), _text(s.get("key")))
        it = items.get(key)
        if it is None:
            it = items[key] = Item(
                key[0], key[2], key[1], "", _text(s.get("party")), _text(s.get("category") or "unknown"),
                _text(s.get("category_source") or "unknown"), s.get("declared_as"), s.get("vendor"),
                _text(s.get("purpose")), session=key[0] == "session", setter_url=_text(s.get("setter_url")),
                value_len=s.get("value_len"), known_category=known_category(s))
        _note(it, state, _text(page.get("url")))
    return sorted(items.values(), key=lambda i: (i.party != "first", i.kind, i.scope, i.name.lower()))


def _note(it: Item, state: str, page_url: str) -> None:
    if state not in it.states:
        it.states.append(state)
    if page_url and page_url not in it.pages:
        it.pages.append(page_url)


@dataclass
class HostRow:
    host: str
    vendor: str | None
    category: str
    country: str | None
    tracker: bool
    requests: int = 0
    states: list[str] = field(default_factory=list)
    resource_types: list[str] = field(default_factory=list)


def host_rows(report: Report) -> list[HostRow]:
    """Third-party hosts contacted, with vendor and country, most requested first within a vendor."""
    rows: dict[str, HostRow] = {}
    for state, _page, r in iter_observations(report, "requests"):
        if r.get("party") != "third":
            continue
        host = _text(r.get("host"))
        row = rows.get(host)
        if row is None:
            row = rows[host] = HostRow(host, r.get("vendor"), request_category(r), r.get("country"),
                                       bool(r.get("tracker")))
        row.requests += 1
        row.tracker = row.tracker or bool(r.get("tracker"))
        if state not in row.states:
            row.states.append(state)
        rtype = _text(r.get("resource_type"))
        if rtype and rtype not in row.resource_types:
            row.resource_types.append(rtype)
    return sorted(rows.values(), key=lambda h: (h.vendor is None, (h.vendor or "").lower(), -h.requests, h.host))


# --------------------------------------------------------------------------- declaration

def _matches(entry: dict, name: str) -> bool:
    pattern = _text(entry.get("name"))
    how = entry.get("match") or "exact"
    if how == "prefix":
        return name.startswith(pattern)
    if how == "regex":
        try:
            return re.fullmatch(pattern, name) is not None
        except re.error:
            return False
    return name == pattern


def find_declared(entries: list[dict], name: str) -> dict | None:
    return next((e for e in entries if _matches(e, name)), None)


@dataclass
class Disagreement:
    item: Item
    declared_category: str  # declaration category label
    observed_category: str


@dataclass
class DeclarationCheck:
    has_declaration: bool
    declared_seen: list[tuple[dict, list[Item]]]
    declared_unseen: list[dict]
    seen_undeclared: list[Item]
    disagreements: list[Disagreement]


def check_declaration(report: Report) -> DeclarationCheck:
    decl = report.get("declaration") or {}
    labels = category_labels(report)
    purposes = _purposes(report)
    seen: list[tuple[dict, list[Item]]] = []
    unseen: list[dict] = []
    undeclared: list[Item] = []
    disagreements: list[Disagreement] = []
    for section, observed in (("cookies", cookie_items(report)), ("storage", storage_items(report))):
        entries = [e for e in decl.get(section) or [] if isinstance(e, dict)]
        matched: dict[int, list[Item]] = {}
        for item in observed:
            entry = find_declared(entries, item.name)
            if entry is None:
                # as the undeclared-* audits: not declared by name (in any kind), not the consent
                # record, not a declared vendor's own cookie on its own domain
                if item.category_source not in ("declared", "cmp-record") and not (
                        item.category_source == "declared-vendor" and item.party == "third"):
                    undeclared.append(item)
                continue
            matched.setdefault(id(entry), []).append(item)
            cid = _text(entry.get("category"))
            known = item.known_category
            if known and item.category_source != "cmp-record" and purposes.get(cid) and known not in purposes[cid]:
                disagreements.append(Disagreement(item, labels.get(cid, cid), known))
        for entry in entries:
            if id(entry) in matched:
                seen.append((entry, matched[id(entry)]))
            else:
                unseen.append(entry)
    return DeclarationCheck(bool(decl), seen, unseen, undeclared, disagreements)


@dataclass
class ProposedEntry:
    type: str  # "Cookie" | "Local storage" | "Session storage" | "IndexedDB"
    name: str
    provider: str
    purpose: str
    category: str
    duration: str
    rank: int = 0  # category order: declaration order, else necessary..marketing, unknown last


_STORAGE_TYPES = {"local": "Local storage", "session": "Session storage", "indexeddb": "IndexedDB"}


_CATEGORY_ORDER = ("necessary", "preferences", "analytics", "marketing", "unknown")


def _category_label(report: Report, declared_as: str | None, category: str) -> tuple[str, int]:
    """(label, rank) of the declaration category for what was OBSERVED; the declared one when unknown.

    A cookie declared "functional" but known to be marketing is proposed as marketing:
    the proposal describes what the site does, not what it claimed.
    """
    labels = category_labels(report)
    ids = list(labels)
    if category and category != "unknown":
        for cid, purposes in _purposes(report).items():
            if category in purposes:
                return labels.get(cid, cid), ids.index(cid)
    if declared_as and declared_as in labels and category in ("", "unknown"):
        return labels[declared_as], ids.index(declared_as)
    rank = _CATEGORY_ORDER.index(category) if category in _CATEGORY_ORDER else len(_CATEGORY_ORDER)
    return (category.capitalize() if category else "Unknown"), 100 + rank


def _provider(report: Report, item: Item) -> str:
    if item.vendor:
        return item.vendor
    site = report.get("site") or {}
    if item.party == "first":
        decl = report.get("declaration") or {}
        return _text(decl.get("name") or site.get("registrable_domain") or site.get("host"))
    host = re.sub(r"^[a-z]+://", "", item.scope).lstrip(".")
    return host


def proposed_declaration(report: Report) -> list[ProposedEntry]:
    """One entry per observed cookie / storage name and provider, in policy order."""
    decl = report.get("declaration") or {}
    out: dict[tuple[str, str, str], ProposedEntry] = {}
    for item in cookie_items(report) + storage_items(report):
        kind = "Cookie" if item.kind == "cookie" else _STORAGE_TYPES.get(item.kind, item.kind)
        provider = _provider(report, item)
        entry = find_declared(decl.get("cookies" if item.kind == "cookie" else "storage") or [], item.name)
        purpose = item.purpose or _text((entry or {}).get("purpose"))
        if item.kind == "cookie":
            seconds = item.requested_lifetime_s if item.requested_lifetime_s is not None else item.lifetime_s
            duration = human_duration(seconds, session=item.session)
        else:
            duration = "session" if item.kind == "session" else "persistent (until cleared)"
        key = (kind, item.name, provider)
        if key not in out:
            label, rank = _category_label(report, item.declared_as, item.category)
            out[key] = ProposedEntry(kind, item.name, provider, purpose or "(to be described)", label,
                                     duration, rank)
    return sorted(out.values(), key=lambda e: (e.rank, e.type != "Cookie", e.provider.lower(), e.name.lower()))
