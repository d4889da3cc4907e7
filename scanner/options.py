"""ScanOptions: everything a scan needs, validated once, passed explicitly."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .errors import UsageError

BLOCKED_SCHEMES_HINT = "only http:// and https:// URLs can be scanned"


def validate_url(url: str) -> str:
    """Return the URL if it is a scannable absolute http(s) URL, else raise UsageError."""
    text = (url or "").strip()
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise UsageError(f"malformed URL {text!r}: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        if parts.scheme:
            raise UsageError(f"unsupported URL scheme {parts.scheme!r} in {text!r}: {BLOCKED_SCHEMES_HINT}")
        raise UsageError(f"malformed URL {text!r}: expected an absolute URL such as https://www.example.com/")
    try:
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise UsageError(f"malformed URL {text!r}: {exc}") from None
    if not host or " " in text or ".." in host or host.startswith("-"):
        raise UsageError(f"malformed URL {text!r}: no valid host name")
    return text


FIXED_STATES = ("none", "reject", "accept", "withdraw")


def validate_state(state: str) -> str:
    if state in FIXED_STATES or (state.startswith("only:") and len(state) > 5 and " " not in state):
        return state
    raise UsageError(f"unknown state {state!r}: use none, reject, accept, only:<category> or withdraw")


@dataclass
class ScanOptions:
    url: str
    out_dir: Path | None = None
    states: tuple[str, ...] = ()            # empty: every state the site supports
    resolve: tuple[str, ...] = ()          # HOST=IP[:PORT] entries
    ignore_https_errors: bool = False
    locale: str = "en-US"
    timeout_s: float = 30.0                # per navigation
    quiet_ms: int = 1000                   # network quiet window after load
    settle_cap_s: float = 10.0             # longest settle per page
    keep_values: bool = False
    keep_query: bool = False
    chromium_path: str | None = None
    declaration_path: Path | None = None
    command: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.url = validate_url(self.url)
        self.states = tuple(self.states)
        for state in self.states:
            validate_state(state)
        if self.timeout_s <= 0:
            raise UsageError("--timeout must be positive")
