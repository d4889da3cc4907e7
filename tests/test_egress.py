"""The egress guard (scanner/egress.py): every request Chromium makes is checked where it connects.

Scans of a hostile public site (tests/hostile_egress.py, reached with --resolve for its own host
name only) whose pages redirect, refresh, navigate by script and load subresources towards an
internal service on the same 127.0.0.1 port: the internal page's title, cookie and pixels must
never reach the result, the internal service must never be asked, and the refused request must
be recorded. No test looks a name up in real DNS: `system_resolve` is replaced by a table.
"""
from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest

from hostile_egress import (FILE_SITEMAP_PATH, INTERNAL_COOKIE, INTERNAL_ONLY_PATH, INTERNAL_TITLE, HostileEgress,
                            magenta_share)
from scanner import ScanOptions, scan
from scanner import egress
from scanner.errors import UsageError


# --------------------------------------------------------------------------- address classification

REFUSED = {
    "127.0.0.1": "loopback", "127.255.255.254": "loopback", "::1": "loopback", "[::1]": "loopback",
    "2130706433": "loopback", "0x7f.1": "loopback", "127.1": "loopback",
    "10.0.0.1": "private", "172.16.0.1": "private", "172.31.255.255": "private", "192.168.1.1": "private",
    "169.254.169.254": "cloud metadata", "fd00:ec2::254": "cloud metadata", "100.100.100.200": "cloud metadata",
    "169.254.1.1": "link-local", "fe80::1": "link-local", "fe80::1%eth0": "link-local",
    "0.0.0.0": "unspecified", "::": "unspecified",
    "224.0.0.1": "multicast", "239.255.255.250": "multicast", "ff02::1": "multicast",
    "240.0.0.1": "reserved", "255.255.255.255": "reserved",
    "100.64.0.1": "CGNAT", "100.127.255.255": "CGNAT",
    "fc00::1": "unique-local", "fd12:3456::1": "unique-local",
    "::ffff:127.0.0.1": "loopback address (127.0.0.1) embedded", "::ffff:10.0.0.1": "private address (10.0.0.1)",
    "::ffff:169.254.169.254": "cloud metadata address (169.254.169.254)",
    "::127.0.0.1": "IPv4-compatible", "::10.0.0.1": "IPv4-compatible",
    "2002:7f00:1::1": "6to4", "2002:a00:1::": "6to4", "2002:a9fe:a9fe::": "cloud metadata",
    "64:ff9b::127.0.0.1": "NAT64", "64:ff9b::a00:1": "NAT64", "64:ff9b:1::a00:1": "NAT64",
    "64:ff9b::a9fe:a9fe": "cloud metadata",
    "192.0.2.1": "", "198.18.0.1": "", "2001:db8::1": "",
}
PUBLIC = ["8.8.8.8", "1.1.1.1", "2001:4860::8888", "2606:4700:4700::1111", "100.63.255.255", "100.128.0.1",
          "172.15.0.1", "172.32.0.1", "192.169.0.1", "169.253.255.255", "::ffff:8.8.8.8", "64:ff9b::808:808",
          "2002:808:808::1"]


@pytest.mark.parametrize("address", sorted(REFUSED))
def test_refused_addresses(address):
    reason = egress.refusal_reason(address)
    assert reason and REFUSED[address] in reason, (address, reason)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address):
    assert egress.refusal_reason(address) is None


def test_names_are_not_addresses():
    for name in ("www.example.com", "deadbeef", "1e100.net", "localhost", ""):
        assert egress.parse_address(name) is None, name


def test_resolve_mappings_match_like_chromium_rules():
    mappings = egress.Mappings(["www.a.test=127.0.0.1:1", "*.b.test=10.0.0.2", "*=[::1]:3"])
    assert mappings.lookup("www.a.test") == ("127.0.0.1", 1)
    assert mappings.lookup("WWW.A.TEST.") == ("127.0.0.1", 1)
    assert mappings.lookup("x.y.b.test") == ("10.0.0.2", None)
    assert mappings.lookup("b.test") == ("::1", 3)             # *.b.test is for names under b.test
    assert mappings.lookup("127.0.0.1") == ("::1", 3)          # `*` maps every host, addresses too
    only = egress.Mappings(["www.public.test=127.0.0.1:8443"])
    assert only.lookup("www.public.test") and only.lookup("public.test") is None
    assert only.lookup("127.0.0.1") is None and only.lookup("other.public.test") is None
    assert egress.entries_from_rules("MAP a.test 127.0.0.1:9, MAP * [::1]") == ("a.test=127.0.0.1:9", "*=[::1]")


def test_start_url_check_uses_the_same_classification(no_dns):
    for url in ("https://127.0.0.1/", "http://2130706433/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/",
                "http://100.100.100.200/", "http://[fd00:ec2::254]/", "http://100.64.1.1/", "http://localhost/"):
        with pytest.raises(UsageError, match="--allow-private"):
            ScanOptions(url=url)
    no_dns.answers["intranet.example.com"] = [["10.1.2.3"]]
    with pytest.raises(UsageError, match="10.1.2.3"):
        ScanOptions(url="https://intranet.example.com/")
    ScanOptions(url="https://www.public.test/", resolve=("www.public.test=127.0.0.1:8443",))
    ScanOptions(url="https://www.public.test/", resolve=("*.public.test=127.0.0.1:8443",))
    ScanOptions(url="https://www.public.test/", resolve=("*=127.0.0.1:8443",))
    ScanOptions(url="http://127.0.0.1:9/", allow_private=True)
    # a --resolve entry exempts the host it maps, not every start URL
    with pytest.raises(UsageError, match="loopback"):
        ScanOptions(url="https://127.0.0.1:8443/", resolve=("www.public.test=127.0.0.1:8443",))
    with pytest.raises(UsageError, match="10.1.2.3"):
        ScanOptions(url="https://intranet.example.com/", resolve=("www.public.test=127.0.0.1:8443",))


# --------------------------------------------------------------------------- fixtures

class FakeDNS:
    """egress.system_resolve replaced: names answer from `answers` (successive lists; the last one
    repeats), anything else does not exist. Every lookup is logged."""

    def __init__(self):
        self.answers: dict[str, list[list[str]]] = {"localhost": [["127.0.0.1"]]}
        self.lookups: list[tuple[str, list[str] | None]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        host = host.lower().rstrip(".")
        queue = self.answers.get(host)
        if callable(queue):
            queue = [queue()]
        if not queue:
            self.lookups.append((host, None))
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        self.lookups.append((host, answer))
        return list(answer)


@pytest.fixture
def no_dns(monkeypatch) -> FakeDNS:
    fake = FakeDNS()
    monkeypatch.setattr(egress, "system_resolve", fake)
    return fake


@pytest.fixture
def proxies(monkeypatch) -> list:
    """Every EgressProxy the scan starts."""
    started: list[egress.EgressProxy] = []
    original = egress.EgressProxy.start

    def start(self):
        started.append(self)
        return original(self)

    monkeypatch.setattr(egress.EgressProxy, "start", start)
    return started


@pytest.fixture(scope="module")
def sitemap_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("file-sitemap") / "sitemap.xml"
    path.write_text('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                    f"<url><loc>https://www.public.test{FILE_SITEMAP_PATH}</loc></url></urlset>")
    return path


@pytest.fixture(scope="module")
def hostile(sitemap_file):
    with HostileEgress(sitemap_file) as server:
        yield server


@pytest.fixture
def server(hostile):
    hostile.internal_hits.clear()
    hostile.public_hits.clear()
    return hostile


def run_scan(server, url: str, out, proxies, **kwargs) -> tuple[dict, list[dict]]:
    options = ScanOptions(url=url, resolve=kwargs.pop("resolve", (server.resolve_rule(),)), ignore_https_errors=True,
                          states=("none",), max_pages=kwargs.pop("max_pages", 1), timeout_s=10, quiet_ms=300,
                          out_dir=out, **kwargs)
    result = scan(options)
    refused = [entry for proxy in proxies for entry in proxy.refused]
    return result, refused


def assert_internal_never_reached(server, result: dict, out) -> None:
    text = json.dumps(result)
    assert server.internal_hits == [], f"the internal service was asked: {server.internal_hits}"
    assert INTERNAL_TITLE not in text and INTERNAL_COOKIE not in text
    for page in (p for state in result["states"] for p in state["pages"]):
        assert not any(c.get("name") == INTERNAL_COOKIE for c in page.get("cookies") or [])
    for shot in sorted((out / "screenshots").glob("*.png")) if (out / "screenshots").is_dir() else []:
        assert magenta_share(shot.read_bytes()) < 0.01, f"{shot.name} shows the internal page"


def start_page(result: dict) -> dict:
    return result["states"][0]["pages"][0]


# --------------------------------------------------------------------------- hostile start pages

REDIRECTS = {
    # path: (refused host as Chromium asks for it, address checked, reason)
    "/redirect-loopback": ("127.0.0.1", "127.0.0.1", "loopback address"),
    "/redirect-v6": ("::1", "::1", "loopback address"),
    "/redirect-zero": ("0.0.0.0", "0.0.0.0", "unspecified address"),
    "/redirect-decimal": ("127.0.0.1", "127.0.0.1", "loopback address"),
    "/redirect-mapped": ("::ffff:7f00:1", "::ffff:7f00:1", "loopback address (127.0.0.1) embedded in an IPv6"),
}


@pytest.mark.parametrize("path", list(REDIRECTS))
def test_start_page_redirect_to_internal_address_is_refused(path, server, no_dns, proxies, tmp_path):
    result, refused = run_scan(server, f"https://www.public.test{path}", tmp_path, proxies)
    assert ("www.public.test", path) in server.public_hits      # the public page was visited
    assert_internal_never_reached(server, result, tmp_path)
    host, address, reason = REDIRECTS[path]
    assert [r for r in refused if r["host"] == host and r["port"] == server.port and r["address"] == address
            and r["reason"].startswith(reason)], refused
    page = start_page(result)
    assert page["title"] != INTERNAL_TITLE
    assert page["error"] or (page["status"] or 0) >= 400, page


def test_meta_refresh_to_unmapped_internal_name(server, no_dns, proxies, tmp_path):
    """internal.corp.test is not mapped: the proxy asks the system resolver, which knows nothing."""
    result, refused = run_scan(server, "https://www.public.test/refresh-internal", tmp_path, proxies)
    assert ("internal.corp.test", None) in no_dns.lookups
    assert_internal_never_reached(server, result, tmp_path)
    assert start_page(result)["title"] != INTERNAL_TITLE


def test_meta_refresh_to_internal_name_that_resolves_privately(server, no_dns, proxies, tmp_path):
    """The runner's DNS knows internal.corp.test (a private address): refused at connection time."""
    no_dns.answers["internal.corp.test"] = [["127.0.0.1"]]
    result, refused = run_scan(server, "https://www.public.test/refresh-internal", tmp_path, proxies)
    assert_internal_never_reached(server, result, tmp_path)
    assert {"host": "internal.corp.test", "port": server.port, "address": "127.0.0.1",
            "reason": "loopback address"} in refused


def test_script_navigation_to_cloud_metadata(server, no_dns, proxies, tmp_path):
    result, refused = run_scan(server, "https://www.public.test/script-metadata", tmp_path, proxies)
    assert_internal_never_reached(server, result, tmp_path)
    assert {"host": "169.254.169.254", "port": 80, "address": "169.254.169.254",
            "reason": "cloud metadata address"} in refused
    assert "latest/meta-data" not in json.dumps(refused)      # host and port only, never the path
    # a plain-http navigation the guard refused is a failed visit, not the proxy's answer as a page
    page = start_page(result)
    assert page["url"].endswith("/script-metadata") and page["title"] != "403 Forbidden"
    refused_entry = next(r for r in result["egress"]["refused"] if r["host"] == "169.254.169.254")
    assert refused_entry["pages"] == [page["url"]] and refused_entry["states"] == ["none"]
    assert any("ERR_BLOCKED_BY_EGRESS_GUARD" in str(r.get("error")) for r in page["requests"]
               if r["url"].startswith("http://169.254.169.254/")), page["requests"]


def test_subresources_to_internal_addresses_refused_page_still_audited(server, no_dns, proxies, tmp_path):
    result, refused = run_scan(server, "https://www.public.test/subresources", tmp_path, proxies)
    assert_internal_never_reached(server, result, tmp_path)
    page = start_page(result)
    assert result["states"][0]["reached"] and page["error"] is None and page["status"] == 200
    assert page["title"] == "Public page with subresources"
    assert any(c["name"] == "public_visit" for c in page["cookies"])
    assert {"host": "127.0.0.1", "port": server.port, "address": "127.0.0.1", "reason": "loopback address"} in refused
    assert {"host": "localhost", "port": server.port, "address": "127.0.0.1", "reason": "loopback address"} in refused
    # the report says so: report.json, the HTML report and the CI summary
    asked = [{k: v for k, v in r.items() if k not in ("pages", "pages_more", "states")} for r in result["egress"]["refused"]]
    assert asked == refused and result["egress"]["refused_dropped"] == 0
    # which page asked for each refused connection
    assert all(r["pages"] == [page["url"]] and r["states"] == ["none"] and r["pages_more"] == 0
               for r in result["egress"]["refused"]), result["egress"]["refused"]
    from scanner.report import render_markdown
    from scanner.report.html import render_html
    html = render_html(result)
    assert "The egress guard refused" in html
    assert f"127.0.0.1:{server.port} → 127.0.0.1 (loopback address), asked by {page['url']} in none" in html
    assert "Egress guard: refused" in render_markdown(result)


def test_robots_sitemaps_on_internal_address_and_file_are_not_fetched(server, no_dns, proxies, tmp_path):
    result, refused = run_scan(server, "https://www.public.test/", tmp_path, proxies, max_pages=5)
    assert ("www.public.test", "/robots.txt") in server.public_hits
    assert_internal_never_reached(server, result, tmp_path)       # no /sitemap.xml from the internal side
    visited = {path for _, path in server.public_hits}
    assert INTERNAL_ONLY_PATH not in visited and FILE_SITEMAP_PATH not in visited
    assert FILE_SITEMAP_PATH not in json.dumps(result)
    assert {"host": "127.0.0.1", "port": server.port, "address": "127.0.0.1", "reason": "loopback address"} in refused


def test_explicit_wildcard_resolve_still_allows_loopback(server, no_dns, proxies, tmp_path):
    """`--resolve '*=127.0.0.1:PORT'` (how every local test site is reached) maps every name, and
    IP literals, to loopback: the user said so; nothing is refused."""
    result, refused = run_scan(server, "https://www.public.test/subresources", tmp_path, proxies,
                               resolve=(f"*=127.0.0.1:{server.port}",))
    assert refused == []
    assert start_page(result)["title"] == "Public page with subresources"
    assert server.internal_hits        # 127.0.0.1 and localhost were mapped too: the internal side answered


def test_allow_private_allows_the_redirect(server, no_dns, proxies, tmp_path, monkeypatch):
    import importlib
    from scanner.browser import Browser
    scan_module = importlib.import_module("scanner.scan")
    # scan.py passes options.allow_private to Browser; this stands in until it does (same result after)
    monkeypatch.setattr(scan_module, "Browser", lambda *a, **kw: Browser(*a, **{"allow_private": True, **kw}))
    result, refused = run_scan(server, "https://www.public.test/redirect-loopback", tmp_path, proxies,
                               allow_private=True)
    assert refused == []
    assert start_page(result)["title"] == INTERNAL_TITLE


def test_dns_rebinding_connects_only_to_the_checked_address(server, no_dns, proxies, tmp_path, monkeypatch):
    """rebind.test's DNS answers a public address until the page has been served, 127.0.0.1 after
    (a rebinding attacker's DNS with a zero TTL). The guard looks the name up once per connection
    and connects to the address it checked (the test's connector stands in for the public server
    with the local one, and connects nowhere else): the connections opened for the page reach the
    public server; every later one - the page's <img> on another port, the scanner's second visit -
    is refused. A guard that looked up once to check and again to connect would have been sent to
    127.0.0.1."""
    public = "93.184.216.34"
    options = ScanOptions(url=f"https://rebind.test:{server.port}/rebind", ignore_https_errors=True,
                          states=("none",), max_pages=1, timeout_s=10, quiet_ms=300, out_dir=tmp_path)
    no_dns.answers["rebind.test"] = lambda: ["127.0.0.1"] if server.public_hits else [public]
    connects: list[tuple[str, int]] = []
    original = egress.open_upstream

    async def connector(address, port, factory):
        connects.append((address, port))
        if address == public:
            return await original("127.0.0.1", port, factory)
        raise ConnectionRefusedError(f"the test connects nowhere but {public}")

    monkeypatch.setattr(egress, "open_upstream", connector)
    result = scan(options)
    refused = [entry for proxy in proxies for entry in proxy.refused]
    answers = [answer for host, answer in no_dns.lookups if host == "rebind.test" and answer]   # the proxy's
    assert connects and {address for address, _ in connects} == {public}, connects
    assert len(connects) == answers.count([public])            # one lookup, one connection, same address
    assert answers.count(["127.0.0.1"]) >= 1 and answers[0] == [public]
    assert [r for r in refused if r["host"] == "rebind.test" and r["address"] == "127.0.0.1"
            and r["reason"] == "loopback address"], refused
    assert_internal_never_reached(server, result, tmp_path)
    assert ("rebind.test", "/rebind") in server.public_hits


# --------------------------------------------------------------------------- the proxy without Chromium

def _ask(proxy, data: bytes, *, read_all: bool = True) -> bytes:
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            chunks.append(chunk)
            if not read_all and b"\r\n\r\n" in b"".join(chunks):
                break
        return b"".join(chunks)


def test_proxy_connect_tunnel_refusal_and_failure(server, no_dns):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    with egress.EgressProxy((server.resolve_rule(), f"down.test=127.0.0.1:{closed_port}")) as proxy:
        # a mapped host: the tunnel carries whatever the client sends (plain HTTP here)
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as sock:
            sock.sendall(b"CONNECT www.public.test:443 HTTP/1.1\r\nHost: www.public.test:443\r\n\r\n")
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
            sock.sendall(b"GET /plain HTTP/1.1\r\nHost: www.public.test\r\nConnection: close\r\n\r\n")
            body = b""
            while chunk := sock.recv(65536):
                body += chunk
            assert b"Public page" in body
        answer = _ask(proxy, f"CONNECT 127.0.0.1:{server.port} HTTP/1.1\r\n\r\n".encode())
        assert answer.startswith(b"HTTP/1.1 403") and b"loopback" in answer
        answer = _ask(proxy, b"CONNECT [::ffff:a9fe:a9fe]:80 HTTP/1.1\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 403") and b"metadata" in answer
        answer = _ask(proxy, b"CONNECT down.test:443 HTTP/1.1\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 502")
        answer = _ask(proxy, b"CONNECT nowhere.invalid:443 HTTP/1.1\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 502")
        assert egress.explain(f"https://127.0.0.1:{server.port}/x?q=1").startswith("refused by the egress guard")
        assert egress.explain("https://down.test/") == "connection refused (ERR_CONNECTION_REFUSED)"
        assert egress.explain("https://nowhere.invalid/") == \
            "DNS lookup failed (host name not found) (ERR_NAME_NOT_RESOLVED)"
        assert egress.explain("https://www.public.test/") is None
        # Chromium's errors through the proxy, read as they would be without it
        tunnel = "net::ERR_TUNNEL_CONNECTION_FAILED"
        assert egress.net_error("https://down.test/a.js", tunnel) == "net::ERR_CONNECTION_REFUSED"
        assert egress.net_error("http://down.test:443/", "net::ERR_EMPTY_RESPONSE") == "net::ERR_CONNECTION_REFUSED"
        assert egress.net_error(f"https://127.0.0.1:{server.port}/", f"{tunnel} at x") == \
            "net::ERR_BLOCKED_BY_EGRESS_GUARD at x"
        assert egress.net_error("https://nowhere.invalid/", tunnel) == "net::ERR_NAME_NOT_RESOLVED"
        assert egress.net_error("https://www.public.test/", tunnel) == tunnel          # nothing known: unchanged
        assert egress.net_error("https://down.test/", "net::ERR_ABORTED") == "net::ERR_ABORTED"
        assert proxy.refused == [
            {"host": "127.0.0.1", "port": server.port, "address": "127.0.0.1", "reason": "loopback address"},
            {"host": "::ffff:a9fe:a9fe", "port": 80, "address": "::ffff:a9fe:a9fe",
             "reason": "cloud metadata address (169.254.169.254) embedded in an IPv6 address (IPv4-mapped)"}]
    assert egress.explain("https://down.test/") is None       # a stopped proxy explains nothing
    assert server.internal_hits == []


def test_proxy_plain_http_forwarding(server, no_dns):
    with egress.EgressProxy((server.resolve_rule(),)) as proxy:
        answer = _ask(proxy, b"GET http://www.public.test/plain?x=1 HTTP/1.1\r\nHost: www.public.test\r\n"
                             b"Proxy-Connection: keep-alive\r\n\r\n")
        head = answer.split(b"\r\n\r\n")[0].lower()
        assert answer.startswith(b"HTTP/1.1 200") and b"Public page" in answer
        assert b"connection: close" in head                    # never reused for another host
        # refused plain HTTP: the connection closes unanswered (no proxy page to show as the site's)
        assert _ask(proxy, f"GET http://127.0.0.1:{server.port}/?token=secret HTTP/1.1\r\n\r\n".encode()) == b""
        assert _ask(proxy, b"GET http://[::1]/ HTTP/1.1\r\n\r\n") == b""
        assert egress.explain(f"http://127.0.0.1:{server.port}/") == (
            "refused by the egress guard: 127.0.0.1 is a loopback address (ERR_BLOCKED_BY_EGRESS_GUARD)")
        assert _ask(proxy, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 400")
        assert _ask(proxy, b"GET ftp://www.public.test/ HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 400")
        assert "secret" not in json.dumps(proxy.refused)
        assert [r["host"] for r in proxy.refused] == ["127.0.0.1", "::1"]
    assert server.internal_hits == []


def test_proxy_rebinding_one_lookup_per_connection(server, no_dns, monkeypatch):
    no_dns.answers["rebind.test"] = [["93.184.216.34"], ["10.0.0.7"]]
    connects = []
    original = egress.open_upstream

    async def connector(address, port, factory):
        connects.append(address)
        return await original("127.0.0.1", server.port, factory)

    monkeypatch.setattr(egress, "open_upstream", connector)
    with egress.EgressProxy() as proxy:
        first = _ask(proxy, b"CONNECT rebind.test:443 HTTP/1.1\r\n\r\n", read_all=False)
        second = _ask(proxy, b"CONNECT rebind.test:443 HTTP/1.1\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 200") and second.startswith(b"HTTP/1.1 403")
    assert connects == ["93.184.216.34"]
    assert [answer for host, answer in no_dns.lookups if host == "rebind.test"] == [["93.184.216.34"], ["10.0.0.7"]]
    assert proxy.refused == [{"host": "rebind.test", "port": 443, "address": "10.0.0.7", "reason": "private address"}]


def test_proxy_a_name_with_one_private_answer_is_refused(no_dns, monkeypatch):
    no_dns.answers["mixed.test"] = [["8.8.8.8", "127.0.0.1"]]
    monkeypatch.setattr(egress, "open_upstream", _never_connect)
    with egress.EgressProxy() as proxy:
        assert _ask(proxy, b"CONNECT mixed.test:443 HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 403")
    assert proxy.refused[0]["address"] == "127.0.0.1"


async def _never_connect(address, port, factory):
    raise AssertionError(f"connected to {address}:{port}")


def test_proxy_bounds(no_dns, monkeypatch):
    monkeypatch.setattr(egress, "MAX_REFUSED", 3)
    monkeypatch.setattr(egress, "HEAD_TIMEOUT_S", 1.0)
    with egress.EgressProxy() as proxy:
        for last in range(1, 6):
            assert _ask(proxy, f"CONNECT 10.0.0.{last}:443 HTTP/1.1\r\n\r\n".encode()).startswith(b"HTTP/1.1 403")
        assert _ask(proxy, b"CONNECT 10.0.0.1:443 HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 403")  # a repeat
        assert len(proxy.refused) == 3 and proxy.refused_dropped == 2
        huge = b"CONNECT a.test:443 HTTP/1.1\r\n" + b"X-Filler: " + b"a" * (80 * 1024) + b"\r\n\r\n"
        assert _ask(proxy, huge) == b""                       # head over 64 KB: closed, nothing sent
        began = time.monotonic()
        assert _ask(proxy, b"CONNECT a.test:443 HTTP/1.1\r\n") == b""   # never finishes its head
        assert time.monotonic() - began < 5
        assert _ask(proxy, b"NONSENSE\r\n\r\n").startswith(b"HTTP/1.1 400")


def test_proxy_stops_with_open_tunnels(server, no_dns):
    proxy = egress.EgressProxy((server.resolve_rule(),)).start()
    sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
    sock.sendall(b"CONNECT www.public.test:443 HTTP/1.1\r\n\r\n")
    assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    began = time.monotonic()
    proxy.stop()
    assert time.monotonic() - began < 3
    assert sock.recv(4096) == b""
    sock.close()
    assert not any(t.name == "egress-proxy" and t.is_alive() for t in __import__("threading").enumerate())


def test_chromium_flags_send_everything_through_the_proxy():
    from scanner.browser import launch_flags
    proxy = egress.EgressProxy(("*=127.0.0.1:9",))
    proxy.port = 4321
    flags = launch_flags("MAP * 127.0.0.1:9", egress=proxy)
    assert "--proxy-server=http://127.0.0.1:4321" in flags and "--proxy-bypass-list=<-loopback>" in flags
    rules = [f for f in flags if f.startswith("--host-resolver-rules=")]
    assert rules == ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]   # Chromium resolves nothing
    assert "--force-webrtc-ip-handling-policy=disable_non_proxied_udp" in flags


def test_sitemap_lists_keep_only_web_urls():
    from scanner.crawl import locs_from_sitemap, sitemap_urls_from_robots
    robots = ("Sitemap: https://a.test/s.xml\nSitemap: file:///etc/passwd\nSitemap: ftp://a.test/s.xml\n"
              "Sitemap: javascript:alert(1)\nSitemap: http://user:pw@a.test/s.xml\nSitemap: http://a.test/t.xml")
    assert sitemap_urls_from_robots(robots) == ["https://a.test/s.xml", "http://a.test/t.xml"]
    locs, _ = locs_from_sitemap("<urlset><loc>file:///etc/passwd</loc><loc>https://a.test/p</loc>"
                                "<loc>data:text/html,x</loc></urlset>")
    assert locs == ["https://a.test/p"]


def test_event_loop_of_the_caller_is_not_used():
    """The proxy runs on its own thread and loop: it serves while the caller's loop is blocked."""
    async def blocked():
        with egress.EgressProxy() as proxy:
            return _ask(proxy, b"CONNECT 127.0.0.1:1 HTTP/1.1\r\n\r\n")
    assert asyncio.run(blocked()).startswith(b"HTTP/1.1 403")


def test_browser_owns_the_guard():
    """Browser(...).egress is the scan's guard: the --resolve entries (or an older caller's
    host_resolver_rules string) and --allow-private; its refusals stay readable after the scan."""
    from scanner.browser import Browser, ContextSettings
    browser = Browser(None, executable="/bin/false", settings=ContextSettings(),
                      resolve=("www.public.test=127.0.0.1:9",), allow_private=True)
    assert browser.egress.mappings.lookup("www.public.test") == ("127.0.0.1", 9) and browser.egress.allow_private
    older = Browser(None, executable="/bin/false", settings=ContextSettings(), resolver_rules="MAP a.test 127.0.0.1:9")
    assert older.egress.mappings.lookup("a.test") == ("127.0.0.1", 9) and not older.egress.allow_private
    with older.egress as proxy:
        assert _ask(proxy, b"CONNECT 10.9.8.7:443 HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 403")
    assert older.egress.summary() == {"refused": [{"host": "10.9.8.7", "port": 443, "address": "10.9.8.7",
                                                   "reason": "private address"}], "refused_dropped": 0}
