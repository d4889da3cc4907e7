"""Site declarations (rules/sites/<site>.yaml): what the site says it does.

Validated on load: unknown keys, bad regular expressions and unknown categories are
errors naming the file and line (exit 2).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import UsageError

from .vocabulary import PURPOSES as STANDARD_PURPOSES, purposes_for_label

TOP_KEYS = {"site", "policy", "categories", "cookies", "storage", "vendors", "consent", "crawl", "notes"}
SECTION_KEYS = {
    "site": {"name", "url", "controller", "country"},
    "policy": {"url", "file", "cookie_policy_url"},
    "consent": {"cmp", "toggles", "selectors"},
    "crawl": {"second_page", "urls", "max_pages"},
}
CATEGORY_KEYS = {"id", "label", "essential", "purposes", "description", "policy_quote"}
ITEM_KEYS = {"name", "match", "provider", "category", "duration", "duration_s", "purpose", "domain", "kind"}
VENDOR_KEYS = {"name", "hosts", "country", "purpose", "category"}
SELECTOR_KEYS = {"first_layer", "settings_layer", "accept_all", "reject_all", "open_settings", "save_settings",
                 "reopen", "toggle", "readback", "record"}
MATCH_KINDS = ("exact", "prefix", "regex")


class _Loader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping key."""


def _construct_mapping(loader, node, deep=False):
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=deep)
    mapping["__lines__"] = {k.value: k.start_mark.line + 1 for k, _ in node.value if hasattr(k, "value")}
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _strip(value):
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in ("__lines__", "__line__")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


@dataclass(frozen=True)
class DeclaredItem:
    name: str
    match: str
    category: str
    provider: str | None = None
    duration_s: int | None = None
    duration: str | None = None
    purpose: str | None = None
    domain: str | None = None
    pattern: re.Pattern | None = None

    def matches(self, name: str) -> bool:
        if self.match == "exact":
            return name == self.name
        if self.match == "prefix":
            return name.startswith(self.name)
        return bool(self.pattern and self.pattern.fullmatch(name))


@dataclass
class Declaration:
    path: Path
    data: dict
    sha256: str
    categories: dict[str, dict] = field(default_factory=dict)
    cookies: list[DeclaredItem] = field(default_factory=list)
    storage: list[DeclaredItem] = field(default_factory=list)
    vendors: list[dict] = field(default_factory=list)

    @property
    def name(self) -> str:
        return (self.data.get("site") or {}).get("name") or self.path.stem

    @property
    def second_page(self) -> str | None:
        return (self.data.get("crawl") or {}).get("second_page")

    def consent_mapping(self) -> dict[str, list[str]] | None:
        toggles = (self.data.get("consent") or {}).get("toggles")
        if not toggles:
            return None
        return {cat: [str(t) for t in (v if isinstance(v, list) else [v])] for cat, v in toggles.items()}

    def custom_recipe(self):
        selectors = (self.data.get("consent") or {}).get("selectors")
        if not selectors:
            return None
        from .consent import custom_recipe
        return custom_recipe(selectors)

    def essential(self, category: str) -> bool:
        return bool(self.categories.get(category, {}).get("essential"))

    def find_cookie(self, name: str) -> DeclaredItem | None:
        return next((c for c in self.cookies if c.matches(name)), None)

    def find_storage(self, key: str) -> DeclaredItem | None:
        return next((s for s in self.storage if s.matches(key)), None)

    def find_item(self, name: str, kind: str) -> tuple[DeclaredItem | None, str | None]:
        """The declared entry for an observed name, looked up in its own kind first ("cookie" or
        "storage"), then in the other: (entry, the kind it was declared as)."""
        order = ((self.cookies, "cookie"), (self.storage, "storage"))
        if kind != "cookie":
            order = order[::-1]
        for entries, declared_kind in order:
            found = next((e for e in entries if e.matches(name)), None)
            if found is not None:
                return found, declared_kind
        return None, None

    def find_vendor(self, host: str, name: str | None) -> dict | None:
        """The declared vendor serving `host` (or named `name`), if any."""
        host = (host or "").lower()
        for vendor in self.vendors:
            if name and str(vendor.get("name", "")).lower() == name.lower():
                return vendor
            if any(host == str(h).lower() or host.endswith("." + str(h).lower()) for h in vendor.get("hosts") or []):
                return vendor
        return None

    def unmapped_categories(self) -> list[dict]:
        """Categories whose purposes neither the declaration nor the vocabulary can tell."""
        return [c for c in self.categories.values() if not c.get("purposes") and not c.get("essential")]

    def summary(self) -> dict:
        def item(i: DeclaredItem) -> dict:
            return {"name": i.name, "match": i.match, "provider": i.provider, "category": i.category,
                    "duration_s": i.duration_s, "purpose": i.purpose}
        return {
            "name": self.name, "path": _display_path(self.path), "sha256": self.sha256,
            "categories": [{"id": k, **{kk: v.get(kk) for kk in ("label", "essential", "purposes", "description", "policy_quote")}}
                           for k, v in self.categories.items()],
            "cookies": [item(c) for c in self.cookies], "storage": [item(s) for s in self.storage],
            "vendors": self.vendors, "toggles": self.consent_mapping(),
        }


def load_declaration(path: str | Path) -> Declaration:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read declaration {str(path)!r}: {exc.strerror or exc}") from None
    try:
        data = yaml.load(raw.decode("utf-8"), Loader=_Loader) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise UsageError(f"{where}: invalid YAML: {getattr(exc, 'problem', None) or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}:1: a declaration is a mapping with keys {', '.join(sorted(TOP_KEYS))}")
    _check_keys(path, data, TOP_KEYS, "top level")
    for section, keys in SECTION_KEYS.items():
        if isinstance(data.get(section), dict):
            _check_keys(path, data[section], keys, section)
    decl = Declaration(path=path, data=_strip(data), sha256=hashlib.sha256(raw).hexdigest())
    for cat in data.get("categories") or []:
        _check_keys(path, cat, CATEGORY_KEYS, "categories[]")
        if not cat.get("id"):
            raise UsageError(f"{path}:{cat['__line__']}: a category needs an id")
        for purpose in cat.get("purposes") or []:
            if purpose not in STANDARD_PURPOSES:
                raise UsageError(f"{path}:{cat['__line__']}: unknown purpose {purpose!r} "
                                 f"(one of {', '.join(STANDARD_PURPOSES)})")
        category = _strip(cat)
        if not category.get("purposes"):
            # no purposes written: read them from the label (or the id) in five languages
            category["purposes"] = purposes_for_label(str(category.get("label") or "")) or \
                purposes_for_label(str(category["id"]).replace("-", " ").replace("_", " "))
            category["purposes_from"] = "label" if category["purposes"] else None
        if "essential" not in category:
            category["essential"] = category["purposes"] == ["necessary"]
        decl.categories[str(cat["id"])] = category
    for key, target in (("cookies", decl.cookies), ("storage", decl.storage)):
        for item in data.get(key) or []:
            target.append(_item(path, item, decl.categories, key))
    for vendor in data.get("vendors") or []:
        _check_keys(path, vendor, VENDOR_KEYS, "vendors[]")
        if vendor.get("category") is not None and str(vendor["category"]) not in decl.categories:
            raise UsageError(f"{path}:{vendor['__line__']}: unknown category {vendor['category']!r} "
                             f"(declared: {', '.join(decl.categories) or 'none'})")
        decl.vendors.append(_strip(vendor))
    consent = data.get("consent") or {}
    if isinstance(consent.get("selectors"), dict):
        _check_keys(path, consent["selectors"], SELECTOR_KEYS, "consent.selectors")
    for cat in (consent.get("toggles") or {}):
        if cat in ("__lines__", "__line__"):
            continue
        if cat not in decl.categories:
            line = consent["toggles"]["__lines__"].get(cat, consent["toggles"]["__line__"])
            raise UsageError(f"{path}:{line}: consent.toggles names unknown category {cat!r}")
    return decl


def _check_keys(path: Path, mapping: dict, allowed: set[str], where: str) -> None:
    for key, line in (mapping.get("__lines__") or {}).items():
        if key not in allowed:
            raise UsageError(f"{path}:{line}: unknown key {key!r} in {where} (allowed: {', '.join(sorted(allowed))})")


def _item(path: Path, item: dict, categories: dict, section: str) -> DeclaredItem:
    if not isinstance(item, dict):
        raise UsageError(f"{path}: {section} entries are mappings with a name and a category")
    _check_keys(path, item, ITEM_KEYS, f"{section}[]")
    line = item["__line__"]
    name = str(item.get("name") or "")
    if not name:
        raise UsageError(f"{path}:{line}: a declared item needs a name")
    match = item.get("match", "exact")
    if match not in MATCH_KINDS:
        raise UsageError(f"{path}:{line}: match must be one of {', '.join(MATCH_KINDS)}, got {match!r}")
    pattern = None
    if match == "regex":
        try:
            pattern = re.compile(name)
        except re.error as exc:
            raise UsageError(f"{path}:{line}: bad regular expression {name!r}: {exc}") from None
    category = str(item.get("category") or "")
    if category not in categories:
        raise UsageError(f"{path}:{line}: unknown category {category!r} (declared: {', '.join(categories) or 'none'})")
    duration_s = item.get("duration_s")
    if duration_s is None and item.get("duration"):
        from .durations import parse_duration
        duration_s = parse_duration(str(item["duration"]))
    return DeclaredItem(name=name, match=match, category=category, provider=item.get("provider"),
                        duration_s=duration_s, duration=item.get("duration"), purpose=item.get("purpose"),
                        domain=item.get("domain"), pattern=pattern)


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
