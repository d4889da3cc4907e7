"""Registrable domains and first/third-party classification, offline."""
from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

import tldextract

# suffix_list_urls=() keeps tldextract offline: it uses the snapshot it ships.
_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


@lru_cache(maxsize=4096)
def registrable_domain(host: str) -> str:
    """`www.google-analytics.com` -> `google-analytics.com`; IPs and bare names unchanged."""
    host = (host or "").strip(".").lower()
    if not host:
        return ""
    parts = _EXTRACT(host)
    if parts.top_domain_under_public_suffix:
        return parts.top_domain_under_public_suffix
    labels = host.split(".")
    if parts.suffix or len(labels) < 2 or labels[-1].isdigit() or ":" in host:
        return host  # an IP address, a bare name, or a public suffix itself
    # An unknown top-level domain (.test, .internal): like Chromium, treat the last label
    # as the registry, so www.shop.test and blog.shop.test are one site.
    return ".".join(labels[-2:])


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def party(host: str, site_domain: str) -> str:
    """'first' when `host` shares the site's registrable domain, else 'third'."""
    return "first" if registrable_domain(host) == site_domain else "third"
