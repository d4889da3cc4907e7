"""Keep identifiers out of reports: hash cookie/storage values and query-string values.

The URL rule lives in scanner.redact (one function for every output); re-exported here for the recorder."""
from __future__ import annotations

from ..redact import MAX_URL, redact_url, short_hash

__all__ = ["MAX_URL", "redact_url", "short_hash"]
