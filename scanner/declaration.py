"""Site declarations (rules/sites/<site>.yaml): what the site says it does.

Read with bounds (scanner.yaml_lines: at most 1 MiB, aliases expanding to at most 100,000 nodes).
Validated on load against docs/declaration.schema.json (unknown keys, wrong types, unknown
purposes), then for what a schema cannot say (bad regular expressions, references to undeclared
categories): every error names the file and line (exit 2).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from .errors import UsageError
from .paths import schema_path
from .vocabulary import PURPOSES as STANDARD_PURPOSES, purposes_for_label
from .yaml_lines import MAX_YAML_CHARS, LineLoader, strip_lines

TOP_KEYS = {"site", "policy", "categories", "cookies", "storage", "vendors", "consent", "crawl", "notes"}
MATCH_KINDS = ("exact", "prefix", "regex")


_Loader = LineLoader
_strip = strip_lines


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

    @property
    def crawl(self) -> dict:
        return self.data.get("crawl") or {}

    @property
    def cmp(self) -> str | None:
        """The consent manager the site says it runs (a recipe id): detection tries it first."""
        return (self.data.get("consent") or {}).get("cmp")

    def policy_source(self) -> str | None:
        """The policy to lint with the scan: `policy.url`, else `policy.file` (relative to the
        declaration's folder, else to the working directory)."""
        policy = self.data.get("policy") or {}
        if policy.get("url"):
            return str(policy["url"])
        if policy.get("file"):
            for base in (self.path.parent, Path.cwd()):
                candidate = base / str(policy["file"])
                if candidate.is_file():
                    return str(candidate)
            return str(policy["file"])
        return None

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
            "cookieless_pings": (self.data.get("consent") or {}).get("cookieless_pings"),
        }


def load_declaration(path: str | Path) -> Declaration:
    path = Path(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_YAML_CHARS + 1)
    except OSError as exc:
        raise UsageError(f"cannot read declaration {str(path)!r}: {exc.strerror or exc}") from None
    if len(raw) > MAX_YAML_CHARS:
        raise UsageError(f"{path}: declaration too large (over {MAX_YAML_CHARS:,} bytes)")
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
    _check_schema(path, data)
    decl = Declaration(path=path, data=_strip(data), sha256=hashlib.sha256(raw).hexdigest())
    for cat in data.get("categories") or []:
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
        if vendor.get("category") is not None and str(vendor["category"]) not in decl.categories:
            raise UsageError(f"{path}:{vendor['__line__']}: unknown category {vendor['category']!r} "
                             f"(declared: {', '.join(decl.categories) or 'none'})")
        decl.vendors.append(_strip(vendor))
    consent = data.get("consent") or {}
    for cat in (consent.get("toggles") or {}):
        if cat in ("__lines__", "__line__"):
            continue
        if cat not in decl.categories:
            line = consent["toggles"]["__lines__"].get(cat, consent["toggles"]["__line__"])
            raise UsageError(f"{path}:{line}: consent.toggles names unknown category {cat!r}")
    return decl


@lru_cache(maxsize=1)
def _validator():
    from jsonschema import Draft202012Validator
    return Draft202012Validator(json.loads(schema_path("declaration.schema.json").read_text(encoding="utf-8")))


def _check_schema(path: Path, data: dict) -> None:
    """docs/declaration.schema.json, with the first error named by file, line and key."""
    errors = sorted(_validator().iter_errors(_strip(data)), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if not errors:
        return
    error = errors[0]
    node, line = data, 1
    for part in error.absolute_path:   # walk the raw YAML (which remembers lines) down the error's path
        if isinstance(node, dict):
            line = (node.get("__lines__") or {}).get(part, node.get("__line__", line))
        node = node[part] if isinstance(node, (dict, list)) else node
        if isinstance(node, dict):
            line = node.get("__line__", line)
    where = _where(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties") or {})
        extra = [k for k in (error.instance or {}) if k not in allowed]
        if isinstance(node, dict):
            line = (node.get("__lines__") or {}).get(extra[0], line) if extra else line
        raise UsageError(f"{path}:{line}: unknown key {extra[0]!r} in {where} (allowed: {', '.join(allowed)})")
    if error.validator == "enum" and "purposes" in error.absolute_path:
        raise UsageError(f"{path}:{line}: unknown purpose {error.instance!r} (one of {', '.join(STANDARD_PURPOSES)})")
    if error.validator == "required":
        raise UsageError(f"{path}:{line}: {where}: {error.message}")
    raise UsageError(f"{path}:{line}: {where}: {error.message[:200]}")


def _where(parts) -> str:
    text = ""
    for part in parts:
        text += "[]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "top level"


def _item(path: Path, item: dict, categories: dict, section: str) -> DeclaredItem:
    if not isinstance(item, dict):
        raise UsageError(f"{path}: {section} entries are mappings with a name and a category")
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
