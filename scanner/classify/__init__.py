"""Offline lookups: known cookie names and third-party vendors (no browser).

    cookies = KnownCookies.load()           # rules/known-cookies.csv
    cookies.lookup("_ga_ABC123")            # -> KnownCookie(category="analytics", ...)
    vendors = Vendors.load()                # rules/vendors.json + vendor-countries.yaml
    vendors.for_host("region1.google-analytics.com")   # -> Vendor("Google Analytics", ...)

Loaders return plain objects for callers to pass around; `default_known_cookies()`
and `default_vendors()` load the shipped tables once.
"""
from __future__ import annotations

from .known_cookies import KnownCookie, KnownCookies, default_known_cookies
from .vendors import CATEGORY_PURPOSE, Vendor, Vendors, default_vendors

__all__ = [
    "CATEGORY_PURPOSE",
    "KnownCookie",
    "KnownCookies",
    "Vendor",
    "Vendors",
    "default_known_cookies",
    "default_vendors",
]
