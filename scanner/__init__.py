"""cookie-scanner: drives real Chromium through every consent state and checks
what a website stores and contacts against its declaration and the law.

Public API:
    scan(options) -> dict          gather a report.json-shaped result (async: scan_async)
    ScanOptions                    what to scan and how
    __version__
"""
from __future__ import annotations

__version__ = "0.1.0"
SCHEMA_VERSION = "1.3"

from .options import ScanOptions  # noqa: E402
from .scan import scan, scan_async  # noqa: E402

__all__ = ["ScanOptions", "scan", "scan_async", "__version__", "SCHEMA_VERSION"]
