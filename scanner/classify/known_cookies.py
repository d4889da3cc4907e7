"""Look up a cookie (or storage key) name in rules/known-cookies.csv.

The table is built by tools/build_rules.py from the Open Cookie Database. Rows
are either `exact` names or `prefix` patterns (`_ga_` matches `_ga_ABC123`,
`_hjSession_` matches `_hjSession_12345`). Names are case-sensitive, as cookie
names are.
"""
from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from scanner.domains import registrable_domain
from scanner.paths import rules_dir

FILE_NAME = "known-cookies.csv"
GENERIC_FILE = "generic-cookie-names.yaml"
_DOMAIN_TOKEN = re.compile(r"\.?((?:[a-z0-9-]+\.)+[a-z]{2,})", re.I)
_SHORT_WORD = re.compile(r"[a-z]{1,5}")

# Prefix rows shorter than this are ignored for prefix matching (they still match
# their exact name): the data has prefixes like "_s" or "tp" that would
# otherwise claim unrelated names.
MIN_PREFIX_LEN = 3

# When several rows share a name, the one whose category asks the most of the
# site wins, so a lookup never understates what a cookie needs.
_STRICTNESS = {"marketing": 0, "analytics": 1, "preferences": 2, "necessary": 3}


def _rank(row: KnownCookie) -> int:
    return _STRICTNESS.get(row.category, -1)  # an unknown category sorts first


@dataclass(frozen=True)
class KnownCookie:
    name: str
    match: str            # "exact" | "prefix"
    platform: str
    category: str         # "necessary" | "preferences" | "analytics" | "marketing"
    purpose: str
    domain: str
    retention: str        # free text, as published
    retention_s: int | None   # seconds; 0 = session; None = unknown
    controller: str
    privacy_url: str

    @property
    def domains(self) -> tuple[str, ...]:
        """The platform's own domains ("youtube.com (3rd party)" -> ("youtube.com",)); () for a
        row that platforms set on the visited site's own domain (`_ga`)."""
        return tuple(dict.fromkeys(m.group(1).lower() for m in _DOMAIN_TOKEN.finditer(self.domain or "")))


class KnownCookies:
    """Exact names first, then the longest matching prefix."""

    def __init__(self, rows: Iterable[KnownCookie]) -> None:
        exact: dict[str, list[KnownCookie]] = {}
        prefix: dict[str, list[KnownCookie]] = {}
        self._rows: tuple[KnownCookie, ...] = tuple(rows)
        for row in self._rows:
            (prefix if row.match == "prefix" else exact).setdefault(row.name, []).append(row)
        self._exact = {k: tuple(sorted(v, key=_rank)) for k, v in exact.items()}
        self._prefix = {k: tuple(sorted(v, key=_rank)) for k, v in prefix.items()}
        self._max_prefix = max(map(len, self._prefix), default=0)

    @classmethod
    def load(cls, path: str | Path | None = None) -> KnownCookies:
        path = Path(path) if path is not None else rules_dir() / FILE_NAME
        with path.open(encoding="utf-8", newline="") as fh:
            rows = [
                KnownCookie(
                    name=r["name"], match=r["match"], platform=r["platform"],
                    category=r["category"], purpose=r["purpose"], domain=r["domain"],
                    retention=r["retention"],
                    retention_s=int(r["retention_s"]) if r["retention_s"] else None,
                    controller=r["controller"], privacy_url=r["privacy_url"],
                )
                for r in csv.DictReader(fh)
            ]
        return cls(rows)

    def lookup_all(self, name: str) -> tuple[KnownCookie, ...]:
        """Every row for the best-matching name or prefix, strictest category first."""
        if name in self._exact:
            return self._exact[name]
        for n in range(min(len(name), self._max_prefix), MIN_PREFIX_LEN - 1, -1):
            rows = self._prefix.get(name[:n])
            if rows:
                return rows
        return ()

    def lookup(self, name: str) -> KnownCookie | None:
        rows = self.lookup_all(name)
        return rows[0] if rows else None

    def lookup_for(self, name: str, *, host: str, setter_host: str | None = None, vendors=None,
                   generic: frozenset[str] = frozenset()) -> KnownCookie | None:
        """The row that applies to a cookie (or storage key) `name` on `host`, set by a script or
        response from `setter_host`; None when no row fits.

        A row naming its platform's domains applies on those domains, or on any domain when the
        script or response that set the item belongs to the platform (same registrable domain, or
        the same vendor in vendors.json), or when the name is specific to the platform. A generic
        name (`sessionid`, `lang`, `id`: rules/generic-cookie-names.yaml, or five lower-case letters
        at most) set on another domain by someone else is the site's own, not the platform's."""
        for row in self.lookup_all(name):
            if _applies(row, name, host, setter_host, vendors, generic):
                return row
        return None

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[KnownCookie]:
        return iter(self._rows)


@lru_cache(maxsize=1)
def default_known_cookies() -> KnownCookies:
    """The shipped table, loaded once."""
    return KnownCookies.load()


def is_generic(name: str, generic: frozenset[str]) -> bool:
    return name.lower() in generic or bool(_SHORT_WORD.fullmatch(name))


def _applies(row: KnownCookie, name: str, host: str, setter_host: str | None, vendors, generic) -> bool:
    host = (host or "").lstrip(".").lower()
    setter_host = (setter_host or "").lower()
    domains = row.domains
    sites = {registrable_domain(d) for d in domains}
    if sites and registrable_domain(host) in sites:
        return True
    if setter_host and sites and registrable_domain(setter_host) in sites:
        return True
    if setter_host and vendors is not None:
        setter_vendor = vendors.for_host(setter_host)
        if setter_vendor is not None:
            if any(_same_vendor(setter_vendor, vendors.for_host(d)) for d in domains):
                return True
            if not domains and _names_platform(setter_vendor, row.platform):
                return True
    return not is_generic(name, generic)


def _same_vendor(a, b) -> bool:
    return b is not None and (a.name == b.name or (bool(a.company) and a.company == b.company))


def _names_platform(vendor, platform: str) -> bool:
    platform = platform.lower()
    return bool(platform) and any(platform in n.lower() or n.lower() in platform
                                  for n in (vendor.name, vendor.company) if n)


@lru_cache(maxsize=1)
def default_generic_names() -> frozenset[str]:
    data = yaml.safe_load((rules_dir() / GENERIC_FILE).read_text(encoding="utf-8")) or {}
    return frozenset(str(n).lower() for n in data.get("names") or [])
