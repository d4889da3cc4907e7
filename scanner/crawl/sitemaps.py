"""robots.txt `Sitemap:` lines and sitemap XML <loc> entries (text only, never evaluated).

Only absolute http(s) URLs are kept: the browser fetches sitemaps, and a file:// (or data:,
javascript:, chrome:) "sitemap" would be read from the scanning machine. Where http(s) URLs may
connect is the egress guard's decision (scanner/egress.py), at connection time."""
from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

_SITEMAP_LINE = re.compile(r"^\s*sitemap\s*:\s*(\S+)", re.IGNORECASE | re.MULTILINE)
_LOC = re.compile(r"<loc>\s*([^<\s]{1,2048})\s*</loc>", re.IGNORECASE)
_INDEX = re.compile(r"<sitemapindex", re.IGNORECASE)
MAX_LOCS = 50000


def is_web_url(url: str) -> bool:
    """An absolute http(s) URL with a host and no user name or password in it."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname) and "@" not in parts.netloc


def sitemap_urls_from_robots(text: str) -> list[str]:
    return [url for url in (m.group(1) for m in _SITEMAP_LINE.finditer(text or "")) if is_web_url(url)][:50]


def locs_from_sitemap(text: str) -> tuple[list[str], bool]:
    """(<loc> URLs, whether this is a sitemap index pointing at other sitemaps)."""
    text = text or ""
    locs = (html.unescape(m.group(1)) for m in _LOC.finditer(text))
    return [url for url in locs if is_web_url(url)][:MAX_LOCS], bool(_INDEX.search(text[:5000]))
