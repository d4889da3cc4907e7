"""Tracking without cookies in URLs: identifiers passed to third parties and tracking pixels
(rules/url-tracking.yaml; EDPB Guidelines 2/2023 §§ 38-46).

    rules = default_url_tracking()
    rules.identifiers("https://t.example/c?gclid=Cj0K...&em=5d41402abc4b2a76b9719d911017c592")
    -> [{"param": "gclid", "kind": "click-id", "purpose": "marketing"},
        {"param": "em", "kind": "email-hash", "purpose": "marketing"}]
    rules.stored_values(redacted_url, {"3f2a9c1b": ("_fbp", "marketing")})
    -> [{"param": "fbp", "kind": "cookie-value", "purpose": "marketing", "cookie": "_fbp"}]
    rules.is_pixel(request)    # an annotated request: party, resource_type, body_bytes, status, url

`identifiers` reads the URL as the browser sent it (the recorder calls it before URLs are
redacted) and returns parameter names and kinds only, never values. `stored_values` finds the
value of a cookie or storage entry of the page in a URL by its hash, so it works on report.json
(the classification step calls it: the order in which the browser reported the write and the
request does not matter). `is_pixel` works on the
redacted URL too: it counts parameter names.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import yaml

from ..paths import rules_dir
from ..redact import short_hash
from ..yaml_lines import BoundedSafeLoader

FILE_NAME = "url-tracking.yaml"
MAX_URL_SCANNED = 8192     # characters of a URL read for identifiers
MAX_PARAMS = 100           # query parameters read per URL
MAX_FOUND = 10             # identifiers kept per URL
EMAIL = re.compile(r"[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63})*\.[A-Za-z]{2,24}")
HEX_HASH = re.compile(r"(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64})")
HASHED = re.compile(r"~[0-9a-f]{8}")
# values a site's item and a URL share without identifying anyone
NOT_IDENTIFIERS = frozenset({"undefined", "null", "true", "false", "granted", "denied", "accepted", "rejected"})
ID_VALUE = re.compile(r"(?=[A-Za-z0-9._\-]*\d)[A-Za-z0-9._\-]{8,200}")


@dataclass(frozen=True)
class UrlTrackingRules:
    max_body_bytes: int
    min_params: int
    cache_busters: frozenset[str]
    beacon_types: frozenset[str]
    click_ids: frozenset[str]
    user_ids: frozenset[str]
    emails: frozenset[str]
    purposes: dict[str, str]        # kind -> purpose
    cookie_value_min: int

    @classmethod
    def load(cls, path: str | Path | None = None) -> "UrlTrackingRules":
        data = yaml.load(Path(path or rules_dir() / FILE_NAME).read_text(encoding="utf-8"),
                         Loader=BoundedSafeLoader) or {}
        pixel = data.get("pixel") or {}
        ids = data.get("identifiers") or {}

        def names(key: str) -> frozenset[str]:
            return frozenset(str(n).lower() for n in (ids.get(key) or {}).get("names") or [])

        def purpose(key: str) -> str:
            return str((ids.get(key) or {}).get("purpose") or "marketing")
        return cls(int(pixel.get("max_body_bytes") or 200), int(pixel.get("min_params") or 2),
                   frozenset(str(n).lower() for n in pixel.get("cache_busters") or []),
                   frozenset(str(n).lower() for n in pixel.get("beacon_types") or ["ping"]),
                   names("click_ids"), names("user_ids"), names("emails"),
                   {"click-id": purpose("click_ids"), "user-id": purpose("user_ids"),
                    "email": purpose("emails"), "email-hash": purpose("emails")},
                   int(ids.get("cookie_value_min") or 8))

    def identifiers(self, url: str) -> list[dict]:
        """The identifiers the URL's query (and fragment) carries by their name and shape: param,
        kind, purpose. Values are never returned."""
        found: list[dict] = []
        for name, value in _params(url):
            kind = self._kind(name.lower(), value)
            if kind is None or any(f["param"] == name[:100] for f in found):
                continue
            found.append({"param": name[:100], "kind": kind, "purpose": self.purposes.get(kind)})
            if len(found) >= MAX_FOUND:
                break
        return found

    def stored_values(self, url: str, values: dict[str, tuple[str, str | None]]) -> list[dict]:
        """Parameters of a (redacted or raw) URL whose value is the value of an item the site
        stored: `values` maps the first 8 hex digits of the item's value_sha256 to (name, purpose).
        A redacted value `~<8 hex>` is that same hash; a raw one is hashed here."""
        found: list[dict] = []
        for name, value in _params(url):
            if not value or value.lower() in NOT_IDENTIFIERS:
                continue
            digest = value[1:] if HASHED.fullmatch(value) else short_hash(value)[:8]
            if digest in values and not any(f["param"] == name[:100] for f in found):
                item, purpose = values[digest]
                found.append({"param": name[:100], "kind": "cookie-value", "purpose": purpose, "cookie": item[:200]})
                if len(found) >= MAX_FOUND:
                    break
        return found

    def _kind(self, name: str, value: str) -> str | None:
        if not value:
            return None
        if name in self.click_ids and len(value) >= 4:
            return "click-id"
        if EMAIL.fullmatch(value.strip()):
            return "email"
        if name in self.emails and HEX_HASH.fullmatch(value):
            return "email-hash"
        if name in self.user_ids and ID_VALUE.fullmatch(value):
            return "user-id"
        return None

    def is_pixel(self, request: dict) -> bool:
        """A third party's beacon, or a tiny (or empty) image whose URL carries data."""
        if request.get("party") != "third":
            return False
        kind = str(request.get("resource_type") or "")
        if kind in self.beacon_types:
            return True
        if kind != "image":
            return False
        size = request.get("body_bytes")
        tiny = request.get("status") == 204 or (isinstance(size, int) and not isinstance(size, bool)
                                                 and 0 <= size <= self.max_body_bytes)
        if not tiny:
            return False
        if request.get("identifiers"):
            return True
        data = {name.lower() for name, _ in _params(str(request.get("url") or ""), fragment=False)}
        return len(data - self.cache_busters) >= self.min_params


def describe(entry: dict) -> str:
    """'gclid (click-id)', 'fbp (cookie-value of _fbp)': one identifier found in a URL, in words."""
    cookie = f" of {entry.get('cookie')}" if entry.get("cookie") else ""
    return f"{entry.get('param')} ({entry.get('kind')}{cookie})"


def _params(url: str, *, fragment: bool = True) -> list[tuple[str, str]]:
    """The query's (and fragment's, when it looks like a query) parameters, bounded."""
    try:
        parts = urlsplit(url[:MAX_URL_SCANNED])
    except ValueError:
        return []
    pairs: list[tuple[str, str]] = []
    for text in (parts.query, parts.fragment if fragment and "=" in parts.fragment else ""):
        if text:
            try:
                pairs.extend(parse_qsl(text, keep_blank_values=False, max_num_fields=None)[:MAX_PARAMS])
            except ValueError:
                continue
    return pairs[:MAX_PARAMS]


@lru_cache(maxsize=1)
def default_url_tracking() -> UrlTrackingRules:
    return UrlTrackingRules.load()
