"""A hostile public site and an internal service on one 127.0.0.1 port, for the egress guard tests.

The scanner reaches the public site with ``--resolve www.public.test=127.0.0.1:PORT`` (that host
only). Every other Host header (127.0.0.1, [::1], 0.0.0.0, internal.corp.test...) gets the
*internal* service: a page titled INTERNAL_TITLE on a magenta background that sets the cookie
INTERNAL_COOKIE, and a sitemap listing a page only it knows. `internal_hits` lists every request
the internal service answered: the guard works when it stays empty.

HTTPS and plain HTTP share the port (the first byte of a connection decides). Binds 127.0.0.1 only.

    with HostileEgress(sitemap_file) as server:
        server.port, server.resolve_rule(), server.internal_hits

Public pages (www.public.test and rebind.test):
  /redirect-loopback   302 -> https://127.0.0.1:PORT/
  /redirect-v6         302 -> http://[::1]:PORT/
  /redirect-zero       302 -> http://0.0.0.0:PORT/
  /redirect-decimal    302 -> http://2130706433:PORT/        (127.0.0.1 as one number)
  /redirect-mapped     302 -> http://[::ffff:127.0.0.1]:PORT/
  /refresh-internal    <meta refresh> -> https://internal.corp.test:PORT/ (a name --resolve does not map)
  /script-metadata     location = http://169.254.169.254/latest/meta-data/
  /subresources        a page with an <img> and a fetch() to 127.0.0.1:PORT (and a cookie of its own)
  /rebind              a page with an <img> on the same host name, another port (see test_egress)
  /robots.txt          Sitemap: https://127.0.0.1:PORT/sitemap.xml and Sitemap: file://<sitemap_file>
  anything else        a plain public page linking nowhere
"""
from __future__ import annotations

import ssl
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

from hostile_server import SniffingTLSServer
from scanner.demo.certs import make_self_signed

PUBLIC_HOSTS = ("www.public.test", "rebind.test")
INTERNAL_TITLE = "INTERNAL ADMIN CONSOLE"
INTERNAL_COOKIE = "internal_secret"
INTERNAL_ONLY_PATH = "/only-the-internal-sitemap-lists-this"
FILE_SITEMAP_PATH = "/only-the-file-sitemap-lists-this"
MAGENTA = (255, 0, 255)


class HostileEgress:
    def __init__(self, sitemap_file: Path | None = None):
        self.sitemap_file = sitemap_file
        self.port = 0
        self.public_hits: list[tuple[str, str]] = []     # (host, path)
        self.internal_hits: list[tuple[str, str]] = []   # (Host header, path): must stay empty
        self._httpd: SniffingTLSServer | None = None
        self._context: ssl.SSLContext | None = None

    def resolve_rule(self) -> str:
        return f"www.public.test=127.0.0.1:{self.port}"

    def start(self) -> "HostileEgress":
        cert, key = make_self_signed(["www.public.test", "rebind.test", "internal.corp.test", "localhost"])
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(cert, key)
        self._httpd = SniffingTLSServer(("127.0.0.1", 0), _handler(self), self)
        self.port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, name="hostile-egress", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "HostileEgress":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- pages ---------------------------------------------------------------------------------
    def public(self, path: str) -> tuple[int, list[tuple[str, str]], str]:
        port = self.port
        redirects = {
            "/redirect-loopback": f"https://127.0.0.1:{port}/",
            "/redirect-v6": f"http://[::1]:{port}/",
            "/redirect-zero": f"http://0.0.0.0:{port}/",
            "/redirect-decimal": f"http://2130706433:{port}/",
            "/redirect-mapped": f"http://[::ffff:127.0.0.1]:{port}/",
        }
        if path in redirects:
            return 302, [("Location", redirects[path])], ""
        if path == "/robots.txt":
            lines = ["User-agent: *", "Allow: /", f"Sitemap: https://127.0.0.1:{port}/sitemap.xml"]
            if self.sitemap_file:
                lines.append(f"Sitemap: file://{self.sitemap_file}")
            return 200, [("Content-Type", "text/plain")], "\n".join(lines) + "\n"
        if path == "/sitemap.xml":
            return 404, [], "no sitemap here"
        if path == "/refresh-internal":
            body = (f'<meta http-equiv="refresh" content="0;url=https://internal.corp.test:{port}/">'
                    "<title>Public page refreshing</title>")
        elif path == "/script-metadata":
            body = ("<title>Public page with a script</title>"
                    "<script>location = 'http://169.254.169.254/latest/meta-data/';</script>")
        elif path == "/subresources":
            body = ("<title>Public page with subresources</title><p>public</p>"
                    f'<img src="https://127.0.0.1:{port}/pixel.gif" alt="">'
                    f"<script>fetch('http://localhost:{port}/api/secrets').catch(() => null);</script>")
        elif path == "/rebind":
            body = ("<title>Public page on a rebinding name</title><p>public</p>"
                    f'<img src="https://rebind.test:{port + 1 if port < 65535 else port - 1}/pixel.gif" alt="">')
        else:
            body = f"<title>Public page</title><p>public page {path}</p>"
        html = f'<!doctype html><html><head><meta charset="utf-8">{body}</head><body></body></html>'
        return 200, [("Content-Type", "text/html; charset=utf-8"),
                     ("Set-Cookie", "public_visit=1; Path=/; Max-Age=3600")], html

    def internal(self, path: str) -> tuple[int, list[tuple[str, str]], str]:
        if path == "/sitemap.xml":
            return 200, [("Content-Type", "application/xml")], (
                '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"<url><loc>https://www.public.test{INTERNAL_ONLY_PATH}</loc></url></urlset>")
        html = (f'<!doctype html><html><head><title>{INTERNAL_TITLE}</title></head>'
                '<body style="background:#ff00ff;margin:0;min-height:2000px"><h1>internal</h1></body></html>')
        return 200, [("Content-Type", "text/html"),
                     ("Set-Cookie", f"{INTERNAL_COOKIE}=leaked; Path=/; Max-Age=3600")], html


def _handler(owner: HostileEgress):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            host = (self.headers.get("Host") or "").lower()
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            path = urlsplit(self.path).path or "/"
            if name in PUBLIC_HOSTS:
                owner.public_hits.append((name, path))
                status, headers, body = owner.public(path)
            else:
                owner.internal_hits.append((host, path))
                status, headers, body = owner.internal(path)
            data = body.encode("utf-8")
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_GET

    return Handler


def magenta_share(png: bytes) -> float:
    """The share of pure magenta pixels in a PNG screenshot (8-bit RGB/RGBA, not interlaced)."""
    import struct
    import zlib
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    height = depth = color = 0
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        chunk = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    assert depth == 8 and color in (2, 6), (depth, color)
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    hits = 0
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            up_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else up_left)) & 0xFF
        for x in range(0, stride, channels):
            if tuple(line[x:x + 3]) == MAGENTA:
                hits += 1
        previous = line
    return hits / max(1, width * height)
