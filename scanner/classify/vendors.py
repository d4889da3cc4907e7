"""Which vendor serves a request host: rules/vendors.json plus rules/vendor-countries.yaml.

vendors.json comes from third-party-web (tools/build_rules.py). Its domain
entries are matched like this:

    "*.example.com"      example.com and every subdomain of it
    "example.com"        a plain entry of two labels is a registrable domain:
                         it too covers its subdomains
    "cdn.example.com"    any other plain entry matches that exact host only

The most specific entry wins: an exact host entry, then the longest matching
domain suffix. vendor-countries.yaml adds, for the vendors it lists, where they
are established; a vendor it lists that is not in vendors.json is added with
its own category and domains.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from scanner.paths import rules_dir

VENDORS_FILE = "vendors.json"
COUNTRIES_FILE = "vendor-countries.yaml"

# third-party-web category -> our standard purpose.
# Tag managers and video players are kept apart: whether they track depends on
# what they load or how they are embedded. CDNs, hosting and libraries are not
# trackers by themselves.
CATEGORY_PURPOSE: dict[str, str] = {
    "ad": "marketing",
    "social": "marketing",
    "marketing": "marketing",
    "analytics": "analytics",
    "tag-manager": "tag-manager",
    "consent-provider": "necessary",
    "cdn": "functional-third-party",
    "hosting": "functional-third-party",
    "utility": "functional-third-party",
    "library": "functional-third-party",
    "content": "functional-third-party",
    "video": "video",
    "customer-success": "preferences",
    "chat": "preferences",
    "other": "unknown",
}


@dataclass(frozen=True)
class Vendor:
    name: str
    company: str
    category: str                 # third-party-web category
    domains: tuple[str, ...]
    country: str | None = None    # ISO 3166-1 alpha-2 of the headquarters
    eea: bool | None = None       # headquartered in the EEA
    dpf: bool | None = None       # US parent DPF-listed; None = unknown or not applicable
    legal_entity: str | None = None
    source: str | None = None
    note: str | None = None
    purpose_override: str | None = None

    @property
    def purpose(self) -> str:
        """Standard purpose: see CATEGORY_PURPOSE ("unknown" for an unmapped category)."""
        return self.purpose_override or CATEGORY_PURPOSE.get(self.category, "unknown")


def _known(value: Any) -> Any:
    """YAML's "unknown" / "n/a" / empty -> None."""
    if isinstance(value, str) and value.strip().lower() in {"", "unknown", "n/a"}:
        return None
    return value


def _bool_or_none(value: Any, field: str, vendor: str) -> bool | None:
    value = _known(value)
    if value is None or isinstance(value, bool):
        return value
    raise ValueError(f"{COUNTRIES_FILE}: {vendor}: {field} must be true, false, unknown or n/a")


def _apply_countries(vendors: list[Vendor], entries: Iterable[dict[str, Any]]) -> list[Vendor]:
    by_name = {v.name: i for i, v in enumerate(vendors)}
    for entry in entries:
        name = str(entry["vendor"])
        country = _known(entry.get("hq_country"))
        if country is not None and not isinstance(country, str):
            raise ValueError(f"{COUNTRIES_FILE}: {name}: hq_country must be a string "
                             "(quote \"NO\")")
        facts = {
            "country": country,
            "eea": _bool_or_none(entry.get("eea"), "eea", name),
            "dpf": _bool_or_none(entry.get("dpf"), "dpf", name),
            "legal_entity": _known(entry.get("legal_entity")),
            "source": _known(entry.get("source")),
            "note": _known(entry.get("note")),
            "purpose_override": _known(entry.get("purpose")),
        }
        names = [name, *entry.get("aliases", [])]
        found = [n for n in names if n in by_name]
        for n in found:
            vendors[by_name[n]] = replace(vendors[by_name[n]], **facts)
        if name not in by_name:
            vendors.append(Vendor(
                name=name,
                company=str(facts["legal_entity"] or name),
                category=str(entry.get("category") or "other"),
                domains=tuple(entry.get("domains", [])),
                **facts,
            ))
            by_name[name] = len(vendors) - 1
    return vendors


class Vendors:
    """Host -> vendor matcher; build it once and pass it around."""

    def __init__(self, vendors: Iterable[Vendor]) -> None:
        self._vendors = tuple(vendors)
        self._by_name = {v.name: v for v in self._vendors}
        self._exact: dict[str, Vendor] = {}
        self._suffix: dict[str, Vendor] = {}
        registrable: list[tuple[str, Vendor]] = []
        for vendor in self._vendors:
            for entry in vendor.domains:
                domain = entry.strip().lower().rstrip(".")
                if domain.startswith("*."):
                    self._suffix.setdefault(domain[2:], vendor)
                else:
                    self._exact.setdefault(domain, vendor)
                    if domain.count(".") == 1:
                        registrable.append((domain, vendor))
        # "*.x" entries take precedence over a plain "x" of another vendor.
        for domain, vendor in registrable:
            self._suffix.setdefault(domain, vendor)

    @classmethod
    def load(cls, path: str | Path | None = None,
             countries_path: str | Path | None = None) -> Vendors:
        path = Path(path) if path is not None else rules_dir() / VENDORS_FILE
        countries_path = (Path(countries_path) if countries_path is not None
                          else rules_dir() / COUNTRIES_FILE)
        data = json.loads(path.read_text(encoding="utf-8"))
        vendors = [
            Vendor(name=v["name"], company=v.get("company", ""),
                   category=v.get("category", ""), domains=tuple(v.get("domains", [])))
            for v in data["vendors"]
        ]
        if countries_path.is_file():
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            doc = yaml.load(countries_path.read_text(encoding="utf-8"), Loader=loader) or {}
            vendors = _apply_countries(vendors, doc.get("vendors", []))
        return cls(vendors)

    def for_host(self, host: str) -> Vendor | None:
        """The vendor serving `host` (a hostname, no scheme), or None."""
        host = host.strip().lower().rstrip(".")
        if host.count(":") == 1:          # "host:port"; IPv6 literals are left alone
            host = host.split(":", 1)[0]
        vendor = self._exact.get(host)
        if vendor is not None:
            return vendor
        suffix = host
        while suffix:
            vendor = self._suffix.get(suffix)
            if vendor is not None:
                return vendor
            dot = suffix.find(".")
            if dot < 0:
                return None
            suffix = suffix[dot + 1:]
        return None

    def by_name(self, name: str) -> Vendor | None:
        return self._by_name.get(name)

    def __len__(self) -> int:
        return len(self._vendors)

    def __iter__(self) -> Iterator[Vendor]:
        return iter(self._vendors)


@lru_cache(maxsize=1)
def default_vendors() -> Vendors:
    """The shipped tables, loaded once."""
    return Vendors.load()
