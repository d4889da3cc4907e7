"""Give every observed cookie, storage entry and request a category, purpose and vendor.

Order: the consent manager's own record; the site's declaration; the known-cookie table;
the vendor of the host; otherwise unknown.
"""
from __future__ import annotations

import re

from ..domains import host_of

TRACKING_PURPOSES = ("analytics", "marketing")
BEACON_TYPES = {"ping", "image", "xhr", "fetch", "beacon", "other", "document", "websocket", "eventsource", "media"}


def _record_matcher(recipes) -> callable:
    names, patterns, keys = set(), [], set()
    for recipe in recipes:
        for entry in recipe.record_cookies:
            if isinstance(entry, dict) and entry.get("regex"):
                patterns.append(re.compile(entry["regex"]))
            elif isinstance(entry, str):
                names.add(entry)
        keys.update(k for k in recipe.record_storage if isinstance(k, str))

    def is_record(name: str, storage: bool = False) -> bool:
        if storage:
            return name in keys
        return name in names or any(p.fullmatch(name) for p in patterns)
    return is_record


def _declared_category(declaration, item, known_category: str | None) -> str:
    """Standard category of a declared item: the known one if the site category covers it."""
    purposes = (declaration.categories.get(item.category) or {}).get("purposes") or []
    if declaration.essential(item.category):
        return "necessary"
    if known_category in purposes:
        return known_category
    return purposes[0] if purposes else "unknown"


def classify_result(result: dict, *, declaration, known, vendors, recipes) -> None:
    """Annotate the result in place."""
    is_record = _record_matcher(recipes)
    for state in result["states"]:
        for page in state.get("pages") or []:
            for cookie in page.get("cookies") or []:
                _classify_item(cookie, cookie["name"], cookie["domain"].lstrip("."), False,
                               declaration, known, vendors, is_record)
            for entry in page.get("storage") or []:
                _classify_item(entry, entry["key"], host_of(entry["origin"]), True,
                               declaration, known, vendors, is_record)
            for request in page.get("requests") or []:
                vendor = vendors.for_host(request.get("host") or "")
                request["vendor"] = vendor.name if vendor else None
                request["vendor_category"] = vendor.category if vendor else None
                request["category"] = vendor.purpose if vendor else ("necessary" if request.get("party") == "first" else "unknown")
                request["country"] = vendor.country if vendor else None
                request["tracker"] = bool(vendor and vendor.purpose in TRACKING_PURPOSES
                                          and request.get("resource_type") in BEACON_TYPES
                                          and request.get("party") == "third")


def _classify_item(item: dict, name: str, host: str, storage: bool, declaration, known, vendors, is_record) -> None:
    known_row = known.lookup(name)
    vendor = vendors.for_host(host) if item.get("party") == "third" else None
    item["declared_as"] = None
    if is_record(name, storage):
        item.update(category="necessary", purpose="consent record of the consent manager",
                    vendor=known_row.platform if known_row else None, category_source="cmp-record")
        return
    declared = None
    if declaration is not None:
        declared = declaration.find_storage(name) if storage else declaration.find_cookie(name)
    if declared is not None:
        item.update(category=_declared_category(declaration, declared, known_row.category if known_row else None),
                    purpose=declared.purpose or (known_row.purpose if known_row else None),
                    vendor=declared.provider or (known_row.platform if known_row else None),
                    category_source="declared", declared_as=declared.category)
        return
    if known_row is not None:
        item.update(category=known_row.category, purpose=known_row.purpose, vendor=known_row.platform,
                    category_source="known")
        return
    if vendor is not None:
        purpose = vendor.purpose if vendor.purpose in ("necessary", "preferences", "analytics", "marketing") else "marketing"
        item.update(category=purpose, purpose=f"set by {vendor.name} ({vendor.category})", vendor=vendor.name,
                    category_source="vendor")
        return
    item.update(category="unknown", purpose=None, vendor=None, category_source="unknown")


def needs_consent(item: dict) -> bool:
    """Outside the CNIL's exempt list (LD 2020-091 §49): analytics, marketing, a third party's
    preferences, or an unknown third-party item."""
    category = item.get("category")
    if item.get("category_source") == "cmp-record" or category == "necessary":
        return False
    if category in TRACKING_PURPOSES:
        return True
    if category == "preferences":
        return item.get("party") == "third"
    return category == "unknown" and item.get("party") == "third"
