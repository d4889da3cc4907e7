"""URL normalisation and scope."""
from __future__ import annotations

import fnmatch
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from ..domains import registrable_domain

TRACKING_PARAMS = re.compile(
    r"^(utm_[a-z_]+|gclid|gclsrc|dclid|gbraid|wbraid|fbclid|msclkid|mc_cid|mc_eid|yclid|_ga|_gl|_hsenc|_hsmi|"
    r"hsCtaTracking|igshid|twclid|ttclid|li_fat_id|mkt_tok|ref_src)$", re.IGNORECASE)
SKIP_EXTENSIONS = re.compile(r"\.(pdf|zip|gz|tgz|rar|7z|exe|dmg|msi|apk|iso|jpe?g|png|gif|webp|svg|ico|mp[34]|mov|avi|"
                             r"webm|wav|ogg|docx?|xlsx?|pptx?|csv|xml|json|txt|css|js|woff2?|ttf|eot)$", re.IGNORECASE)


def normalize_url(url: str, base: str | None = None) -> str | None:
    """Absolute http(s) URL without fragment, tracking parameters or default port, query sorted."""
    try:
        parts = urlsplit(urljoin(base, url) if base else url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    netloc = host if port in (None, 80 if scheme == "http" else 443) else f"{host}:{port}"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if not TRACKING_PARAMS.match(k)))
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def path_pattern(url: str) -> str:
    """The shape of a URL, for capping look-alike pages: digits and ids become '#'."""
    parts = urlsplit(url)
    path = re.sub(r"\d+", "#", parts.path)
    path = re.sub(r"[0-9a-f]{8,}|[A-Za-z0-9_-]{24,}", "*", path)
    keys = sorted(k for k, _ in parse_qsl(parts.query, keep_blank_values=True))
    return path + ("?" + "&".join(keys) if keys else "")


def in_scope(url: str, start: str, scope: str = "domain") -> bool:
    host, start_host = urlsplit(url).hostname or "", urlsplit(start).hostname or ""
    if scope == "host":
        return host == start_host
    return registrable_domain(host) == registrable_domain(start_host)


def matches_globs(url: str, include: tuple[str, ...], exclude: tuple[str, ...]) -> bool:
    """Globs match the path (with query) or the whole URL."""
    parts = urlsplit(url)
    target = parts.path + ("?" + parts.query if parts.query else "")
    def hit(globs):
        return any(fnmatch.fnmatchcase(target, g) or fnmatch.fnmatchcase(url, g) for g in globs)
    if include and not hit(include):
        return False
    return not (exclude and hit(exclude))


def crawlable(url: str) -> bool:
    return not SKIP_EXTENSIONS.search(urlsplit(url).path)
