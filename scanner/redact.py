"""Secrets out of every output, and site text made harmless for a terminal or a spreadsheet.

One rule for every URL the scanner writes (report.json, every renderer, manifest.json, stderr):

    redact_url(url, keep_query=False)    credentials dropped (https://user:pass@host/ -> https://host/),
                                         query values hashed to `~<8 hex>` (keys kept) unless keep_query,
                                         fragment dropped; never raises
    redact_text(text, keep_query=False)  the same for every scheme://... URL inside free text
                                         (error messages, method texts, incomplete reasons)
    redact_arg(arg, keep_query=False)    one command-line argument: a URL in it runs to the argument's end
    redact_report(report)                every string of a report dict, in place (idempotent); the
                                         keep_query the scan was run with is read from report["options"]

Terminal and CSV safety:

    escape_controls(text, keep="")       C0 (but `keep`), DEL, C1 and bidi overrides/isolates as \\x1b,
                                         \\u202e...; everything else unchanged
    terminal_line(text, keep_query=False) redact_text + escape_controls: one safe line for stderr/stdout

Redaction is idempotent: a value already hashed (`~` and 8 hex digits) is left as it is, so a report
can be redacted when it is assembled, again before it is written and again when it is re-rendered.
"""
from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import unquote_plus

MAX_URL = 2048
UNPARSABLE = "[unparsable URL]"

_HASHED = re.compile(r"~[0-9a-f]{8}")
# scheme, the slashes (or backslashes: browsers read them as slashes) and the authority
_AUTHORITY = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*:)?([/\\]*)([^/\\?#]*)", re.S)
# A URL inside free text: a scheme and "://" (or ":\\"), up to white space, a quote or an angle bracket
# (other control characters stay inside: a query value is hashed whole rather than cut short).
_URL_IN_TEXT = re.compile(r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*:[/\\]{2}[^\s\"'<>`]*")
# An absolute URL nested in a query (kept with keep_query), plain or percent-encoded: its user info.
_NESTED_USERINFO = re.compile(
    r"(?i)((?::|%3A)(?:/|%2F|\\){2})((?:(?!%2F|%3F|%23)[^/?#&=\s@\\])+?)(@|%40)")
# Characters a terminal (or a spreadsheet viewer) acts on: C0, DEL, C1, bidi embeddings/overrides/isolates.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_TRAILING = ".,;:!"


def short_hash(value: str | bytes) -> str:
    data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
    return hashlib.sha256(data).hexdigest()[:16]


def _hash_value(raw: str) -> str:
    if not raw or _HASHED.fullmatch(raw):
        return raw
    try:
        decoded = unquote_plus(raw)
    except Exception:  # noqa: BLE001 - hostile input: hash the raw text instead
        decoded = raw
    return f"~{short_hash(decoded)[:8]}"


def _hash_query(query: str) -> str:
    """`a=1&b=&c` -> `a=~6b86b273&b=&c`: keys as written, values hashed as parse_qsl decodes them."""
    parts = []
    for pair in query.split("&"):
        key, eq, value = pair.partition("=")
        parts.append(f"{key}{eq}{_hash_value(value)}" if eq else key)
    return "&".join(parts)


def _strip_nested_userinfo(text: str) -> str:
    return _NESTED_USERINFO.sub(lambda m: m.group(1), text)


def _redact(url: str, keep_query: bool) -> str:
    head, _, _fragment = url.partition("#")
    base, question, query = head.partition("?")
    match = _AUTHORITY.match(base)
    scheme, slashes, authority = match.group(1) or "", match.group(2), match.group(3)
    if (scheme or len(slashes) >= 2) and "@" in authority:
        authority = authority.rsplit("@", 1)[1]
    rest = base[match.end():]
    if question:
        query = query if keep_query else _hash_query(query)
    out = f"{scheme}{slashes}{authority}{_strip_nested_userinfo(rest)}{question}{_strip_nested_userinfo(query)}"
    if len(out) <= MAX_URL:
        return out
    cut = out[:MAX_URL]
    if question and not keep_query and "?" in cut:  # never end on half a hash: redacting again changes nothing
        cut = cut[:max(cut.rfind("&"), cut.index("?") + 1)]
    return cut


def redact_url(url: Any, keep_query: bool = False) -> Any:
    """The URL as the scanner may write it; None and "" as they are; never raises."""
    if not url or not isinstance(url, str):
        return url
    if ("@" not in url and "%40" not in url and "#" not in url and (keep_query or "?" not in url)
            and len(url) <= MAX_URL):
        return url  # the common case, untouched
    try:
        return _redact(url, keep_query)
    except Exception:  # noqa: BLE001 - a hostile string must not stop a report
        return UNPARSABLE


def _url_span(match: re.Match) -> str:
    text = match.group(0)
    while text and text[-1] in _TRAILING:
        text = text[:-1]
    while text.endswith(")") and text.count(")") > text.count("("):
        text = text[:-1]
    return text


def redact_text(text: Any, keep_query: bool = False) -> Any:
    """Every scheme://... URL inside `text` redacted as redact_url does; the rest unchanged."""
    if not text or not isinstance(text, str) or (":/" not in text and ":\\" not in text):
        return text
    try:
        def one(match: re.Match) -> str:
            url = _url_span(match)
            return redact_url(url, keep_query) + match.group(0)[len(url):]
        return _URL_IN_TEXT.sub(one, text)
    except Exception:  # noqa: BLE001
        return UNPARSABLE


def redact_arg(arg: Any, keep_query: bool = False) -> Any:
    """A command-line argument: from the first scheme://, the rest of the argument is one URL."""
    if not isinstance(arg, str):
        return arg
    match = _URL_IN_TEXT.search(arg)
    if not match:
        return arg
    return arg[:match.start()] + redact_url(arg[match.start():], keep_query)


def redact_command(command: Any, keep_query: bool = False) -> list:
    if isinstance(command, str):
        command = [command]
    return [redact_arg(str(c), keep_query) for c in command or []]


# --------------------------------------------------------------------------- a whole report

# Fields kept as they are: a cookie/storage value is only there when --keep-values asked for it.
_VERBATIM_KEYS = frozenset({"value"})


def _walk(obj: Any, keep_query: bool) -> Any:
    if isinstance(obj, str):
        return redact_text(obj, keep_query)
    if isinstance(obj, dict):
        return {(redact_text(k, keep_query) if isinstance(k, str) else k):
                (v if k in _VERBATIM_KEYS else _walk(v, keep_query)) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_walk(v, keep_query) for v in obj]
    return obj


def report_keep_query(report: dict) -> bool:
    options = report.get("options") if isinstance(report, dict) else None
    return bool(isinstance(options, dict) and options.get("keep_query") is True)


def redact_report(report: dict, keep_query: bool | None = None) -> dict:
    """Redact every URL in a report dict, in place (top-level keys reassigned, nested containers
    rebuilt: a shallow copy of a live result can be redacted without touching the original's
    states). `command` entries are redacted as whole arguments. Returns the report."""
    if not isinstance(report, dict):
        return report
    if keep_query is None:
        keep_query = report_keep_query(report)
    for key in list(report):
        if key == "command" and isinstance(report[key], (list, tuple, str)):
            report[key] = redact_command(report[key], keep_query)
        else:
            report[key] = _walk(report[key], keep_query)
    return report


# --------------------------------------------------------------------------- terminal and CSV

def _escape(match: re.Match) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape_controls(text: Any, keep: str = "") -> Any:
    """Control characters (C0 but those in `keep`, DEL, C1) as \\x1b, bidi controls as \\u202e."""
    if not isinstance(text, str) or not _CONTROLS.search(text):
        return text
    if keep:
        return _CONTROLS.sub(lambda m: m.group(0) if m.group(0) in keep else _escape(m), text)
    return _CONTROLS.sub(_escape, text)


def terminal_line(text: Any, keep_query: bool = False, keep: str = "") -> str:
    """Text from a site or a user made safe to print: URLs redacted, control characters escaped."""
    return escape_controls(redact_text(str(text), keep_query), keep)


def escape_json_text(text: str) -> str:
    """JSON text (json.dumps, ensure_ascii=False) with DEL, C1 and bidi controls as \\uXXXX escapes:
    still valid JSON, the same data, inert on a terminal (json.dumps already escapes C0)."""
    return _CONTROLS.sub(lambda m: m.group(0) if m.group(0) < " " else f"\\u{ord(m.group(0)):04x}", text)


def redacted(report: dict) -> dict:
    """A redacted view of a report for a renderer; the caller's dict is left as it is."""
    return redact_report(dict(report)) if isinstance(report, dict) else report
