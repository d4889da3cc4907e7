"""The egress guard: every connection Chromium makes goes through a small local proxy.

Chromium is launched with `--proxy-server=http://127.0.0.1:<port>` and
`--proxy-bypass-list=<-loopback>`, so every request - the start page, its redirects and meta
refreshes, scripts' `location=` navigations, subresources, fetch/XHR, WebSockets, robots.txt and
sitemaps - reaches this proxy, loopback included. For each request the proxy resolves the host
once (through the `--resolve` mappings, else the system resolver), checks the address it got,
and connects to exactly that address: a name that answers a public address to the check and a
private one to the connection (DNS rebinding) cannot slip through, because there is only one
answer. HTTPS and wss are tunnelled with CONNECT (Chromium verifies the site's certificate end to
end; the proxy only copies bytes); plain http:// requests arrive in absolute form and are
forwarded one request per connection.

Refused unless `--allow-private`: private, loopback, link-local, unspecified, multicast, reserved,
shared (CGNAT 100.64/10), unique-local and cloud metadata addresses, also inside IPv6 forms that
embed an IPv4 address (mapped, compatible, 6to4, NAT64). A host that `--resolve` maps (exactly the
hosts its patterns match) is allowed to the address it is mapped to. A refused request gets a 403
from the proxy and is recorded in `EgressProxy.refused` as {host, port, address, reason}.
"""
from __future__ import annotations

import asyncio
import collections
import ipaddress
import re
import socket
import threading
import time
import weakref
from urllib.parse import urlsplit

from .resolve import parse_resolve

MAX_HEAD = 64 * 1024          # request or response head
MAX_TUNNELS = 1024            # connections handled at once (each holds two sockets)
MAX_REFUSED = 1000            # refused requests kept; more are counted in refused_dropped
MAX_FAILURES = 1000           # (host, port) -> why the last connection failed, for error messages
BUFFER = 64 * 1024
HEAD_TIMEOUT_S = 30.0
LOOKUP_TIMEOUT_S = 30.0
MAX_LOOKUPS = 16              # system resolver lookups at once
CONNECT_TIMEOUT_S = 30.0
IDLE_TIMEOUT_S = 300.0        # no byte either way for this long: the connection is closed

METADATA = frozenset(ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200"))
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")

_NUMERIC_HOST = re.compile(r"[0-9a-fA-FxX.]+")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


# --------------------------------------------------------------------------- address classification

def parse_address(text) -> Address | None:
    """An IP address from '127.0.0.1', '[::1]', 'fe80::1%eth0' or an ipaddress object; else None."""
    if isinstance(text, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return text
    value = str(text or "").strip()
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    try:
        return ipaddress.ip_address(value.split("%")[0])
    except ValueError:
        pass
    # IPv4 written as one number (2130706433), in hex or octal, or with fewer parts (127.1): what
    # browsers and inet_aton read as an address, never a name to look up.
    if _NUMERIC_HOST.fullmatch(value) and value.rstrip(".").rsplit(".", 1)[-1][:1].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(value.rstrip(".")))
        except OSError:
            return None
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, str] | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped, "IPv4-mapped"
    if ip.sixtofour is not None:
        return ip.sixtofour, "6to4"
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), "NAT64"
    if ip in _IPV4_COMPATIBLE and int(ip) > 1:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), "IPv4-compatible"
    return None


def refusal_reason(address) -> str | None:
    """Why the guard refuses to connect to `address` (None: a public address it allows).
    The one classification both the start-URL check and the proxy use."""
    ip = parse_address(address)
    if ip is None:
        return "not an IP address"
    if ip in METADATA:
        return "cloud metadata address"
    if ip.version == 6:
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            v4, form = embedded
            reason = refusal_reason(v4)
            if reason:
                return f"{reason} ({v4}) embedded in an IPv6 address ({form})"
            if form != "IPv4-compatible":   # deprecated form: refused below as reserved
                return None
    if ip.is_unspecified:
        return "unspecified address"
    if ip.is_loopback:
        return "loopback address"
    if ip.is_link_local:
        return "link-local address"
    if ip.is_multicast:
        return "multicast address"
    if ip.version == 4 and ip in _CGNAT:
        return "shared address space (CGNAT 100.64.0.0/10)"
    if ip.version == 6 and ip in _UNIQUE_LOCAL:
        return "unique-local address"
    if ip.is_reserved:
        return "reserved address"
    if ip.is_private:
        return "private address"
    if not ip.is_global:
        return "non-public address"
    return None


# --------------------------------------------------------------------------- --resolve mappings

class Mappings:
    """`--resolve HOST=IP[:PORT]` entries, matched as Chromium's host resolver rules were: exact
    host names first, then `*.suffix` patterns, then `*`, each in the order given."""

    def __init__(self, entries=()):
        self.exact: dict[str, tuple[str, int | None]] = {}
        self.suffixes: list[tuple[str, str, int | None]] = []
        self.any: tuple[str, int | None] | None = None
        for entry in entries or ():
            host, ip, port = parse_resolve(entry)
            host = host.lower().rstrip(".")
            if host == "*":
                self.any = self.any or (ip, port)
            elif host.startswith("*."):
                self.suffixes.append((host[1:], ip, port))
            else:
                self.exact.setdefault(host, (ip, port))

    def __bool__(self) -> bool:
        return bool(self.exact or self.suffixes or self.any)

    def lookup(self, host: str) -> tuple[str, int | None] | None:
        """(mapped IP, mapped port or None) for a host name or IP literal, else None."""
        name = (host or "").lower().rstrip(".")
        if name.startswith("[") and name.endswith("]"):
            name = name[1:-1]
        if name in self.exact:
            return self.exact[name]
        for suffix, ip, port in self.suffixes:
            if name.endswith(suffix) and len(name) > len(suffix):
                return ip, port
        return self.any


def entries_from_rules(rules: str) -> tuple[str, ...]:
    """The `--resolve` entries back from a `host_resolver_rules()` string (older callers pass that)."""
    entries = []
    for rule in (rules or "").split(","):
        words = rule.split()
        if len(words) == 3 and words[0].upper() == "MAP":
            entries.append(f"{words[1]}={words[2]}")
    return tuple(entries)


# --------------------------------------------------------------------------- lookups (test hooks)

def system_resolve(host: str, port: int) -> list[str]:
    """The system resolver's addresses for `host`, once. Tests replace this function."""
    if host.lower().rstrip(".").endswith(".invalid"):   # RFC 6761: never resolves
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    seen: list[str] = []
    for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP):
        address = str(info[4][0])   # an IPv6 link-local address keeps its %scope to be reachable
        if address not in seen:
            seen.append(address)
    return seen


async def open_upstream(address: str, port: int, protocol_factory):
    """Connect to exactly `address` (an IP literal: never looked up again); (transport, protocol).
    Tests replace this."""
    loop = asyncio.get_running_loop()
    return await loop.create_connection(protocol_factory, address, port, flags=socket.AI_NUMERICHOST)


# --------------------------------------------------------------------------- the proxy

class Refused(Exception):
    def __init__(self, address: str, reason: str):
        super().__init__(reason)
        self.address, self.reason = address, reason


class Failed(Exception):
    def __init__(self, code: str, text: str):
        super().__init__(text)
        self.code, self.text = code, text


_CONNECT_ERRORS = {
    "ERR_NAME_NOT_RESOLVED": "DNS lookup failed (host name not found)",
    "ERR_NAME_RESOLUTION_FAILED": "DNS lookup failed",
    "ERR_CONNECTION_REFUSED": "connection refused",
    "ERR_CONNECTION_TIMED_OUT": "connection timed out",
    "ERR_ADDRESS_UNREACHABLE": "address unreachable",
    "ERR_CONNECTION_FAILED": "connection failed",
}
REFUSED_CODE = "ERR_BLOCKED_BY_EGRESS_GUARD"   # in request errors: the guard refused the address
PROXY_MASKED = ("ERR_TUNNEL_CONNECTION_FAILED", "ERR_EMPTY_RESPONSE")
_LIVE: "weakref.WeakSet[EgressProxy]" = weakref.WeakSet()


def _failure_of(url: str) -> tuple[str, str] | None:
    key = _host_port(url)
    if key is None:
        return None
    for proxy in list(_LIVE):
        found = proxy.failure(*key)
        if found:
            return found
    return None


def explain(url: str) -> str | None:
    """Why the egress proxy could not reach `url`'s host and port, as a line for a person:
    'connection refused (ERR_CONNECTION_REFUSED)', 'DNS lookup failed (host name not found)
    (ERR_NAME_NOT_RESOLVED)' or 'refused by the egress guard: 127.0.0.1 is a loopback address
    (ERR_BLOCKED_BY_EGRESS_GUARD)'; None if no running proxy failed there."""
    found = _failure_of(url)
    return f"{found[1]} ({found[0]})" if found else None


def net_error(url: str, error: str | None) -> str | None:
    """A Chromium error text (page.goto's message, a request's Network.loadingFailed errorText)
    as it would read without the proxy. Through a proxy Chromium reports every failed HTTPS
    connection as ERR_TUNNEL_CONNECTION_FAILED and a failed plain-HTTP one as ERR_EMPTY_RESPONSE;
    the proxy knows what happened: 'net::ERR_TUNNEL_CONNECTION_FAILED' for a refused port becomes
    'net::ERR_CONNECTION_REFUSED', for a refused address 'net::ERR_BLOCKED_BY_EGRESS_GUARD'.
    Any other error comes back unchanged."""
    if not error:
        return error
    masked = next((code for code in PROXY_MASKED if code in error), None)
    found = _failure_of(url) if masked else None
    return error.replace(masked, found[0]) if found else error


MAX_ASKERS = 10   # pages listed per refused connection


def with_pages(summary: dict, states) -> dict:
    """`summary` (EgressProxy.summary()) with, on each refused entry, who asked for it:
    `pages` (redacted page URLs, the first MAX_ASKERS in scan order), `pages_more` (how many
    others) and `states`. A page asked when one of its requests, or its own navigation (at its URL
    or at the `final_url` a redirect took it to), failed with the guard's error for that host and port."""
    askers: dict[tuple[str, int], tuple[list, set, list]] = {}
    for state in states or []:
        for page in state.get("pages") or []:
            failed = [r.get("url") or "" for r in page.get("requests") or []
                      if REFUSED_CODE in str(r.get("error") or "")]
            if REFUSED_CODE in str(page.get("error") or ""):   # its navigation, or where a redirect took it
                failed += [u for u in (page.get("final_url"), page.get("url")) if u]
            for url in failed:
                key = _host_port(url)
                if key is None:
                    continue
                pages, seen, names = askers.setdefault(key, ([], set(), []))
                page_url = str(page.get("url") or "")
                if page_url not in seen:
                    seen.add(page_url)
                    pages.append(page_url)
                if state.get("state") not in names:
                    names.append(state.get("state"))
    out = dict(summary)
    out["refused"] = []
    for entry in summary.get("refused") or []:
        entry = dict(entry)
        pages, _, names = askers.get((str(entry.get("host")), entry.get("port")), ([], set(), []))
        entry.update(pages=pages[:MAX_ASKERS], pages_more=max(0, len(pages) - MAX_ASKERS), states=names)
        out["refused"].append(entry)
    return out


def _host_port(url: str) -> tuple[str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "ws": 80, "https": 443, "wss": 443}.get(parts.scheme.lower())
    except ValueError:
        return None
    host = (parts.hostname or "").lower().rstrip(".")
    return (host, port) if host and port else None


class EgressProxy:
    """The guard. `start()` runs it on its own thread and event loop; `stop()` ends it.

    refused:          [{host, port, address, reason}] in the order met, distinct entries, at most
                      MAX_REFUSED (no path or query: HTTPS paths never reach the proxy anyway)
    refused_dropped:  refused requests not kept (the list was full)
    summary():        both, copied (safe to call from any thread, during or after the scan)
    """

    def __init__(self, resolve=(), *, allow_private: bool = False):
        self.mappings = Mappings(resolve)
        self.allow_private = allow_private
        self.port = 0
        self.refused: list[dict] = []
        self.refused_dropped = 0
        self.connections = 0          # handled so far
        self.cpu_s = 0.0              # CPU time of the proxy's thread (set when it stops)
        self._refused_keys: set[tuple] = set()
        self._failures: collections.OrderedDict[tuple[str, int], tuple[str, str]] = collections.OrderedDict()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._clients: set[_Client] = set()
        self._ready = threading.Event()
        self._lookups: asyncio.Semaphore | None = None

    # ---- lifecycle ---------------------------------------------------------------------------
    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def chromium_flags(self) -> list[str]:
        """Send every connection, loopback included, through this proxy; WebRTC may not send UDP
        outside it; Chromium itself resolves no name and reaches no address but the proxy's (the
        proxy resolves: a connection that went around it would find nothing)."""
        return [f"--proxy-server={self.address}", "--proxy-bypass-list=<-loopback>",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--force-webrtc-ip-handling-policy=disable_non_proxied_udp"]

    def start(self) -> "EgressProxy":
        """Serve on 127.0.0.1 (a free port) from a thread of its own: the scan's event loop is busy
        with Chromium's DevTools traffic, the proxy's with bytes."""
        if self._thread is not None:
            return self
        ready = self._ready = threading.Event()
        problem: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                self._lookups = asyncio.Semaphore(MAX_LOOKUPS)
                self._server = loop.run_until_complete(loop.create_server(
                    lambda: _Client(self), "127.0.0.1", 0, backlog=512))
                self.port = self._server.sockets[0].getsockname()[1]
                janitor = loop.create_task(self._janitor())
            except BaseException as exc:  # noqa: BLE001 - reported to start()
                problem.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                self.cpu_s = time.thread_time()
                janitor.cancel()
                tasks = [client.task for client in self._clients if client.task]
                for client in list(self._clients):
                    client.abort()
                try:
                    loop.run_until_complete(asyncio.gather(janitor, *tasks, return_exceptions=True))
                    loop.run_until_complete(loop.shutdown_asyncgens())
                finally:
                    loop.close()

        self._thread = threading.Thread(target=run, name="egress-proxy", daemon=True)
        self._thread.start()
        ready.wait(30)
        if problem or not self.port:
            self._thread = None
            raise OSError(f"the egress proxy could not start: {problem[0] if problem else 'timed out'}")
        _LIVE.add(self)
        return self

    def stop(self) -> None:
        """Close every connection and end the thread (quick: nothing is waited for)."""
        if self._thread is not None:
            self._ready.wait(30)     # stopped while starting (an interrupted launch): let it finish first
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        _LIVE.discard(self)

        def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            loop.stop()
        try:
            loop.call_soon_threadsafe(shutdown)
        except RuntimeError:  # the loop is already closed
            pass
        thread.join(5)
        self._thread = None

    def __enter__(self) -> "EgressProxy":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- records -----------------------------------------------------------------------------
    def summary(self) -> dict:
        with self._lock:
            return {"refused": [dict(entry) for entry in self.refused], "refused_dropped": self.refused_dropped}

    def _refuse(self, host: str, port: int, address: str, reason: str) -> None:
        key = (host, port, address, reason)
        with self._lock:
            self._failed(host, port, (REFUSED_CODE, f"refused by the egress guard: {address} is a {reason}"))
            if key in self._refused_keys:
                return
            if len(self.refused) >= MAX_REFUSED:
                self.refused_dropped += 1
                return
            self._refused_keys.add(key)
            self.refused.append({"host": host, "port": port, "address": address, "reason": reason})

    def _failed(self, host: str, port: int, failure: tuple[str, str] | None) -> None:
        key = (host, port)
        self._failures.pop(key, None)
        if failure:
            self._failures[key] = failure
            while len(self._failures) > MAX_FAILURES:
                self._failures.popitem(last=False)

    def failure(self, host: str, port: int | None) -> tuple[str, str] | None:
        """(Chromium-style code, text) of the last connection to host:port, if it failed."""
        with self._lock:
            return self._failures.get((host.strip("[]"), port or 0))

    # ---- the decision ------------------------------------------------------------------------
    async def resolve(self, host: str, port: int) -> tuple[list[str], int]:
        """The addresses to connect to for host:port, looked up once and checked; raises Refused
        or Failed. A host --resolve maps goes to its mapped address (and port), unchecked."""
        mapped = self.mappings.lookup(host)
        if mapped is not None:      # explicit: --resolve said where this host is
            return [mapped[0]], mapped[1] or port
        literal = parse_address(host)
        if literal is not None:
            addresses = [str(literal)]
        else:
            addresses = await self._lookup(host, port)
        if not self.allow_private:
            for address in addresses:   # a name with one private answer is refused as a whole
                reason = refusal_reason(address)
                if reason:
                    raise Refused(address, reason)
        return addresses, port

    async def _lookup(self, host: str, port: int) -> list[str]:
        """system_resolve() on a daemon thread (a lookup that hangs never holds up the scan's exit)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()

        def settle(result, error) -> None:
            if not future.done():
                future.set_exception(error) if error is not None else future.set_result(result)

        def work() -> None:
            try:
                result, error = system_resolve(host, port), None
            except BaseException as exc:  # noqa: BLE001 - handed to the proxy's loop
                result, error = None, exc
            try:
                loop.call_soon_threadsafe(settle, result, error)
            except RuntimeError:   # the proxy stopped meanwhile
                pass

        async with self._lookups:
            threading.Thread(target=work, name="egress-lookup", daemon=True).start()
            try:
                addresses = await asyncio.wait_for(future, LOOKUP_TIMEOUT_S)
            except asyncio.TimeoutError:
                raise Failed("ERR_NAME_RESOLUTION_FAILED", _CONNECT_ERRORS["ERR_NAME_RESOLUTION_FAILED"]) from None
            except (OSError, UnicodeError, ValueError):
                raise Failed("ERR_NAME_NOT_RESOLVED", _CONNECT_ERRORS["ERR_NAME_NOT_RESOLVED"]) from None
        if not addresses:
            raise Failed("ERR_NAME_NOT_RESOLVED", _CONNECT_ERRORS["ERR_NAME_NOT_RESOLVED"])
        return addresses

    async def _open(self, client: "_Client", host: str, port: int, upstream: "_Upstream") -> bool:
        """Resolve once, check, connect `upstream` to the checked address. Otherwise answer a
        CONNECT with 403 (refused) or 502 (failed), and close a plain-HTTP request's connection
        unanswered: Chromium then reports a network error, which net_error() translates, rather
        than showing the proxy's answer as the site's page."""
        try:
            addresses, port_to = await self.resolve(host, port)
            code = "ERR_CONNECTION_FAILED"
            for address in addresses:
                try:
                    await asyncio.wait_for(open_upstream(address, port_to, lambda: upstream), CONNECT_TIMEOUT_S)
                except asyncio.TimeoutError:
                    code = "ERR_CONNECTION_TIMED_OUT"
                except ConnectionRefusedError:
                    code = "ERR_CONNECTION_REFUSED"
                except OSError as exc:
                    code = "ERR_ADDRESS_UNREACHABLE" if exc.errno in (101, 113) else "ERR_CONNECTION_FAILED"
                else:
                    with self._lock:
                        self._failed(host, port, None)
                    return True
            raise Failed(code, _CONNECT_ERRORS[code])
        except Refused as refusal:
            self._refuse(host, port, refusal.address, refusal.reason)
            where = (f"{host} is a {refusal.reason}" if parse_address(host) == parse_address(refusal.address)
                     else f"{host} resolves to {refusal.address}, a {refusal.reason}")
            if client.tunnel:
                client.reply(403, f"refused by cookie-scanner's egress guard: {where}; "
                                  "pass --allow-private or --resolve to allow it")
            else:   # plain HTTP: a 403 page would be shown, and audited, as the site's own page
                client.abort()
        except Failed as failure:
            with self._lock:
                self._failed(host, port, (failure.code, failure.text))
            if client.tunnel:
                client.reply(502, f"cookie-scanner egress guard: {failure.text}")
            else:
                client.abort()
        return False

    # ---- one client connection -----------------------------------------------------------------
    async def _dispatch(self, client: "_Client", head: bytes) -> None:
        method, target, version, headers = _parse_head(head)
        if method is None:
            return client.reply(400, "bad request")
        if method == "CONNECT":
            host, port = _authority(target, 443)
            if host is None:
                return client.reply(400, "bad CONNECT target")
            client.tunnel = True
            upstream = client.upstream = _Upstream(client)
            if await self._open(client, host, port, upstream) and not client.closed:
                client.transport.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                client.start_relay(upstream, body_left=None)
            return
        try:
            parts = urlsplit(target)
            scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
        except ValueError:
            return client.reply(400, "bad request target")
        if scheme not in ("http", "ws") or not host:
            return client.reply(400, "only absolute http:// requests and CONNECT are proxied")
        upgrade = any(k.lower() == "upgrade" for k, _ in headers)
        length, chunked, out = 0, False, []
        for key, value in headers:
            low = key.lower()
            if low in ("proxy-connection", "proxy-authorization", "keep-alive", "connection"):
                continue
            if low == "content-length":
                length = int(value) if value.strip().isdigit() else 0
            if low == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            out.append(f"{key}: {value}")
        if not any(k.lower() == "host" for k, _ in headers):
            out.insert(0, f"Host: {parts.netloc.rsplit('@', 1)[-1]}")
        out.append("Connection: Upgrade" if upgrade else "Connection: close")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        upstream = client.upstream = _Upstream(client, rewrite=True, upgrade=upgrade)
        if await self._open(client, host.lower(), port or 80, upstream) and not client.closed:
            upstream.transport.write((f"{method} {path} {version}\r\n" + "".join(f"{line}\r\n" for line in out)
                                      + "\r\n").encode("latin-1"))
            # the request body: exactly Content-Length bytes; chunked or upgraded: until either side ends
            client.start_relay(upstream, body_left=None if chunked or upgrade else length)

    async def _janitor(self) -> None:
        """Close connections idle for IDLE_TIMEOUT_S (no byte either way)."""
        while True:
            await asyncio.sleep(min(30.0, IDLE_TIMEOUT_S / 4))
            cutoff = time.monotonic() - IDLE_TIMEOUT_S
            for client in [c for c in self._clients if c.stamp[0] < cutoff]:
                client.abort()


class _Side(asyncio.Protocol):
    """One socket of a proxied pair: what it receives is written to `peer`; back-pressure from
    the peer pauses this side's reading."""

    def __init__(self, stamp: list[float]):
        self.transport: asyncio.Transport | None = None
        self.peer: _Side | None = None
        self.stamp = stamp
        self.closed = False
        self.got_eof = False

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.set_write_buffer_limits(high=4 * BUFFER)

    def forward(self, data: bytes) -> None:
        self.stamp[0] = time.monotonic()
        peer = self.peer
        if peer is not None and not peer.closed:
            peer.transport.write(data)

    def eof_received(self):
        self.got_eof = True
        peer = self.peer
        if peer is None or peer.closed:
            return False
        if peer.got_eof or not peer.transport.can_write_eof():
            peer.transport.close()
            return False
        peer.transport.write_eof()
        return True     # keep this socket open: the peer may still answer

    def connection_lost(self, exc) -> None:
        self.closed = True
        if self.peer is not None and not self.peer.closed:
            self.peer.transport.close()   # after what is still buffered for it

    def pause_writing(self) -> None:
        if self.peer is not None and not self.peer.closed:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and not self.peer.closed:
            self.peer.transport.resume_reading()

    def abort(self) -> None:
        for side in (self, self.peer):
            if side is not None and side.transport is not None and not side.closed:
                side.transport.abort()


class _Client(_Side):
    """Chromium's connection to the proxy: a request head, then bytes relayed to the upstream."""

    def __init__(self, proxy: EgressProxy):
        super().__init__([time.monotonic()])
        self.proxy = proxy
        self.buffer = bytearray()
        self.pending = bytearray()     # bytes after the head, kept until the upstream is connected
        self.mode = "head"             # head -> wait -> relay
        self.body_left: int | None = None
        self.tunnel = False
        self.task: asyncio.Task | None = None
        self.timer = None
        self.upstream: _Upstream | None = None   # being connected

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        proxy = self.proxy
        if len(proxy._clients) >= MAX_TUNNELS:
            transport.abort()
            return
        proxy._clients.add(self)
        proxy.connections += 1
        self.timer = asyncio.get_running_loop().call_later(HEAD_TIMEOUT_S, self.abort)

    def data_received(self, data: bytes) -> None:
        if self.mode == "relay":
            if self.body_left is None:
                return self.forward(data)
            if self.body_left > 0:          # a plain request's body; anything after it is dropped
                data = data[:self.body_left]
                self.body_left -= len(data)
                self.forward(data)
            return
        if self.mode == "wait":
            self.pending += data
            return
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or end + 4 > MAX_HEAD:
            if end >= 0 or len(self.buffer) > MAX_HEAD:
                self.abort()
            return
        head, self.pending = bytes(self.buffer[:end + 4]), bytearray(self.buffer[end + 4:])
        self.buffer = bytearray()
        self.mode = "wait"
        self.timer.cancel()
        self.transport.pause_reading()
        self.task = asyncio.get_running_loop().create_task(self.proxy._dispatch(self, head))

    def start_relay(self, upstream: "_Side", body_left: int | None) -> None:
        self.peer, upstream.peer = upstream, self
        self.mode, self.body_left = "relay", body_left
        pending, self.pending = bytes(self.pending), bytearray()
        if pending:
            self.data_received(pending)
        if self.got_eof:
            self.eof_received()
        else:
            self.transport.resume_reading()

    def eof_received(self):
        if self.mode == "head":      # hung up before asking anything
            return False
        if self.mode == "wait":      # asked, then half-closed: passed on once the upstream is there
            self.got_eof = True
            return True
        return super().eof_received()

    def connection_lost(self, exc) -> None:
        super().connection_lost(exc)
        self.proxy._clients.discard(self)
        if self.timer is not None:
            self.timer.cancel()
        if self.task is not None and self.mode != "relay":
            self.task.cancel()
            upstream = self.upstream
            if upstream is not None and upstream.transport is not None and not upstream.closed:
                upstream.transport.abort()   # connected while this client went away

    def reply(self, status: int, text: str) -> None:
        if self.closed:
            return
        reason = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway"}.get(status, "Error")
        body = (text + "\n").encode("utf-8", errors="replace")
        self.transport.write(f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
                             f"Content-Length: {len(body)}\r\nConnection: close\r\nProxy-Connection: close\r\n\r\n"
                             .encode() + body)
        self.transport.close()


class _Upstream(_Side):
    """The proxy's connection to the site. For a plain-HTTP request (`rewrite`) the response heads
    are rewritten to say Connection: close, so that Chromium never sends another request - for
    another host, maybe - down this connection."""

    def __init__(self, client: _Client, *, rewrite: bool = False, upgrade: bool = False):
        super().__init__(client.stamp)
        self.client = client
        self.rewrite = rewrite
        self.upgrade = upgrade
        self.buffer = bytearray()

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        if self.client.closed:
            transport.abort()

    def data_received(self, data: bytes) -> None:
        if not self.rewrite:
            return self.forward(data)
        self.buffer += data
        while self.rewrite:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0 or end + 4 > MAX_HEAD:
                if end >= 0 or len(self.buffer) > MAX_HEAD:
                    self.abort()
                return
            head, self.buffer = bytes(self.buffer[:end + 4]), self.buffer[end + 4:]
            lines = head.decode("latin-1").split("\r\n")
            try:
                status = int(lines[0].split()[1])
            except (IndexError, ValueError):
                return self.abort()
            if status == 101 and self.upgrade:   # a WebSocket over plain HTTP: bytes both ways now
                self.client.body_left = None
                self.forward(head)
                self.rewrite = False
                break
            kept = [line for line in lines[1:] if line and line.split(":", 1)[0].strip().lower()
                    not in ("connection", "keep-alive", "proxy-connection")]
            final = not 100 <= status < 200
            if final:
                kept += ["Connection: close", "Proxy-Connection: close"]
                self.rewrite = False
            self.forward(("\r\n".join([lines[0], *kept]) + "\r\n\r\n").encode("latin-1"))
        rest, self.buffer = bytes(self.buffer), bytearray()
        if rest:
            self.forward(rest)

    def connection_lost(self, exc) -> None:
        if self.peer is None and not self.client.closed and self.client.mode == "relay":
            self.client.transport.close()
        super().connection_lost(exc)


def _parse_head(head: bytes):
    text = head.decode("latin-1")
    lines = text.split("\r\n")
    words = lines[0].split(" ")
    if len(words) != 3 or not words[2].startswith("HTTP/1."):
        return None, None, None, None
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip() or key != key.strip():
            return None, None, None, None
        headers.append((key, value.strip()))
    return words[0].upper(), words[1], words[2], headers


def _authority(target: str, default_port: int) -> tuple[str | None, int]:
    """'host:443' or '[::1]:443' -> (host, port)."""
    if target.startswith("["):
        host, _, rest = target[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port_text = target.rpartition(":") if ":" in target else (target, "", "")
    if not host or (port_text and not port_text.isdigit()):
        return None, 0
    port = int(port_text) if port_text else default_port
    if not 0 < port < 65536:
        return None, 0
    return host.lower().rstrip("."), port
