"""Navigate, settle and snapshot one page of a recorded context."""
from __future__ import annotations

import asyncio
import re

from ..classify.url_tracking import default_url_tracking
from ..domains import host_of, party
from ..egress import net_error
from .recorder import ContextRecorder
from .redact import redact_url

_NET_ERRORS = {
    "ERR_NAME_NOT_RESOLVED": "DNS lookup failed (host name not found)",
    "ERR_NAME_RESOLUTION_FAILED": "DNS lookup failed",
    "ERR_CONNECTION_REFUSED": "connection refused",
    "ERR_CONNECTION_RESET": "connection reset",
    "ERR_CONNECTION_CLOSED": "connection closed by the server",
    "ERR_CONNECTION_TIMED_OUT": "connection timed out",
    "ERR_ADDRESS_UNREACHABLE": "address unreachable",
    "ERR_TOO_MANY_REDIRECTS": "redirect loop (too many redirects)",
    "ERR_EMPTY_RESPONSE": "empty response from the server",
    "ERR_SSL_PROTOCOL_ERROR": "TLS protocol error",
    "ERR_BLOCKED_BY_EGRESS_GUARD": "refused by the egress guard (a private, loopback or link-local address)",
}


def describe_error(exc: BaseException, url: str = "", target: str | None = None) -> str:
    """One line a person can act on, from a Playwright navigation error. `target`: the URL the
    navigation was redirected to when that is where it failed (the error is then about it)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    failed = target or url
    text = net_error(failed, text) or text   # through the egress proxy: the error without the proxy
    where = f"{url} (redirected to {target})" if target and target != url else url
    match = re.search(r"net::(ERR_[A-Z_]+)", text)
    if match:
        code = match.group(1)
        if code.startswith("ERR_CERT") or code.startswith("ERR_SSL"):
            return (f"TLS certificate error ({code}) at {where}: the certificate is not trusted; "
                    "pass --ignore-https-errors for a staging or self-signed certificate")
        return f"{_NET_ERRORS.get(code, code)} ({code}) at {where}"
    if "Timeout" in text or isinstance(exc, asyncio.TimeoutError):
        return f"page did not finish loading in time at {url}"
    return f"{text[:300]} at {url}"


def _comparable(url: str) -> str:
    """A URL as a request shows it: no fragment, "https://a.test" and "https://a.test/" alike."""
    return url.split("#", 1)[0].rstrip("/")


async def navigate(page, url: str, *, timeout_s: float) -> tuple[int | None, str | None, str | None]:
    """goto(url) until `load`. Returns (status, error, target): `target` is the URL the main
    frame's navigation failed at when a redirect took it away from `url` (an HTTP redirect to a
    private address, refused by the egress guard), else None."""
    failed: list[str] = []

    def on_failed(request) -> None:
        try:
            if request.is_navigation_request() and request.frame == page.main_frame:
                failed.append(request.url)
        except Exception:   # the frame is already gone
            pass

    page.on("requestfailed", on_failed)
    try:
        response = await page.goto(url, wait_until="load", timeout=timeout_s * 1000)
    except Exception as exc:  # Playwright raises plain Error/TimeoutError subclasses
        await asyncio.sleep(0)   # a requestfailed event already received is dispatched first
        target = failed[-1] if failed and _comparable(failed[-1]) != _comparable(url) else None
        return None, describe_error(exc, url, target), target
    finally:
        page.remove_listener("requestfailed", on_failed)
    status = response.status if response else None
    return status, None, None


MAX_DECORATED = 200


def decorated_links(links, recorder: ContextRecorder) -> list[dict]:
    """The page's outgoing links to third parties that carry query parameters, with the
    identifiers their names and shapes show (read before the URLs are redacted); the
    classification step adds the values of the page's cookies and storage found in them and keeps
    only the links that carry an identifier (link decoration). One entry per distinct URL (as
    redacted), at most MAX_DECORATED."""
    rules = default_url_tracking()
    out: dict[str, dict] = {}
    for link in links or ():
        if not isinstance(link, str) or not link.lower().startswith(("http://", "https://")):
            continue
        if "?" not in link and "=" not in link.partition("#")[2]:
            continue
        host = host_of(link)
        if not host or party(host, recorder.site_domain) != "third":
            continue
        redacted = redact_url(link, recorder.keep_query)
        if redacted not in out:
            out[redacted] = {"url": redacted, "host": host, "party": "third", "identifiers": rules.identifiers(link)}
            if len(out) >= MAX_DECORATED:
                break
    return list(out.values())


async def page_record(page, recorder: ContextRecorder, *, url: str, status, error, start_index: int,
                      target: str | None = None, links: list[str] = ()) -> dict:
    """Snapshot the page: jar, storage of every frame, requests since `start_index`.
    `dropped` (only when something was): counts the recorder's caps left out, by kind
    (events, cookies, refused_cookies, storage, requests; see ContextRecorder.dropped)."""
    try:
        title = await asyncio.wait_for(page.title(), timeout=5)
    except Exception:
        title = ""
    record = {
        "url": redact_url(url, recorder.keep_query),
        "final_url": (redact_url(target, recorder.keep_query) if target else
                      redact_url(page.url, recorder.keep_query) if page.url and page.url != "about:blank" else None),
        "status": status,
        "error": error,
        "title": title[:500],
        "cookies": await recorder.cookies(),
        "storage": await recorder.storage(page),
        "requests": recorder.page_requests(start_index),
        "device_reads": recorder.page_device_reads(),
        "decorated_links": decorated_links(links, recorder),
    }
    dropped = recorder.dropped()
    if dropped:
        record["dropped"] = dropped
    return record
