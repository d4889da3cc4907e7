"""A small virtual-host HTTPS server for local sites: one folder per host name.

Layout of a site root:
  <host>/<path>             static files ("/" -> index.html, "/about" -> about.html)
  <host>/<path>.headers     extra response headers, one per line; "Status: 302" sets the status
  <host>/_fallback          served (with its .headers) for any path that has no file
  <host>/_layout.html       wraps pages whose first line is "<!--layout title=...-->"
Mounts map a URL prefix on every host to another folder (tests map /_npm/ to node_modules).
Only ever binds to 127.0.0.1.
"""
from __future__ import annotations

import mimetypes
import re
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .certs import make_self_signed

_LAYOUT_RE = re.compile(r"^<!--layout\s+title=\"([^\"]*)\"\s*-->\s*")
TYPES = {".js": "application/javascript", ".mjs": "application/javascript", ".css": "text/css",
         ".html": "text/html; charset=utf-8", ".json": "application/json", ".svg": "image/svg+xml",
         ".gif": "image/gif", ".png": "image/png", ".xml": "application/xml", ".txt": "text/plain; charset=utf-8"}


class SiteServer:
    def __init__(self, root: Path, *, mounts: dict[str, Path] | None = None, tls: bool = True):
        self.root = Path(root)
        self.mounts = {k: Path(v) for k, v in (mounts or {}).items()}
        self.tls = tls
        self.log: list[tuple[str, str, str]] = []   # (method, host, path)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def hosts(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("_"))

    def resolve_rule(self) -> str:
        """The scanner's --resolve value sending every host name to this server."""
        return f"*=127.0.0.1:{self.port}"

    def start(self) -> "SiteServer":
        handler = _make_handler(self)
        self._httpd = _QuietServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        if self.tls:
            cert, key = make_self_signed(self.hosts + ["localhost"])
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self._httpd.tls = context
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="site-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "SiteServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- file lookup --------------------------------------------------------------
    def lookup(self, host: str, path: str) -> tuple[Path | None, Path | None]:
        """Return (file, headers file) for host+path, or (None, None)."""
        path = unquote(path)
        for prefix, folder in self.mounts.items():
            if path.startswith(prefix):
                candidate = _safe_join(folder, path[len(prefix):])
                if candidate and candidate.is_dir():
                    candidate = candidate / "index.html"
                return (candidate, None) if candidate and candidate.is_file() else (None, None)
        base = _safe_join(self.root, host)
        if base is None or not base.is_dir():
            return None, None
        rel = path.lstrip("/")
        for name in ([rel] if rel else []) + ([f"{rel}.html", f"{rel}/index.html"] if rel else ["index.html"]):
            candidate = _safe_join(base, name)
            if candidate and candidate.is_file() and not candidate.name.endswith(".headers"):
                return candidate, candidate.with_name(candidate.name + ".headers")
        fallback = base / "_fallback"
        if fallback.is_file():
            return fallback, base / "_fallback.headers"
        return None, None


class _QuietServer(ThreadingHTTPServer):
    """A browser closing a connection mid-response is normal during a scan: no traceback.
    TLS handshakes happen in each connection's own thread, not one after another in the
    accepting thread (a scan opens many connections at once: one per host per visit)."""

    tls: ssl.SSLContext | None = None
    request_queue_size = 128

    def finish_request(self, request, client_address) -> None:
        if self.tls is None:
            return super().finish_request(request, client_address)
        request.settimeout(30)
        secure = self.tls.wrap_socket(request, server_side=True)   # takes over the socket
        try:
            super().finish_request(secure, client_address)
        finally:
            secure.close()

    def handle_error(self, request, client_address) -> None:
        import sys
        if isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def _safe_join(root: Path, rel: str) -> Path | None:
    candidate = (root / rel.lstrip("/")).resolve()
    root = root.resolve()
    return candidate if candidate == root or root in candidate.parents else None


def _make_handler(server: SiteServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "demo-site"
        sys_version = ""

        def log_message(self, *args) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            self._serve(head=False)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(min(length, 1 << 20))
            self._serve(head=False)

        def do_HEAD(self) -> None:
            self._serve(head=True)

        def _serve(self, head: bool) -> None:
            host = (self.headers.get("Host") or "").split(":")[0].lower()
            path = urlsplit(self.path).path or "/"
            server.log.append((self.command, host, path))
            file, headers_file = server.lookup(host, path)
            if file is None:
                return self._send(404, b"not found", [("Content-Type", "text/plain")], head)
            body = file.read_bytes()
            status, headers = 200, []
            if headers_file and headers_file.is_file():
                for line in headers_file.read_text(encoding="utf-8").splitlines():
                    key, sep, value = line.partition(":")
                    if not sep or not key.strip():
                        continue
                    if key.strip().lower() == "status":
                        status = int(value.strip())
                    else:
                        headers.append((key.strip(), value.strip()))
            if file.suffix == ".html":
                body = _apply_layout(file, body, path)
            if not any(k.lower() == "content-type" for k, _ in headers):
                ctype = TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                headers.append(("Content-Type", ctype))
            if status in (204, 304):
                body = b""
            self._send(status, body, headers, head)

        def _send(self, status: int, body: bytes, headers, head: bool) -> None:
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if not head and body:
                self.wfile.write(body)

    return Handler


def _apply_layout(file: Path, body: bytes, path: str) -> bytes:
    text = body.decode("utf-8")
    match = _LAYOUT_RE.match(text)
    layout = file.parent / "_layout.html"
    if not match or not layout.is_file():
        return body
    page = layout.read_text(encoding="utf-8")
    page = page.replace("{{title}}", match.group(1)).replace("{{path}}", path)
    return page.replace("{{content}}", text[match.end():]).encode("utf-8")
