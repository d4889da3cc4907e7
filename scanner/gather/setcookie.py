"""Parse a Set-Cookie line (or a `document.cookie = ...` string) as the site wrote it."""
from __future__ import annotations

from dataclasses import dataclass
from email.utils import parsedate_to_datetime


@dataclass
class CookieAttempt:
    """One attempt to set a cookie, by a response header or a script."""

    name: str
    value: str
    domain_attr: str | None          # Domain= as written, without leading dot
    path: str | None
    max_age: int | None
    expires_at: float | None         # epoch seconds from Expires=
    secure: bool
    http_only: bool
    same_site: str | None
    partitioned: bool
    host: str                        # host of the response or of the writing frame
    set_by: str                      # "header" | "script"
    setter_url: str | None
    at: float                        # epoch seconds when it was seen
    blocked_reasons: tuple[str, ...] = ()

    @property
    def requested_lifetime_s(self) -> int | None:
        """Lifetime the site asked for: Max-Age wins over Expires (RFC 6265 5.3)."""
        if self.max_age is not None:
            return self.max_age
        if self.expires_at is not None:
            return int(round(self.expires_at - self.at))
        return None

    @property
    def is_deletion(self) -> bool:
        lifetime = self.requested_lifetime_s
        return lifetime is not None and lifetime <= 0

    @property
    def effective_domain(self) -> str:
        """Domain key as Chromium stores it: '.example.com' for Domain=, bare host otherwise."""
        if self.domain_attr:
            return "." + self.domain_attr.lstrip(".").lower()
        return self.host.lower()


def parse_set_cookie(line: str, *, host: str, set_by: str, setter_url: str | None, at: float,
                     blocked_reasons: tuple[str, ...] = ()) -> CookieAttempt | None:
    parts = line.split(";")
    name, sep, value = parts[0].partition("=")
    if not sep:  # "foo" alone means a cookie with an empty name and value "foo"
        name, value = "", parts[0]
    name, value = name.strip(), value.strip()
    if not name and not value:
        return None
    attrs: dict[str, str] = {}
    flags: set[str] = set()
    for part in parts[1:]:
        key, sep, val = part.partition("=")
        key = key.strip().lower()
        if not key:
            continue
        if sep:
            attrs[key] = val.strip()
        else:
            flags.add(key)
    max_age = None
    if "max-age" in attrs:
        text = attrs["max-age"]
        if text.lstrip("-").isdigit():
            max_age = int(text)
    expires_at = None
    if "expires" in attrs:
        try:
            expires_at = parsedate_to_datetime(attrs["expires"]).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            expires_at = None
    same_site = attrs.get("samesite")
    if same_site:
        same_site = same_site.capitalize() if same_site.lower() in ("lax", "strict", "none") else same_site
    return CookieAttempt(
        name=name, value=value,
        domain_attr=(attrs.get("domain") or "").lstrip(".") or None,
        path=attrs.get("path") or None,
        max_age=max_age, expires_at=expires_at,
        secure="secure" in flags, http_only="httponly" in flags,
        same_site=same_site, partitioned="partitioned" in flags,
        host=host, set_by=set_by, setter_url=setter_url, at=at,
        blocked_reasons=tuple(blocked_reasons),
    )


def script_refusal(attempt: CookieAttempt) -> tuple[str, ...]:
    """Why Chromium refuses a `document.cookie` write, for the refusals its rules make certain
    (it reports Set-Cookie headers it refuses, never script writes). Reasons use the names of
    DevTools' SetCookieBlockedReason, as header refusals do. Empty: stored, as far as we know."""
    reasons = []
    host = attempt.host.lower().rstrip(".")
    domain = (attempt.domain_attr or "").lower().rstrip(".")
    if domain and host != domain and not host.endswith("." + domain):
        reasons.append("InvalidDomain")
    name = attempt.name.lower()
    if (name.startswith("__secure-") and not attempt.secure) or \
            (name.startswith("__host-") and (not attempt.secure or domain or attempt.path != "/")):
        reasons.append("InvalidPrefix")
    if (attempt.same_site or "").lower() == "none" and not attempt.secure:
        reasons.append("SameSiteNoneInsecure")
    if len(attempt.name) + len(attempt.value) > 4096:
        reasons.append("NameValuePairExceedsMaxSize")
    return tuple(reasons)
