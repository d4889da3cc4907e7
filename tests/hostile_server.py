"""A hostile web site for the reliability tests: one misbehaviour per host name.

Every host below is its own registrable domain (``www.<case>.test``), so a crawl of one case never
wanders into another. The server binds to 127.0.0.1 on a free port and speaks HTTPS (a throwaway
self-signed certificate for every host) and plain HTTP on the same port: the first byte of each
connection decides. The scanner reaches it with ``--resolve '*=127.0.0.1:PORT'``.

Every loop is bounded in time and in count, and everything that waits (long polls, the page that
never finishes, slow pages) wakes up when the server stops, so stopping it takes well under a second.

    with HostileServer() as server:
        server.port, server.resolve_rule(), server.requests("www.third.test")

Hosts (see CASES for one line each):
  www.status500.test        the start page answers 500
  www.status404.test        every page answers 404
  www.redirloop.test        / -> /loop-a -> /loop-b -> /loop-a ... (Chromium gives up after 20)
  www.redirect-away.test    / -> https://www.elsewhere.test/landing, whose page links to www.third.test
  www.noquiet.test          a beacon every 200 ms and a long-polling XHR held 20 s, re-polled
  www.neverload.test        / sends its headers and half its body, then holds the connection ~120 s
  www.dialogs.test          alert/confirm/prompt on load, a beforeunload handler
  www.popups.test           window.open pop-ups (a bounded chain) and target=_blank links clicked by script
  www.download.test         script navigation to a Content-Disposition: attachment file
  www.crash.test            /crash allocates until the renderer dies (V8 heap limit); / and /ok are fine
  www.big.test              a 50 MB page generated and streamed on the fly
  www.calendar.test         a calendar trap: infinite unique month and day links; /broken (500), /gone (404)
  www.sticky-banner.test    a cookie banner whose "Accept all"/"Reject all" set nothing and come back
  www.slow.test             nine pages answering after 1.5 s each, with a banner that works
  www.tls.test              a plain page (for the certificate test: the certificate is self-signed)
  www.spin.test             after load, a synchronous loop keeps the renderer busy for 20 s (bounded)
"""
from __future__ import annotations

import html
import json
import select
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from scanner.demo.certs import make_self_signed

CASES = {
    "www.status500.test": "the start page answers HTTP 500",
    "www.status404.test": "every page answers HTTP 404",
    "www.redirloop.test": "a redirect loop",
    "www.redirect-away.test": "redirects to www.elsewhere.test, which links to www.third.test",
    "www.elsewhere.test": "(target of the redirect)",
    "www.third.test": "(linked from www.elsewhere.test; must never be visited)",
    "www.noquiet.test": "never quiet: beacon every 200 ms, long poll held 20 s",
    "www.neverload.test": "headers and half the body, then the connection held open",
    "www.dialogs.test": "alert/confirm/prompt on load, beforeunload",
    "www.popups.test": "window.open pop-ups and target=_blank links clicked by script",
    "www.download.test": "script navigation to an attachment",
    "www.crash.test": "/crash allocates until the renderer dies",
    "www.big.test": "a 50 MB page",
    "www.calendar.test": "a calendar trap",
    "www.sticky-banner.test": "a banner whose buttons set nothing and come back",
    "www.slow.test": "slow pages (1.5 s each) and a working banner",
    "www.tls.test": "a plain page behind a self-signed certificate",
    "www.spin.test": "a script that keeps the renderer busy (synchronous loop) for 20 s after load",
}

BIG_BYTES = 50 * 1024 * 1024          # www.big.test/
NEVERLOAD_HOLD_S = 120.0              # www.neverload.test/: how long the half-sent page is held open
LONG_POLL_S = 20.0                    # www.noquiet.test/poll
SLOW_PAGE_S = 1.5                     # www.slow.test/*
SLOW_PAGES = 8                        # www.slow.test/p1 .. /p8
DOWNLOAD_BYTES = 2 * 1024 * 1024      # www.download.test/file.bin
POPUP_CHAIN = 3                       # www.popups.test/popup?depth=N opens N+1 until this depth
CALENDAR_YEARS = range(1900, 2201)    # www.calendar.test: the trap is infinite for a crawler, finite here


def page(title: str, body: str = "", head: str = "") -> bytes:
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"{head}</head><body>{body}</body></html>").encode("utf-8")


# --------------------------------------------------------------------------- pages

NOQUIET_JS = """<script>
let beacons = 0;
const timer = setInterval(() => {            // a beacon every 200 ms, at most 600 (2 minutes)
  if (++beacons > 600) { clearInterval(timer); return; }
  fetch('/beacon?n=' + beacons, {cache: 'no-store', keepalive: true}).catch(() => {});
}, 200);
let polls = 0;
function poll() {                              // a long poll, re-polled as soon as it answers (at most 10)
  if (++polls > 10) return;
  const x = new XMLHttpRequest();
  x.open('GET', '/poll?n=' + polls);
  x.onloadend = () => poll();
  x.send();
}
poll();
</script>"""

DIALOGS_HEAD = """<script>
alert('alert on load');
const ok = confirm('confirm on load');
const answer = prompt('prompt on load', 'default');
window.addEventListener('beforeunload', e => { e.preventDefault(); e.returnValue = 'stay?'; return 'stay?'; });
window.addEventListener('load', () => { alert('alert after load'); setTimeout(() => confirm('later'), 300); });
</script>"""

POPUPS_JS = """<script>
window.addEventListener('load', () => {
  for (let i = 0; i < 4; i++) window.open('/popup?depth=1&i=' + i, '_blank');
  window.open('/popup?depth=1&named=1', 'named-window', 'width=300,height=300');
  for (let i = 0; i < 3; i++) {
    const a = document.createElement('a');
    a.href = '/newtab?i=' + i; a.target = '_blank'; a.textContent = 'new tab ' + i;
    document.body.appendChild(a);
    a.click();
  }
});
</script>"""

DOWNLOAD_JS = """<script>
window.addEventListener('load', () => setTimeout(() => { location.href = '/file.bin'; }, 200));
</script>"""

# Synchronous allocation until V8 gives up (heap limit: the renderer dies with an OOM crash).
# Bounded: at most 1.5 x the page's own jsHeapSizeLimit (4 GiB in Chromium's pointer-compression
# cage), so the renderer always dies before the loop ends; each block is 64 MiB of doubles.
CRASH_JS = """<script>
function boom() {
  const limit = (performance.memory && performance.memory.jsHeapSizeLimit) || 4294705152;
  const keep = [];
  const block = 8 * 1024 * 1024;                 // 8 Mi doubles = 64 MiB
  const max = Math.ceil(limit * 1.5 / (block * 8));
  for (let i = 0; i < max; i++) keep.push(new Array(block).fill(i + 0.5));
  document.title = 'survived ' + keep.length;    // only if the renderer did not die
}
window.addEventListener('load', () => setTimeout(boom, 100));
</script>"""

# A renderer that stops answering: 20 s of synchronous work after load (bounded by wall time, not by the
# page clock, which the scanner may fast-forward).
SPIN_S = 20
SPIN_JS = """<script>
window.addEventListener('load', () => setTimeout(() => {
  const t0 = performance.now();
  let x = 0;
  while (performance.now() - t0 < %d) { x += Math.sqrt(x + 1); }
  document.title = 'Spin done';
}, 100));
</script>""" % (SPIN_S * 1000)

STICKY_BANNER = """<div id="cookie-banner" role="dialog" aria-label="Cookie consent"
     style="position:fixed;bottom:0;left:0;right:0;padding:20px;background:#222;color:#fff;z-index:9">
  <p>We use cookies to improve your experience.</p>
  <button id="sb-accept" type="button">Accept all</button>
  <button id="sb-reject" type="button">Reject all</button>
</div>
<script>
// The buttons hide the banner, store nothing, and the banner comes back 250 ms later (at most 200 times).
let comebacks = 0;
for (const id of ['sb-accept', 'sb-reject']) {
  document.getElementById(id).addEventListener('click', () => {
    const banner = document.getElementById('cookie-banner');
    banner.style.display = 'none';
    if (++comebacks <= 200) setTimeout(() => { banner.style.display = 'block'; }, 250);
  });
}
</script>"""

WORKING_BANNER = """<div id="cookie-banner" role="dialog" aria-label="Cookie consent"
     style="position:fixed;bottom:0;left:0;right:0;padding:20px;background:#222;color:#fff;z-index:9">
  <p>We use cookies to improve your experience.</p>
  <button id="wb-accept" type="button">Accept all</button>
  <button id="wb-reject" type="button">Reject all</button>
</div>
<script>
(function () {
  const banner = document.getElementById('cookie-banner');
  if (/(^|; )slow_consent=/.test(document.cookie)) banner.style.display = 'none';
  function choose(value) {
    document.cookie = 'slow_consent=' + value + '; path=/; max-age=15552000; SameSite=Lax';
    banner.style.display = 'none';
  }
  document.getElementById('wb-accept').addEventListener('click', () => choose('all'));
  document.getElementById('wb-reject').addEventListener('click', () => choose('none'));
})();
</script>"""


class HostileServer:
    """Threaded HTTP(S) server on 127.0.0.1 dispatching on the Host header and the path."""

    def __init__(self) -> None:
        self.port = 0
        self.stopping = threading.Event()
        self.log: list[tuple[float, str, str, str]] = []      # (time, method, host, path?query)
        self.bytes_sent: dict[str, int] = {}                   # "host path" -> body bytes written
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._context: ssl.SSLContext | None = None
        self._cert_dir: Path | None = None

    # ---- lifecycle -------------------------------------------------------------------
    def start(self) -> "HostileServer":
        hosts = list(CASES) + [f"*.{h.split('.', 1)[1]}" for h in CASES] + [h.split(".", 1)[1] for h in CASES]
        cert, key = make_self_signed(hosts + ["localhost"])
        self._cert_dir = cert.parent
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(cert, key)
        self._httpd = SniffingTLSServer(("127.0.0.1", 0), _make_handler(self), self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="hostile-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._cert_dir is not None:
            for name in ("cert.pem", "key.pem"):
                (self._cert_dir / name).unlink(missing_ok=True)
            try:
                self._cert_dir.rmdir()
            except OSError:
                pass

    def __enter__(self) -> "HostileServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- helpers for the tests ---------------------------------------------------------
    def resolve_rule(self) -> str:
        return f"*=127.0.0.1:{self.port}"

    def requests(self, host: str | None = None, since: float = 0.0) -> list[tuple[str, str, str]]:
        with self._lock:
            return [(m, h, p) for t, m, h, p in self.log if t >= since and (host is None or h == host)]

    def record(self, method: str, host: str, path: str) -> None:
        with self._lock:
            self.log.append((time.monotonic(), method, host, path))

    def count_bytes(self, key: str, n: int) -> None:
        with self._lock:
            self.bytes_sent[key] = self.bytes_sent.get(key, 0) + n

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True when the server is stopping."""
        return self.stopping.wait(seconds)


class SniffingTLSServer(ThreadingHTTPServer):
    """One port for both TLS and plain HTTP (the first byte tells), with its owner's TLS context."""
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, handler, owner: HostileServer):
        self.owner = owner
        super().__init__(address, handler)

    def finish_request(self, request, client_address) -> None:
        """In the worker thread: TLS when the client's first byte is a handshake, else plain HTTP."""
        try:
            request.settimeout(30)
            readable, _, _ = select.select([request], [], [], 30)
            if not readable:
                return
            first = request.recv(1, socket.MSG_PEEK)
            if not first:
                return
            if first[0] == 0x16:
                request = self.owner._context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        try:
            super().finish_request(request, client_address)
        except (OSError, ssl.SSLError):
            pass

    def handle_error(self, request, client_address) -> None:  # a client hanging up is not news
        pass


def _make_handler(server: HostileServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "hostile"
        sys_version = ""
        timeout = 60

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            self._dispatch()

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(min(length, 1 << 20))
            self._dispatch()

        def do_HEAD(self) -> None:
            self._dispatch()

        # ---- plumbing ------------------------------------------------------------------
        def _dispatch(self) -> None:
            raw_host = (self.headers.get("Host") or "").strip().lower()
            host = raw_host.split("]")[0] + "]" if raw_host.startswith("[") else raw_host.split(":")[0]
            parts = urlsplit(self.path)
            path = parts.path or "/"
            server.record(self.command, host, path + (f"?{parts.query}" if parts.query else ""))
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            site = self.SITES.get(host)
            try:
                if site is None:
                    self.send(404, page("Unknown host", f"<p>no site {html.escape(host)}</p>"))
                else:
                    site(self, path, query)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError, TimeoutError, OSError):
                self.close_connection = True

        def send(self, status: int, body: bytes = b"", headers: list[tuple[str, str]] = (),
                 ctype: str = "text/html; charset=utf-8") -> None:
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            if ctype and not any(k.lower() == "content-type" for k, _ in headers):
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if self.command != "HEAD" and body:
                self.wfile.write(body)

        def redirect(self, location: str, status: int = 302) -> None:
            self.send(status, b"", [("Location", location)], ctype="")

        def not_found(self) -> None:
            self.send(404, page("Not found", "<h1>404</h1>"))

        # ---- sites ---------------------------------------------------------------------
        def status500(self, path, query) -> None:
            if path == "/":
                return self.send(500, page("Internal Server Error", "<h1>500</h1><a href='/other'>other</a>"))
            self.not_found()

        def status404(self, path, query) -> None:
            self.not_found()

        def redirloop(self, path, query) -> None:
            target = {"/": "/loop-a", "/loop-a": "/loop-b", "/loop-b": "/loop-a"}.get(path)
            if target:
                return self.redirect(target)
            self.not_found()

        def redirect_away(self, path, query) -> None:
            if path == "/":
                return self.redirect("https://www.elsewhere.test/landing")
            if path == "/contact":
                return self.send(200, page("Contact (redirect-away)", "<p>back on the first site</p>"))
            self.not_found()

        def elsewhere(self, path, query) -> None:
            if path == "/landing":
                return self.send(200, page("Elsewhere landing", (
                    "<p>You were sent here from another site.</p>"
                    "<a href='https://www.third.test/'>third site</a> "
                    "<a href='https://www.third.test/deep/page'>third site, deep</a> "
                    "<a href='/about'>about elsewhere</a> "
                    "<a href='https://www.redirect-away.test/contact'>back to the first site</a>")))
            if path == "/about":
                return self.send(200, page("About elsewhere", "<a href='https://www.third.test/x'>third</a>"))
            self.not_found()

        def third(self, path, query) -> None:
            self.send(200, page("Third site", "<p>a scanner must never come here</p>"))

        def noquiet(self, path, query) -> None:
            if path == "/":
                return self.send(200, page("Never quiet", "<p>busy, and no link to follow</p>", NOQUIET_JS))
            if path == "/two":
                return self.send(200, page("Never quiet two", "<p>busy too</p>", NOQUIET_JS))
            if path == "/beacon":
                return self.send(204, b"", ctype="")
            if path == "/poll":
                server.wait(LONG_POLL_S)
                return self.send(200, json.dumps({"n": query.get("n")}).encode(), ctype="application/json")
            self.not_found()

        def neverload(self, path, query) -> None:
            if path != "/":
                return self.not_found()
            head = page("Never loads", "<p>" + "x" * 100 + "</p>").split(b"</body>")[0]
            filler = b"<p>" + b"never " * 160 + b"</p>\n"
            body = head + filler * (100_000 // len(filler))
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body) * 2))   # half of it will never come
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            server.wait(NEVERLOAD_HOLD_S)
            self.close_connection = True

        def dialogs(self, path, query) -> None:
            if path in ("/", "/second"):
                return self.send(200, page(f"Dialogs {path}", "<p>dialogs</p><a href='/second'>second</a>",
                                           DIALOGS_HEAD))
            self.not_found()

        def popups(self, path, query) -> None:
            if path == "/":
                return self.send(200, page("Pop-ups", "<p>pop-ups</p><a href='/calm'>calm</a>", POPUPS_JS))
            if path == "/calm":
                return self.send(200, page("Calm", "<p>no pop-ups here</p>"))
            if path == "/popup":
                depth = int(query.get("depth", "1") or 1)
                script = ""
                if depth < POPUP_CHAIN:
                    script = (f"<script>window.open('/popup?depth={depth + 1}', '_blank');"
                              "alert('popup');</script>")
                return self.send(200, page(f"Popup {depth}", "<p>popup</p>", script))
            if path == "/newtab":
                return self.send(200, page("New tab", "<p>a new tab</p>"))
            self.not_found()

        def download(self, path, query) -> None:
            if path == "/":
                return self.send(200, page("Download", "<p>your file is coming</p>", DOWNLOAD_JS))
            if path == "/file.bin":
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Disposition", 'attachment; filename="hostile-download.bin"')
                self.send_header("Content-Length", str(DOWNLOAD_BYTES))
                self.end_headers()
                chunk = b"\0" * 65536
                for _ in range(DOWNLOAD_BYTES // len(chunk)):
                    if server.stopping.is_set():
                        break
                    self.wfile.write(chunk)
                    server.count_bytes("www.download.test /file.bin", len(chunk))
                    time.sleep(0.02)            # ~3 MB/s: a refused download stops early
                return
            self.not_found()

        def crash(self, path, query) -> None:
            if path == "/":
                return self.send(200, page("Crash home", "<a href='/ok'>ok</a> <a href='/crash'>crash</a>"))
            if path == "/ok":
                return self.send(200, page("Crash ok", "<p>fine</p>"))
            if path == "/crash":
                return self.send(200, page("Crash", "<p>this renderer will die</p>", CRASH_JS))
            self.not_found()

        def big(self, path, query) -> None:
            if path != "/":
                return self.not_found()
            # 50 MB of text in one hidden block: heavy to transfer, hold and hash, light to lay out
            # (50 MB of <p> elements takes Chromium minutes to parse on a busy 2-core machine).
            head = page("Big page", "<h1>50 MB</h1><a href='/'>home</a>\n<div hidden>").split(b"</body>")[0]
            tail = b"</div></body></html>"
            line = b"lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor &amp; more\n"
            count = (BIG_BYTES - len(head) - len(tail)) // len(line)
            pad = BIG_BYTES - len(head) - len(tail) - count * len(line)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(BIG_BYTES))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(head)
            sent = len(head)
            batch = line * 2048
            left = count
            while left > 0 and not server.stopping.is_set():
                n = min(left, 2048)
                self.wfile.write(batch if n == 2048 else line * n)
                sent += n * len(line)
                left -= n
            self.wfile.write(b" " * pad + tail)
            server.count_bytes("www.big.test /", sent + pad + len(tail))

        def calendar(self, path, query) -> None:
            if path == "/":
                return self.send(200, page("Calendar home", "<a href='/calendar/2024/1/'>calendar</a> "
                                           "<a href='/broken'>broken</a> <a href='/gone'>gone</a>"))
            if path == "/broken":       # linked pages that fail: recorded, and the crawl goes on
                return self.send(500, page("Broken", "<h1>500</h1>"))
            if path == "/gone":
                return self.send(404, page("Gone", "<h1>404</h1>"))
            parts = [p for p in path.split("/") if p]
            if len(parts) in (3, 4) and parts[0] == "calendar" and all(p.isdigit() for p in parts[1:]):
                year, month = int(parts[1]), int(parts[2])
                if year not in CALENDAR_YEARS or not 1 <= month <= 12:
                    return self.not_found()
                prev_y, prev_m = (year, month - 1) if month > 1 else (year - 1, 12)
                next_y, next_m = (year, month + 1) if month < 12 else (year + 1, 1)
                links = [f"/calendar/{prev_y}/{prev_m}/", f"/calendar/{next_y}/{next_m}/",
                         f"/calendar/{year + 1}/{month}/", f"/calendar/{year - 1}/{month}/"]
                links += [f"/calendar/{year}/{month}/{day}/" for day in range(1, 29)]
                body = "".join(f"<a href='{u}'>{u}</a> " for u in links)
                return self.send(200, page(f"Calendar {year}-{month}", body))
            self.not_found()

        def sticky(self, path, query) -> None:
            if path == "/":
                return self.send(200, page("Sticky banner", "<p>home</p><a href='/two'>two</a>" + STICKY_BANNER))
            if path == "/two":
                return self.send(200, page("Sticky banner two", "<p>two</p>" + STICKY_BANNER))
            self.not_found()

        def slow(self, path, query) -> None:
            pages = ["/"] + [f"/p{i}" for i in range(1, SLOW_PAGES + 1)]
            if path not in pages:
                return self.not_found()
            if server.wait(SLOW_PAGE_S):
                return
            links = "".join(f"<a href='{p}'>{p}</a> " for p in pages)
            self.send(200, page(f"Slow {path}", f"<p>slow page</p>{links}{WORKING_BANNER}"))

        def spin(self, path, query) -> None:
            if path == "/":
                return self.send(200, page("Spin", "<p>busy renderer</p>", SPIN_JS))
            self.not_found()

        def tls(self, path, query) -> None:
            if path == "/":
                return self.send(200, page("TLS", "<p>behind a self-signed certificate</p>"))
            self.not_found()

    Handler.SITES = {
        "www.status500.test": Handler.status500,
        "www.status404.test": Handler.status404,
        "www.redirloop.test": Handler.redirloop,
        "www.redirect-away.test": Handler.redirect_away,
        "www.elsewhere.test": Handler.elsewhere,
        "www.third.test": Handler.third,
        "www.noquiet.test": Handler.noquiet,
        "www.neverload.test": Handler.neverload,
        "www.dialogs.test": Handler.dialogs,
        "www.popups.test": Handler.popups,
        "www.download.test": Handler.download,
        "www.crash.test": Handler.crash,
        "www.big.test": Handler.big,
        "www.calendar.test": Handler.calendar,
        "www.sticky-banner.test": Handler.sticky,
        "www.slow.test": Handler.slow,
        "www.tls.test": Handler.tls,
        "www.spin.test": Handler.spin,
    }
    return Handler


if __name__ == "__main__":  # manual poking: python tests/hostile_server.py
    with HostileServer() as srv:
        print(f"serving on 127.0.0.1:{srv.port}; scan with --resolve '*=127.0.0.1:{srv.port}' --ignore-https-errors")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
