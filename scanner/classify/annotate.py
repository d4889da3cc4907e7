"""Annotate every observed cookie, storage entry and request (a look-up step, no judgement).

Fields added to cookies and storage entries:
    declared_as      the site category it is declared in (by name, in any kind; else through its
                     declared vendor), or None
    declared_kind    "cookie" | "storage" when declared as another kind than observed
    known_category   what the knowledge base says: the known-cookie row that fits its name and
                     domain, else the vendor of a third-party host; None when unknown
    category         the standard purpose shown in reports (declared, else known, else "unknown")
    category_source  cmp-record | declared (by name) | declared-vendor (through the declared vendor that
                     set it) | known | vendor | unknown
    vendor, purpose, embed (a video/map/social... provider's item)
Fields added to requests: vendor, vendor_category, category, country, tracker, embed, pixel (a
tracking pixel or beacon: scanner.classify.url_tracking), declared_as; `identifiers` keeps only
those that track (a cookie value's purpose is the cookie's). Decorated links get vendor and
declared_as.
Added to each page: `fingerprinting`, one entry per script that read device properties
(scanner.classify.fingerprint): script, apis, signals, fingerprinting, host, party, vendor,
category (the vendor's purpose), declared_as.

Whether any of this is allowed in a consent state is decided elsewhere (scanner.judgement).
"""
from __future__ import annotations

import re

from ..domains import host_of, party, registrable_domain
from ..vocabulary import OPTIONAL_PURPOSES
from .embeds import default_embeds
from .fingerprint import default_fingerprint_rules
from .known_cookies import default_generic_names
from .tcf_vendors import default_tcf_vendors
from .url_tracking import default_url_tracking

TRACKING_PURPOSES = ("analytics", "marketing")
BEACON_TYPES = {"ping", "image", "xhr", "fetch", "beacon", "other", "document", "websocket", "eventsource", "media"}
STANDARD = ("necessary",) + OPTIONAL_PURPOSES


def _record_matcher(recipes, candidates: set[tuple[str, str]] = frozenset()) -> callable:
    """name -> is it the consent manager's record: a recipe's record cookies and storage keys, and
    the candidate records the scan identified ((kind, name), kind "cookie" or "storage")."""
    names, patterns, keys = set(), [], set()
    for recipe in recipes:
        for entry in recipe.record_cookies:
            if isinstance(entry, dict) and entry.get("regex"):
                patterns.append(re.compile(entry["regex"]))
            elif isinstance(entry, str):
                names.add(entry)
        keys.update(k for k in recipe.record_storage if isinstance(k, str))
    names.update(name for kind, name in candidates if kind == "cookie")
    keys.update(name for kind, name in candidates if kind == "storage")

    def is_record(name: str, storage: bool = False) -> bool:
        if storage:
            return name in keys
        return name in names or any(p.fullmatch(name) for p in patterns)
    return is_record


def candidate_records(result: dict, known, vendors) -> set[tuple[str, str]]:
    """The records of the visitor's choice the consent engine found by what a click stored
    (states[].proof.record), trusted as the consent manager's record only when the knowledge base
    does not know the name as needing consent, and when a refusal (reject, withdraw) wrote or
    changed it, or its name says it is about consent: a tracker written by an "accept" click is
    never taken for the record."""
    from ..consent.proof import CONSENT_WORDS
    from ..consent_states import is_no_consent
    found: dict[tuple[str, str], bool] = {}
    for state in result.get("states") or []:
        record = (state.get("proof") or {}).get("record")
        if not state.get("reached") or not isinstance(record, dict) or not isinstance(record.get("name"), str):
            continue
        kind = "cookie" if record.get("type") == "cookie" else "storage"
        host = host_of(str(record.get("where") or "")) or str(record.get("where") or "")
        row = known.lookup_for(record["name"], host=host, vendors=vendors, generic=default_generic_names())
        if row is not None and row.category != "necessary":
            continue
        key = (kind, record["name"])
        refusal = state.get("state") == "withdraw" or is_no_consent(str(state.get("state")))
        found[key] = found.get(key, False) or refusal or bool(CONSENT_WORDS.search(record["name"]))
    return {key for key, trusted in found.items() if trusted}


def classify_result(result: dict, *, declaration, known, vendors, recipes) -> None:
    """Annotate the result in place."""
    context = _Context(declaration, known, vendors,
                       _record_matcher(recipes, candidate_records(result, known, vendors)))
    site_domain = str((result.get("site") or {}).get("registrable_domain") or "")
    for state in result["states"]:
        for page in state.get("pages") or []:
            contacted = {r.get("host") or "" for r in page.get("requests") or []}
            for cookie in page.get("cookies") or []:
                context.item(cookie, cookie["name"], cookie["domain"].lstrip("."), "cookie")
                cookie["leftover"] = _leftover(cookie, contacted)
            for entry in page.get("storage") or []:
                context.item(entry, entry["key"], host_of(entry["origin"]), "storage")
            values = _stored_values(page)
            for request in page.get("requests") or []:
                context.request(request, values)
            if "decorated_links" in page:
                page["decorated_links"] = [link for link in page["decorated_links"] if context.link(link, values)]
            page["fingerprinting"] = [context.script(entry, site_domain) for entry in
                                      default_fingerprint_rules().scripts(page.get("device_reads"))]


class _Context:
    def __init__(self, declaration, known, vendors, is_record) -> None:
        self.declaration = declaration
        self.known = known
        self.vendors = vendors
        self.is_record = is_record
        self.embeds = default_embeds()
        self.generic = default_generic_names()

    def request(self, request: dict, values: dict | None = None) -> None:
        host = request.get("host") or ""
        if request.get("party") == "third":
            found = _tracking_identifiers(request, values or {})
            if found or "identifiers" in request:
                request["identifiers"] = found
        vendor = self.vendors.for_host(host)
        request["vendor"] = vendor.name if vendor else None
        request["vendor_category"] = vendor.category if vendor else None
        request["category"] = vendor.purpose if vendor else ("necessary" if request.get("party") == "first" else "unknown")
        request["country"] = vendor.country if vendor else None
        request["tracker"] = bool(vendor and vendor.purpose in TRACKING_PURPOSES
                                  and request.get("resource_type") in BEACON_TYPES
                                  and request.get("party") == "third")
        request["embed"] = (self.embeds.kind_of(request.get("url") or "", host, request["vendor"])
                            if request.get("party") == "third" else None)
        request["pixel"] = default_url_tracking().is_pixel(request)
        tcf_vendor = default_tcf_vendors().for_host(host) if request.get("party") == "third" else None
        request["tcf_vendor"] = {"id": tcf_vendor[0], "name": tcf_vendor[1]} if tcf_vendor else None
        request["declared_as"] = self._declared_vendor_category(host, request["vendor"])

    def link(self, link: dict, values: dict) -> bool:
        """An outgoing link with a query (scanner.gather.visit.decorated_links): its identifiers,
        vendor and declared category; False when it carries no identifier (not decoration)."""
        if not isinstance(link, dict):
            return False
        host = str(link.get("host") or "")
        link["identifiers"] = _tracking_identifiers(link, values)
        vendor = self.vendors.for_host(host)
        name = vendor.name if vendor else None
        link.update(vendor=name, declared_as=self._declared_vendor_category(host, name))
        return bool(link["identifiers"])

    def _declared_vendor_category(self, host: str, vendor: str | None) -> str | None:
        if self.declaration is None:
            return None
        declared = self.declaration.find_vendor(host, vendor)
        return str(declared["category"]) if declared is not None and declared.get("category") is not None else None

    def script(self, entry: dict, site_domain: str) -> dict:
        """A script that read device properties (scanner.classify.fingerprint): its host, party,
        vendor and the vendor's purpose, and the category the declaration gives the vendor."""
        host = host_of(entry["script"])
        vendor = self.vendors.for_host(host) if host else None
        entry.update(host=host, party=party(host, site_domain) if host else "first", vendor=vendor.name if vendor else None,
                     category=vendor.purpose if vendor else None, declared_as=None)
        if self.declaration is not None and host:
            declared = self.declaration.find_vendor(host, entry["vendor"])
            if declared is not None and declared.get("category") is not None:
                entry["declared_as"] = str(declared["category"])
        return entry

    def item(self, item: dict, name: str, host: str, kind: str) -> None:
        storage = kind == "storage"
        setter_host = host_of(item.get("setter_url") or "") or None
        row = self.known.lookup_for(name, host=host, setter_host=setter_host, vendors=self.vendors,
                                    generic=self.generic)
        vendor = self.vendors.for_host(host) if item.get("party") == "third" else None
        if vendor is None and row is None and setter_host:
            # an unknown name written by a third-party tracker's script is that tracker's item
            setter_vendor = self.vendors.for_host(setter_host)
            if setter_vendor is not None and (item.get("party") == "third" or (
                    setter_vendor.purpose in TRACKING_PURPOSES and host_party(setter_host, host) == "third")):
                vendor = setter_vendor
        known_category = row.category if row else (_vendor_purpose(vendor) if vendor else None)
        vendor_name = row.platform if row else (vendor.name if vendor else None)
        embed = None
        if vendor is not None or setter_host:
            embed_vendor = vendor or (self.vendors.for_host(setter_host) if setter_host else None)
            if embed_vendor is not None and item.get("party") == "third":
                embed = self.embeds.kind_of("", host, embed_vendor.name)
        item.update(declared_as=None, known_category=known_category, embed=embed)
        item.pop("declared_kind", None)
        if self.is_record(name, storage):
            item.update(category="necessary", purpose="consent record of the consent manager",
                        vendor=vendor_name, category_source="cmp-record")
            return
        declared = declared_kind = None
        if self.declaration is not None:
            declared, declared_kind = self.declaration.find_item(name, kind)
        if declared is not None:
            item.update(category=self._shown_category(declared.category, known_category),
                        purpose=declared.purpose or (row.purpose if row else None),
                        vendor=declared.provider or vendor_name, category_source="declared",
                        declared_as=declared.category)
            if declared_kind != kind:
                item["declared_kind"] = declared_kind
            return
        declared_vendor = self._declared_vendor(host, setter_host, vendor_name, item.get("party"))
        if declared_vendor is not None:
            item.update(category=self._shown_category(str(declared_vendor["category"]), known_category),
                        purpose=row.purpose if row else f"set by {declared_vendor.get('name')}",
                        vendor=vendor_name or declared_vendor.get("name"), category_source="declared-vendor",
                        declared_as=str(declared_vendor["category"]))
            return
        if row is not None:
            item.update(category=row.category, purpose=row.purpose, vendor=row.platform, category_source="known")
            return
        if vendor is not None:
            item.update(category=known_category or "unknown", purpose=f"set by {vendor.name} ({vendor.category})",
                        vendor=vendor.name, category_source="vendor")
            return
        item.update(category="unknown", purpose=None, vendor=None, category_source="unknown")

    def _declared_vendor(self, host: str, setter_host: str | None, vendor_name: str | None, party) -> dict | None:
        """A declared vendor with a category that set this item: its own host (third-party items),
        or the script that wrote it, or the platform the known row names."""
        if self.declaration is None:
            return None
        hosts = ([host] if party == "third" else []) + ([setter_host] if setter_host else [])
        for candidate in hosts:
            found = self.declaration.find_vendor(candidate, None)
            if found is not None and found.get("category") is not None:
                return found
        if vendor_name:
            found = self.declaration.find_vendor("", vendor_name)
            if found is not None and found.get("category") is not None:
                return found
        return None

    def _shown_category(self, declared: str, known_category: str | None) -> str:
        """The standard purpose shown for an item declared in `declared`: the known one if that
        category covers it, else the category's first purpose."""
        entry = self.declaration.categories.get(declared) or {}
        purposes = entry.get("purposes") or []
        if entry.get("essential"):
            return "necessary"
        if known_category in purposes:
            return known_category
        return purposes[0] if purposes else "unknown"


# A vendor's purpose (scanner.classify.vendors.CATEGORY_PURPOSE) as a standard purpose, for an item
# set by that vendor on its own domain: a CDN's or a widget's cookie is a third party's preference at
# least; a tag manager's, marketing; "other" says nothing.
_VENDOR_PURPOSE = {"video": "media", "tag-manager": "marketing", "functional-third-party": "preferences"}


def _vendor_purpose(vendor) -> str | None:
    purpose = _VENDOR_PURPOSE.get(vendor.purpose, vendor.purpose)
    return purpose if purpose in STANDARD else None


def _stored_values(page: dict) -> dict[str, tuple[str, str | None]]:
    """The page's first-party cookies and storage entries whose value could identify the visitor
    (at least `cookie_value_min` characters, not the consent manager's record, not strictly
    necessary; a third party's own item reaches it anyway): the
    first 8 hex digits of their value_sha256 -> (name, purpose when optional)."""
    minimum = default_url_tracking().cookie_value_min
    out: dict[str, tuple[str, str | None]] = {}
    items = [(c, c.get("name")) for c in page.get("cookies") or [] if c.get("stored") is not False]
    items += [(s, s.get("key")) for s in page.get("storage") or []]
    for item, name in items:
        digest = str(item.get("value_sha256") or "")
        length = item.get("value_len")
        if (len(digest) < 8 or not isinstance(length, int) or length < minimum or not isinstance(name, str)
                or item.get("party") != "first" or item.get("category_source") == "cmp-record"
                or item.get("category") == "necessary"):
            continue
        category = item.get("category")
        out.setdefault(digest[:8], (name, category if category in OPTIONAL_PURPOSES else None))
    return out


def _tracking_identifiers(item: dict, values: dict[str, tuple[str, str | None]]) -> list[dict]:
    """The identifiers a third party's URL carries: those the recorder found by name and shape,
    and the values of the page's own cookies and storage (recomputed: idempotent)."""
    named = [i for i in item.get("identifiers") or [] if isinstance(i, dict) and i.get("kind") != "cookie-value"]
    found = default_url_tracking().stored_values(str(item.get("url") or ""), values) if values else []
    taken = {i.get("param") for i in named}
    return named + [i for i in found if i["param"] not in taken]


def host_party(setter_host: str, host: str) -> str:
    return "first" if registrable_domain(setter_host) == registrable_domain(host) else "third"


def _leftover(cookie: dict, contacted: set[str]) -> bool:
    """A third party's cookie that this visit neither set nor sent: it sits in the browser from an
    earlier choice (the state's saved storage), and no request of the visit went to its domain."""
    if cookie.get("party") != "third" or not cookie.get("carried_over"):
        return False
    domain = cookie.get("domain", "").lstrip(".").lower()
    return not any(h == domain or h.endswith("." + domain) for h in contacted)
