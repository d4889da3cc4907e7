"""robots.txt `Sitemap:` lines and sitemap XML <loc> entries (text only, never evaluated)."""
from __future__ import annotations

import html
import re

_SITEMAP_LINE = re.compile(r"^\s*sitemap\s*:\s*(\S+)", re.IGNORECASE | re.MULTILINE)
_LOC = re.compile(r"<loc>\s*([^<\s]{1,2048})\s*</loc>", re.IGNORECASE)
_INDEX = re.compile(r"<sitemapindex", re.IGNORECASE)
MAX_LOCS = 50000


def sitemap_urls_from_robots(text: str) -> list[str]:
    return [m.group(1) for m in _SITEMAP_LINE.finditer(text or "")][:50]


def locs_from_sitemap(text: str) -> tuple[list[str], bool]:
    """(<loc> URLs, whether this is a sitemap index pointing at other sitemaps)."""
    text = text or ""
    return [html.unescape(m.group(1)) for m in _LOC.finditer(text)][:MAX_LOCS], bool(_INDEX.search(text[:5000]))
