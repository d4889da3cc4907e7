"""Record what one browser context stores and contacts, with what caused each item.

Sources, all from the real browser:
- CDP Network events: every request (initiator, frame, redirects, timing) and every
  Set-Cookie response header, including the lines Chromium refused and why;
- an init script (instrument.js) that reports `document.cookie`, `cookieStore.set`,
  `Storage.setItem` and `indexedDB.open` calls with the script URL on top of the stack, and the
  device-property reads fingerprinting relies on (canvas read-back of drawn text, WebGL renderer,
  audio rendering, font probing, plugins, media devices, battery, high-entropy client hints);
- the cookie jar (CDP Network.getAllCookies) and each frame's web storage at the end.

What a page can make the recorder hold is capped here, in Python, whatever the page does (the
instrument script's own limits are a courtesy: a page could get around them): per page visit,
at most MAX_EVENTS instrument calls of at most MAX_PAYLOAD characters each, carrying the
context's secret (see instrument.js: page scripts can neither reach the binding nor read the
secret), MAX_COOKIES cookies of the jar, MAX_REFUSED distinct refused cookies (one per name,
domain, path and reasons), MAX_STORAGE storage entries and MAX_REQUESTS requests (past the first
REQUESTS_BEFORE_DEDUP, a request identical to an earlier one is not listed again). What was
left out is counted in the page record's `dropped` (see `dropped()`); after MAX_DROPPED_EVENTS
dropped calls, the recorder stops listening to the page (Runtime.removeBinding). A call without the
secret means a page script got hold of the binding: the recorder stops the running script
(Runtime.terminateExecution) and the binding at the first one, so a flood never gets far.
"""
from __future__ import annotations

import asyncio
import json
import secrets
import time
from pathlib import Path

from ..classify import consent_mode
from ..classify import tcf_vendors
from ..classify.tcf_vendors import default_tcf_vendors
from ..classify.url_tracking import default_url_tracking
from ..egress import net_error
from ..domains import host_of, party, registrable_domain
from .redact import redact_url, short_hash
from .seed import SEED_WORLD
from .setcookie import CookieAttempt, parse_set_cookie, script_refusal

INSTRUMENT_JS = (Path(__file__).with_name("instrument.js")).read_text(encoding="utf-8")
MAX_EVENTS = 10000            # instrument calls accepted per page visit (5,000 per document in the page)
MAX_DROPPED_EVENTS = 10000    # then the recorder stops listening to the binding (Runtime.removeBinding)
MAX_PAYLOAD = 32 * 1024       # characters per call: a cookie line is cut at 8 KB, 8 stack URLs at 2 KB
MAX_COOKIES = 2000            # cookies of the jar listed per page (Chromium itself keeps at most 3,300)
MAX_REFUSED = 500             # distinct refused cookies listed per page
MAX_STORAGE = 2000            # storage entries listed per page, all frames together
MAX_REQUESTS = 5000           # requests listed per page
REQUESTS_BEFORE_DEDUP = 1000  # beyond, a request identical to an earlier one is only counted
MAX_WRITERS = 4000            # cookie and storage writes remembered for attribution
MAX_FRAMES = 5000
MAX_DEVICE_READS = 500        # distinct (script, API) device-property reads listed per page
SIZED_TYPES = ("image", "ping")   # requests whose body size is recorded (tracking pixels)
DROPPED_KEYS = ("events", "cookies", "refused_cookies", "storage", "requests")


def instrument_source(binding: str, secret: str) -> str:
    """instrument.js for one context: its binding name and secret, known to no page script."""
    return INSTRUMENT_JS.replace("__BINDING__", json.dumps(binding)).replace("__SECRET__", json.dumps(secret))

STORAGE_JS = """
async () => {
  const out = {origin: location.origin, items: [], idb: [], more: {}};
  for (const kind of ['local', 'session']) {
    try {
      const st = kind === 'local' ? window.localStorage : window.sessionStorage;
      out.more[kind] = Math.max(0, st.length - %d);
      for (let i = 0; i < st.length && i < %d; i++) {
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
""" % (MAX_STORAGE, MAX_STORAGE)


def _number(value) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 2**53 else 0


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
        # Latest write per (name, domain key as Chromium stores it); a deletion removes the key.
        self._latest: dict[tuple[str, str], CookieAttempt] = dict(seed._latest) if seed else {}
        self._seeded = {id(a) for a in self._latest.values()}   # written before this visit (consent phase)
        # Cookies the browser refused in this visit, once per (name, domain, path, reasons).
        self._refused: dict[tuple, CookieAttempt] = {}
        self._unlisted: set[tuple] = set()
        self.storage_writers: dict[tuple[str, str, str], str | None] = dict(seed.storage_writers) if seed else {}
        # (script, api) -> the first device-property read of this page visit (see instrument.js)
        self.device_reads: dict[tuple[str, str], dict] = {}
        self.requests: list[dict] = []
        self._request_keys: set[tuple] = set()
        # Per-context binding name and secret (instrument.js): page scripts know neither.
        self.binding = "__cs" + secrets.token_hex(8)
        self.secret = secrets.token_urlsafe(24)
        self._events = 0
        self._stopped = False   # the binding was removed after a forged call (_forged)
        self._dropped = dict.fromkeys(DROPPED_KEYS, 0)
        self._capped: dict[str, int] = {}   # frame URL -> events its script counted and did not send
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
            session.send("Runtime.addBinding", {"name": self.binding}),
            session.send("Page.addScriptToEvaluateOnNewDocument", {"source": instrument_source(self.binding, self.secret)}),
            *([session.send("Emulation.setUserAgentOverride", ua_override)] if ua_override else []),
            *([session.send("Page.addScriptToEvaluateOnNewDocument", {"source": seed_script, "worldName": SEED_WORLD})]
              if seed_script else []),
        )
        self.sessions.append(session)

    @property
    def attempts(self) -> list[CookieAttempt]:
        """The latest write of each cookie seen so far (refused ones excluded)."""
        return list(self._latest.values())

    def begin_page(self) -> int:
        """Start a new page: requests from here on belong to it. Returns the index."""
        self._nav_ts = None
        self.last_activity = time.monotonic()
        self.device_reads = {}
        return len(self.requests)

    def dropped(self) -> dict[str, int] | None:
        """What this visit left out of its record, by kind, or None when nothing was:
        events: instrument calls over MAX_EVENTS, too large, malformed or without the secret, and
        those a frame's script did not send past its own caps (counted there to the nearest 1,000);
        cookies: jar cookies over MAX_COOKIES; refused_cookies: distinct refused cookies (Set-Cookie
        lines or script writes) not listed once MAX_REFUSED were; storage: entries over
        MAX_STORAGE; requests: requests over MAX_REQUESTS, or repeated past REQUESTS_BEFORE_DEDUP."""
        return dict(self._dropped) if any(self._dropped.values()) else None

    def _remember(self, attempt: CookieAttempt) -> None:
        """Keep a cookie write: the latest per cookie for attribution, refused ones apart."""
        if attempt.blocked_reasons:
            key = (attempt.name, attempt.effective_domain, attempt.path or "/", attempt.blocked_reasons)
            if key in self._refused or len(self._refused) < MAX_REFUSED:
                self._refused[key] = attempt
            elif key not in self._unlisted:
                if len(self._unlisted) < 10 * MAX_REFUSED:   # past it, repeats are counted again
                    self._unlisted.add(key)
                self._dropped["refused_cookies"] += 1
            return
        key = (attempt.name, attempt.effective_domain)
        if attempt.is_deletion:
            self._latest.pop(key, None)
        elif key in self._latest or len(self._latest) < MAX_WRITERS:
            self._latest.pop(key, None)   # re-inserted last: the dict keeps the order of writes
            self._latest[key] = attempt

    # ---- CDP events -------------------------------------------------------------
    def _on_request(self, event: dict) -> None:
        self.last_activity = time.monotonic()
        rid = event["requestId"]
        request = event.get("request") or {}
        url = request.get("url", "")
        key = (request.get("method", "GET"), url, event.get("frameId"), event.get("type"))
        if len(self.requests) >= MAX_REQUESTS or (len(self.requests) >= REQUESTS_BEFORE_DEDUP and key in self._request_keys):
            self._dropped["requests"] += 1
            return
        if len(self._request_keys) < MAX_REQUESTS:
            self._request_keys.add(key)
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
        if "gcs=" in url or "gcd=" in url:   # a Google tag's consent signal, read before the URL is redacted
            entry["consent_mode"] = consent_mode.decode(url)
        if entry["party"] == "third" and "gdpr" in url:
            # an ad request's IAB TCF signal (gdpr, gdpr_consent), read before the URL is redacted
            vendor = default_tcf_vendors().for_host(host)
            signal = tcf_vendors.request_signal(url, vendor[0] if vendor else None)
            if signal:
                entry["tcf"] = signal
        if entry["party"] == "third" and ("?" in url or "#" in url):
            # identifiers handed to a third party in the URL (names and kinds only, never values)
            found = default_url_tracking().identifiers(url)
            if found:
                entry["identifiers"] = found
        hops.append(entry)
        self.requests.append(entry)
        self.inflight.add(rid)

    def _on_response(self, event: dict) -> None:
        hops = self._hops.get(event["requestId"])
        if hops:
            response = event.get("response") or {}
            hops[-1]["status"] = response.get("status")
            if hops[-1]["resource_type"] in SIZED_TYPES:   # header bytes, taken off the total when done
                hops[-1]["body_bytes"] = -_number(response.get("encodedDataLength"))

    def _on_done(self, event: dict) -> None:
        self.inflight.discard(event["requestId"])
        hops = self._hops.get(event["requestId"])
        if hops and "body_bytes" in hops[-1]:
            # the body's size as received: pixels are tiny (url_tracking.is_pixel)
            hops[-1]["body_bytes"] = max(0, _number(event.get("encodedDataLength")) + hops[-1]["body_bytes"])

    def _on_failed(self, event: dict) -> None:
        self.inflight.discard(event["requestId"])
        hops = self._hops.get(event["requestId"])
        if hops:
            reason = event.get("blockedReason") or net_error(hops[-1]["url"], event.get("errorText")) or "failed"
            hops[-1]["error"] = "canceled" if event.get("canceled") else reason

    def _on_frame(self, event: dict) -> None:
        frame = event.get("frame") or {}
        if frame.get("id") and (frame["id"] in self._frames or len(self._frames) < MAX_FRAMES):
            self._frames[frame["id"]] = frame.get("url", "")

    def _on_extra_info(self, event: dict) -> None:
        rid = event["requestId"]
        index = self._extra_seen.get(rid, 0)
        if rid in self._extra_seen or len(self._extra_seen) < 2 * MAX_REQUESTS:
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
                self._remember(attempt)

    # ---- instrument.js events --------------------------------------------------
    def _on_binding_called(self, event: dict) -> None:
        if event.get("name") != self.binding:
            return
        payload = event.get("payload")
        if not isinstance(payload, str) or not payload.startswith(self.secret):
            self._forged()
            return
        if self._events >= MAX_EVENTS or len(payload) > MAX_PAYLOAD:
            self._drop_event()
            return
        try:
            data = json.loads(payload[len(self.secret):])
        except ValueError:
            data = None
        if not isinstance(data, dict):
            self._drop_event()
            return
        self._events += 1
        self._on_binding({}, data)

    def _forged(self) -> None:
        """A call without the context's secret: a page script got hold of the binding (instrument.js
        hides it), and may be flooding it. Stop the script that is running (it is the page's: ours
        never call without the secret) and stop listening to the binding at once, so the calls
        already issued are all that reach the browser and this process."""
        self._drop_event()
        if not self._stopped:
            self._stopped = True
            for session in self.sessions:
                asyncio.ensure_future(_quietly(session.send("Runtime.terminateExecution")))
                asyncio.ensure_future(_quietly(session.send("Runtime.removeBinding", {"name": self.binding})))

    def _drop_event(self) -> None:
        """Count a call dropped; past MAX_DROPPED_EVENTS, stop listening: a page flooding the
        binding would otherwise keep the browser, the driver and this process busy relaying
        calls that are thrown away (the count is then a lower bound)."""
        self._dropped["events"] += 1
        if self._dropped["events"] == MAX_DROPPED_EVENTS:
            for session in self.sessions:
                asyncio.ensure_future(_quietly(session.send("Runtime.removeBinding", {"name": self.binding})))

    def _on_binding(self, source: dict, event) -> None:
        if not isinstance(event, dict):
            return
        frame_url = str(event.get("frame_url") or "")
        stack = [str(u) for u in (event.get("stack") or [])[:8]]
        setter = stack[0] if stack else None
        kind = event.get("type")
        if kind == "capped":   # a frame's script reached its own cap: it counts what it did not send
            skipped = event.get("skipped")
            if isinstance(skipped, int) and not isinstance(skipped, bool) and 0 < skipped <= 10**9:
                frame = frame_url[:2048]
                before = self._capped.get(frame, 0)
                if skipped > before and (frame in self._capped or len(self._capped) < MAX_FRAMES):
                    self._capped[frame] = skipped
                    self._dropped["events"] += skipped - before
            return
        if kind == "cookie" and event.get("api") == "document.cookie":
            attempt = parse_set_cookie(str(event.get("raw") or ""), host=host_of(frame_url),
                                       set_by="script", setter_url=setter or frame_url, at=time.time())
            if attempt:
                attempt.blocked_reasons = script_refusal(attempt)
                self._remember(attempt)
        elif kind == "cookie":
            expires = event.get("expires")
            self._remember(CookieAttempt(
                name=str(event.get("name") or ""), value="", domain_attr=event.get("domain"),
                path=event.get("path"), max_age=None,
                expires_at=(float(expires) / 1000.0) if isinstance(expires, (int, float)) else None,
                secure=True, http_only=False, same_site=None, partitioned=False,
                host=host_of(frame_url), set_by="script", setter_url=setter or frame_url, at=time.time()))
        elif kind == "fp":   # a device-property read fingerprinting relies on (instrument.js)
            key = (setter or frame_url, str(event.get("api"))[:40])
            if key not in self.device_reads and len(self.device_reads) < MAX_DEVICE_READS:
                detail = event.get("detail")
                self.device_reads[key] = {"script": key[0], "api": key[1], "frame_url": frame_url,
                                          "detail": str(detail)[:200] if detail is not None else None}
        elif kind == "storage":
            key = (str(event.get("kind")), _origin(frame_url), str(event.get("key")))
            if key in self.storage_writers or len(self.storage_writers) < MAX_WRITERS:
                self.storage_writers[key] = setter or frame_url

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
        latest = self._latest
        records = []
        stored = set()
        if len(jar) > MAX_COOKIES:
            self._dropped["cookies"] = len(jar) - MAX_COOKIES
        for c in jar[:MAX_COOKIES]:
            domain = c.get("domain", "")
            attempt = latest.get((c.get("name", ""), domain)) or latest.get((c.get("name", ""), domain.lstrip(".")))
            records.append(self._cookie_record(c, attempt, now))
        for c in jar:
            stored.add((c.get("name", ""), c.get("domain", "").lstrip(".").lower()))
        for attempt in self._refused.values():
            if attempt.set_by == "script" and (attempt.name, attempt.effective_domain.lstrip(".")) in stored:
                continue   # a refusal inferred from the browser's rules, yet the jar has it: not listed
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
        over: set[tuple[str, str, str]] = set()
        unlisted: dict[tuple[str, str], int] = {}
        self._dropped["storage"] = 0
        for frame in list(page.frames):
            try:
                data = await asyncio.wait_for(frame.evaluate(STORAGE_JS), timeout=5)
            except Exception:  # frame detached, navigated or hung: skip it
                continue
            origin = str(data.get("origin") or "")
            if not origin.startswith("http"):
                continue
            for kind, more in (data.get("more") or {}).items():   # entries past the script's own cap
                if isinstance(more, int) and more > 0:
                    unlisted[(origin, str(kind))] = more
            entries = [(kind, key, length, value) for kind, key, length, value in data.get("items") or []]
            entries += [("indexeddb", name, 0, "") for name in data.get("idb") or []]
            for kind, key, length, value in entries:
                key_ = (kind, origin, key)
                if key_ in over:
                    continue
                if key_ not in results and len(results) >= MAX_STORAGE:
                    if len(over) < 10 * MAX_STORAGE:
                        over.add(key_)
                    self._dropped["storage"] += 1
                    continue
                results[key_] = self._storage_record(kind, origin, key, value, length, frame.url)
        self._dropped["storage"] += sum(unlisted.values())
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

    def page_device_reads(self) -> list[dict]:
        """This visit's device-property reads (script URL, api, frame), URLs redacted."""
        out = []
        for read in self.device_reads.values():
            item = dict(read)
            item["script"] = redact_url(item["script"], self.keep_query)
            item["frame_url"] = redact_url(item["frame_url"], self.keep_query)
            out.append(item)
        return out

    def page_requests(self, start: int) -> list[dict]:
        out = []
        for entry in self.requests[start:]:
            item = dict(entry)
            item["url"] = redact_url(item["url"], self.keep_query)
            item["redirect_chain"] = [redact_url(u, self.keep_query) for u in item["redirect_chain"]]
            for key in ("frame_url", "initiator_url"):
                if item.get(key):
                    item[key] = redact_url(item[key], self.keep_query)
            if "body_bytes" in item and (item["body_bytes"] < 0 or item.get("error")):
                item["body_bytes"] = None   # never received whole: size unknown
            out.append(item)
        return out


async def _quietly(awaitable) -> None:
    try:
        await awaitable
    except Exception:  # the page or context is gone
        pass


def _origin(url: str) -> str:
    host_part = url.split("/", 3)
    return "/".join(host_part[:3]) if len(host_part) >= 3 else url


__all__ = ["ContextRecorder", "registrable_domain"]
