"""Record what one browser context stores and contacts, with what caused each item.

Sources, all from the real browser:
- CDP Network events: every request (initiator, frame, redirects, timing) and every
  Set-Cookie response header, including the lines Chromium refused and why;
- an init script (instrument.js) that reports `document.cookie`, `cookieStore.set`,
  `Storage.setItem` and `indexedDB.open` calls with the script URL on top of the stack;
- the cookie jar (CDP Network.getAllCookies) and each frame's web storage at the end.
"""
from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from ..domains import host_of, party, registrable_domain
from .redact import redact_url, short_hash
from .seed import SEED_WORLD
from .setcookie import CookieAttempt, parse_set_cookie

INSTRUMENT_JS = (Path(__file__).with_name("instrument.js")).read_text(encoding="utf-8")
BINDING = "__cookieScannerRecord"
MAX_REQUESTS = 20000

STORAGE_JS = """
async () => {
  const out = {origin: location.origin, items: [], idb: []};
  for (const kind of ['local', 'session']) {
    try {
      const st = kind === 'local' ? window.localStorage : window.sessionStorage;
      for (let i = 0; i < st.length && i < 2000; i++) {
        const k = st.key(i); const v = st.getItem(k) || '';
        out.items.push([kind, String(k).slice(0, 1024), v.length, v.slice(0, 1048576)]);
      }
    } catch (e) { /* storage denied in this frame */ }
  }
  try {
    if (indexedDB.databases) {
      const dbs = await Promise.race([indexedDB.databases(), new Promise(r => setTimeout(() => r([]), 1000))]);
      for (const db of dbs || []) out.idb.push(String(db.name).slice(0, 1024));
    }
  } catch (e) { /* ignore */ }
  return out;
}
"""


def _first_script_url(initiator: dict) -> str | None:
    stack = initiator.get("stack")
    while stack:
        for frame in stack.get("callFrames") or []:
            if frame.get("url"):
                return frame["url"]
        stack = stack.get("parent")
    return None


class ContextRecorder:
    """Attach to one context (and its pages); collect per-page records."""

    def __init__(self, context, *, site_domain: str, keep_values: bool, keep_query: bool,
                 seed: "ContextRecorder | None" = None):
        self.context = context
        self.site_domain = site_domain
        self.keep_values = keep_values
        self.keep_query = keep_query
        # A context created from a saved consent state inherits its cookies: keep what we
        # learnt then about who set them, so attribution survives the hand-over.
        self.attempts: list[CookieAttempt] = list(seed.attempts) if seed else []
        self._seeded = {id(a) for a in self.attempts}   # written before this visit (consent phase)
        self.storage_writers: dict[tuple[str, str, str], str | None] = dict(seed.storage_writers) if seed else {}
        self.requests: list[dict] = []
        self._hops: dict[str, list[dict]] = {}
        self._extra_seen: dict[str, int] = {}
        self._frames: dict[str, str] = {}
        self._nav_ts: float | None = None
        self.last_activity = time.monotonic()
        self.inflight: set[str] = set()
        self.sessions = []

    async def attach(self, page, ua_override: dict | None = None, seed_script: str | None = None) -> None:
        """One DevTools session per page: network events, plus instrument.js injected into
        every frame before its scripts run, reporting through a CDP binding (cheaper than
        Playwright's expose_binding + add_init_script round trips). `ua_override`:
        Emulation.setUserAgentOverride parameters (see browser.user_agent_override).
        `seed_script`: restores the consent state's localStorage (see gather.seed)."""
        session = await self.context.new_cdp_session(page)
        session.on("Runtime.bindingCalled", self._on_binding_called)
        session.on("Network.requestWillBeSent", self._on_request)
        session.on("Network.responseReceived", self._on_response)
        session.on("Network.responseReceivedExtraInfo", self._on_extra_info)
        session.on("Network.loadingFinished", self._on_done)
        session.on("Network.loadingFailed", self._on_failed)
        session.on("Page.frameNavigated", self._on_frame)
        await asyncio.gather(
            session.send("Network.enable"),
            session.send("Page.enable"),
            session.send("Runtime.enable"),
            session.send("Runtime.addBinding", {"name": BINDING}),
            session.send("Page.addScriptToEvaluateOnNewDocument", {"source": INSTRUMENT_JS}),
            *([session.send("Emulation.setUserAgentOverride", ua_override)] if ua_override else []),
            *([session.send("Page.addScriptToEvaluateOnNewDocument", {"source": seed_script, "worldName": SEED_WORLD})]
              if seed_script else []),
        )
        self.sessions.append(session)

    def begin_page(self) -> int:
        """Start a new page: requests from here on belong to it. Returns the index."""
        self._nav_ts = None
        self.last_activity = time.monotonic()
        return len(self.requests)

    # ---- CDP events -------------------------------------------------------------
    def _on_request(self, event: dict) -> None:
        self.last_activity = time.monotonic()
        if len(self.requests) >= MAX_REQUESTS:
            return
        rid = event["requestId"]
        request = event.get("request") or {}
        url = request.get("url", "")
        hops = self._hops.setdefault(rid, [])
        redirect = event.get("redirectResponse")
        if redirect and hops:
            hops[-1]["status"] = redirect.get("status")
        ts = event.get("timestamp") or 0.0
        if self._nav_ts is None and event.get("type") == "Document":
            self._nav_ts = ts
        initiator = event.get("initiator") or {}
        initiator_url = initiator.get("url") or _first_script_url(initiator)
        host = host_of(url)
        entry = {
            "url": url,
            "method": request.get("method", "GET"),
            "resource_type": (event.get("type") or "Other").lower(),
            "status": None,
            "host": host,
            "party": party(host, self.site_domain) if host else "first",
            "frame_url": self._frames.get(event.get("frameId", ""), event.get("documentURL")),
            "initiator_type": initiator.get("type"),
            "initiator_url": initiator_url,
            "redirect_chain": [h["url"] for h in hops],
            "time_ms": int(round((ts - self._nav_ts) * 1000)) if self._nav_ts is not None else 0,
            "error": None,
        }
        hops.append(entry)
        self.requests.append(entry)
        self.inflight.add(rid)

    def _on_response(self, event: dict) -> None:
        hops = self._hops.get(event["requestId"])
        if hops:
            hops[-1]["status"] = (event.get("response") or {}).get("status")

    def _on_done(self, event: dict) -> None:
        self.inflight.discard(event["requestId"])

    def _on_failed(self, event: dict) -> None:
        self.inflight.discard(event["requestId"])
        hops = self._hops.get(event["requestId"])
        if hops:
            reason = event.get("blockedReason") or event.get("errorText") or "failed"
            hops[-1]["error"] = "canceled" if event.get("canceled") else reason

    def _on_frame(self, event: dict) -> None:
        frame = event.get("frame") or {}
        if frame.get("id"):
            self._frames[frame["id"]] = frame.get("url", "")

    def _on_extra_info(self, event: dict) -> None:
        rid = event["requestId"]
        index = self._extra_seen.get(rid, 0)
        self._extra_seen[rid] = index + 1
        hops = self._hops.get(rid) or []
        hop = hops[min(index, len(hops) - 1)] if hops else None
        url = hop["url"] if hop else ""
        headers = event.get("headers") or {}
        lines: list[str] = []
        for key, value in headers.items():
            if key.lower() == "set-cookie":
                lines.extend(line for line in str(value).split("\n") if line.strip())
        blocked = {}
        for item in event.get("blockedCookies") or []:
            line = item.get("cookieLine") or ""
            blocked[line] = tuple(item.get("blockedReasons") or ())
            if line not in lines:
                lines.append(line)
        now = time.time()
        for line in lines:
            attempt = parse_set_cookie(line, host=host_of(url), set_by="header", setter_url=url,
                                       at=now, blocked_reasons=blocked.get(line, ()))
            if attempt:
                self.attempts.append(attempt)

    # ---- instrument.js events --------------------------------------------------
    def _on_binding_called(self, event: dict) -> None:
        if event.get("name") != BINDING:
            return
        try:
            payload = json.loads(event.get("payload") or "null")
        except ValueError:
            return
        self._on_binding({}, payload)

    def _on_binding(self, source: dict, event) -> None:
        if not isinstance(event, dict):
            return
        frame_url = str(event.get("frame_url") or "")
        stack = [str(u) for u in (event.get("stack") or [])[:8]]
        setter = stack[0] if stack else None
        kind = event.get("type")
        if kind == "cookie" and event.get("api") == "document.cookie":
            attempt = parse_set_cookie(str(event.get("raw") or ""), host=host_of(frame_url),
                                       set_by="script", setter_url=setter or frame_url, at=time.time())
            if attempt:
                self.attempts.append(attempt)
        elif kind == "cookie":
            expires = event.get("expires")
            self.attempts.append(CookieAttempt(
                name=str(event.get("name") or ""), value="", domain_attr=event.get("domain"),
                path=event.get("path"), max_age=None,
                expires_at=(float(expires) / 1000.0) if isinstance(expires, (int, float)) else None,
                secure=True, http_only=False, same_site=None, partitioned=False,
                host=host_of(frame_url), set_by="script", setter_url=setter or frame_url, at=time.time()))
        elif kind == "storage":
            origin = _origin(frame_url)
            self.storage_writers[(str(event.get("kind")), origin, str(event.get("key")))] = setter or frame_url

    # ---- settling and snapshots -------------------------------------------------
    async def settle(self, quiet_ms: int, cap_s: float) -> None:
        """Return once no request has started for `quiet_ms`, or after `cap_s`."""
        deadline = time.monotonic() + cap_s
        quiet = quiet_ms / 1000.0
        while True:
            now = time.monotonic()
            idle = now - self.last_activity
            if idle >= quiet or now >= deadline:
                return
            await asyncio.sleep(min(quiet - idle, deadline - now, 0.25) + 0.01)

    async def cookies(self) -> list[dict]:
        session = self.sessions[-1]
        jar = (await session.send("Network.getAllCookies")).get("cookies", [])
        return self._merge_cookies(jar, time.time())

    def _merge_cookies(self, jar: list[dict], now: float) -> list[dict]:
        latest: dict[tuple[str, str], CookieAttempt] = {}
        refused: list[CookieAttempt] = []
        for attempt in self.attempts:
            if attempt.blocked_reasons:
                refused.append(attempt)
            elif not attempt.is_deletion:
                latest[(attempt.name, attempt.effective_domain)] = attempt
            else:
                latest.pop((attempt.name, attempt.effective_domain), None)
        records = []
        for c in jar:
            domain = c.get("domain", "")
            attempt = latest.get((c.get("name", ""), domain)) or latest.get((c.get("name", ""), domain.lstrip(".")))
            records.append(self._cookie_record(c, attempt, now))
        for attempt in refused:
            records.append(self._refused_record(attempt))
        return records

    def _value_fields(self, value: str) -> dict:
        fields = {"value_len": len(value), "value_sha256": short_hash(value)}
        if self.keep_values:
            fields["value"] = value
        return fields

    def _cookie_record(self, c: dict, attempt: CookieAttempt | None, now: float) -> dict:
        session = bool(c.get("session")) or (c.get("expires", -1) or -1) < 0
        expires = None if session else float(c["expires"])
        set_at = attempt.at if attempt else now
        domain = c.get("domain", "")
        return {
            "name": c.get("name", ""),
            "domain": domain,
            "path": c.get("path", "/"),
            "party": party(domain.lstrip("."), self.site_domain),
            "set_by": attempt.set_by if attempt else "unknown",
            "setter_url": redact_url(attempt.setter_url, self.keep_query) if attempt and attempt.setter_url else None,
            "expires": int(expires) if expires is not None else None,
            "requested_lifetime_s": attempt.requested_lifetime_s if attempt else None,
            "lifetime_s": int(round(expires - set_at)) if expires is not None else None,
            "session": session,
            "secure": bool(c.get("secure")),
            "http_only": bool(c.get("httpOnly")),
            "same_site": c.get("sameSite"),
            "partitioned": bool(c.get("partitionKey")),
            "size": c.get("size", 0),
            **self._value_fields(c.get("value", "")),
            "stored": True,
            "blocked_reasons": [],
            # in the jar when the visit began (the state's saved storage) and not written again by it
            "carried_over": attempt is None or id(attempt) in self._seeded,
        }

    def _refused_record(self, a: CookieAttempt) -> dict:
        domain = a.effective_domain
        return {
            "name": a.name, "domain": domain, "path": a.path or "/",
            "party": party(domain.lstrip("."), self.site_domain),
            "set_by": a.set_by, "setter_url": redact_url(a.setter_url or "", self.keep_query) or None,
            "expires": int(a.expires_at) if a.expires_at else None,
            "requested_lifetime_s": a.requested_lifetime_s, "lifetime_s": None,
            "session": a.requested_lifetime_s is None,
            "secure": a.secure, "http_only": a.http_only, "same_site": a.same_site,
            "partitioned": a.partitioned, "size": len(a.name) + len(a.value),
            **self._value_fields(a.value),
            "stored": False, "blocked_reasons": list(a.blocked_reasons),
        }

    async def storage(self, page) -> list[dict]:
        results: dict[tuple[str, str, str], dict] = {}
        for frame in list(page.frames):
            try:
                data = await asyncio.wait_for(frame.evaluate(STORAGE_JS), timeout=5)
            except Exception:  # frame detached, navigated or hung: skip it
                continue
            origin = str(data.get("origin") or "")
            if not origin.startswith("http"):
                continue
            for kind, key, length, value in data.get("items") or []:
                results[(kind, origin, key)] = self._storage_record(kind, origin, key, value, length, frame.url)
            for name in data.get("idb") or []:
                results[("indexeddb", origin, name)] = self._storage_record("indexeddb", origin, name, "", 0, frame.url)
        return list(results.values())

    def _storage_record(self, kind: str, origin: str, key: str, value: str, length: int, frame_url: str) -> dict:
        record = {
            "kind": kind, "origin": origin, "key": key,
            "party": party(host_of(origin), self.site_domain),
            "value_len": length, "value_sha256": short_hash(value) if kind != "indexeddb" else None,
            "setter_url": None, "frame_url": redact_url(frame_url, self.keep_query),
        }
        if self.keep_values and kind != "indexeddb":
            record["value"] = value
        setter = self.storage_writers.get((kind, origin, key))
        if setter:
            record["setter_url"] = redact_url(setter, self.keep_query)
        return record

    def page_requests(self, start: int) -> list[dict]:
        out = []
        for entry in self.requests[start:]:
            item = dict(entry)
            item["url"] = redact_url(item["url"], self.keep_query)
            item["redirect_chain"] = [redact_url(u, self.keep_query) for u in item["redirect_chain"]]
            for key in ("frame_url", "initiator_url"):
                if item.get(key):
                    item[key] = redact_url(item[key], self.keep_query)
            out.append(item)
        return out


def _origin(url: str) -> str:
    host_part = url.split("/", 3)
    return "/".join(host_part[:3]) if len(host_part) >= 3 else url


__all__ = ["ContextRecorder", "registrable_domain"]
