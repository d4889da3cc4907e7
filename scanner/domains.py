"""Registrable domains and first/third-party classification, offline."""
from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

import tldextract

# suffix_list_urls=() keeps tldextract offline: it uses the snapshot it ships.
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@lru_cache(maxsize=4096)
def registrable_domain(host: str) -> str:
    """`www.google-analytics.com` -> `google-analytics.com`; IPs and bare names unchanged."""
    host = (host or "").strip(".").lower()
    if not host:
        return ""
    parts = _EXTRACT(host)
    return parts.top_domain_under_public_suffix or host


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def party(host: str, site_domain: str) -> str:
    """'first' when `host` shares the site's registrable domain, else 'third'."""
    return "first" if registrable_domain(host) == site_domain else "third"
