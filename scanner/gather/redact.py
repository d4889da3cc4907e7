"""Keep identifiers out of reports: hash cookie/storage values and query-string values."""
from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MAX_URL = 2048


def short_hash(value: str | bytes) -> str:
    data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
    return hashlib.sha256(data).hexdigest()[:16]


def redact_url(url: str, keep_query: bool) -> str:
    """Without keep_query, query values become `~<hash>` so parameter names stay readable."""
    if not url:
        return url
    if keep_query or "?" not in url:
        return url[:MAX_URL]
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("?", 1)[0][:MAX_URL]
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = urlencode([(k, f"~{short_hash(v)[:8]}" if v else "") for k, v in pairs], safe="~")
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))[:MAX_URL]
