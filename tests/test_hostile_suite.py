"""The hostile-site suite (issue 16): one table, one row per hostile case, each run through the real CLI.

Every row of CASES states the command line (placeholders: {egress} the port of the hostile public
site and its internal service (tests/hostile_egress.py), {sites} the port of the fixture sites
(tests/sites/), {mirror} a copy of www.hostile-suite.test whose robots.txt names the refused sitemaps
first, {closed} a port nothing listens on, {out} the row's report folder, {files} this module's
input files), the exit code (README: 0 complete, 1 findings, 2 usage or configuration
error, 3 incomplete), the one `cookie-scanner:` line stderr must carry for 2 and 3 (a regex;
none for 0 and 1), whether report.json must exist and say `complete`, and the row's own checks.

What every row must also give (`bounded`): a report.json that is valid JSON, matches the schema and
is under 5 MB whenever a scan ran, and none at all when it was refused before; no secret (the
password and every `s3cr3t-` value of the command line or the site) in any file of the report
folder nor on stdout or stderr; no raw control character on stdout or stderr; the internal
service never asked, its title and cookie nowhere, no screenshot showing its magenta page.

Rows run as a user runs the CLI: a subprocess (`python -m scanner.cli`), started ahead of time,
two at a time, while the rows before them are checked; rows that need this process's hooks (a
fake DNS for rebinding, a leaked recorder binding) call `scanner.cli.main` in-process. Rows that
share one command line (the secrets, format by format) share its run. Nothing leaves 127.0.0.1:
every host name a subprocess row meets is mapped with --resolve, an address, or localhost (from
/etc/hosts); in-process rows look names up in a fake DNS only.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import shutil
import signal
import sys
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from conftest import SITES, TESTS, closed_port, run_cli
from hostile_egress import (FILE_SITEMAP_PATH, INTERNAL_COOKIE, INTERNAL_ONLY_PATH, INTERNAL_TITLE, HostileEgress,
                            magenta_share)
from test_egress import FakeDNS
from test_limits import BOMB
from test_redaction import (ALL_FORMATS, DOWN, DOWN_SECRET, PASSWORD, POLICY, QUERY_SECRETS, START, START_SECRET,
                             hashed, leaks)
from test_terminal_safety import RAW_IN_CELL, raw_controls
from scanner import egress
from scanner.demo import SiteServer
from scanner.report.schema import validate_report

MB = 1024 * 1024
REPORT_LIMIT = 5 * MB
DEADLINE_SLACK_S = 10.0            # a --deadline N scan ends by N + 10 s (issue 16)
WORKERS = 2                        # subprocess rows run ahead, two at a time (2 cores)
PUBLIC_HOST = "www.public.test"
SUITE_HOST = "www.hostile-suite.test"   # tests/sites/www.hostile-suite.test/
FLOOD = "https://www.flood.test/"       # tests/sites/www.flood.test/ (tests/test_limits.py)
SECRET = re.compile(r"s3cr3t-[A-Za-z0-9-]+")


# --------------------------------------------------------------------------- command lines

def _common(*extra: str) -> tuple[str, ...]:
    return ("--ignore-https-errors", "--states", "none", "--page-timeout", "15", "--out", "{out}", *extra)


def public(path: str, *extra: str, pages: int = 1) -> tuple[str, ...]:
    """A scan of the hostile public site, reached through --resolve for its own name only."""
    return ("scan", f"https://{PUBLIC_HOST}{path}", "--resolve", f"{PUBLIC_HOST}=127.0.0.1:{{egress}}",
            "--max-pages", str(pages), *_common("--no-progress", *extra))


def site(url: str, *extra: str, pages: int = 1, resolve: str = "*=127.0.0.1:{sites}") -> tuple[str, ...]:
    """A scan of a fixture site of tests/sites/."""
    return ("scan", url, "--resolve", resolve, "--max-pages", str(pages), *_common(*extra))


def start(url: str, *extra: str) -> tuple[str, ...]:
    """A scan whose start URL is refused before Chromium starts."""
    return ("scan", url, "--out", "{out}", "--no-progress", *extra)


LEAKY = ("scan", START, "--resolve", "down.leaky.test=127.0.0.1:{closed}", "--resolve", "*=127.0.0.1:{sites}",
         "--ignore-https-errors", "--states", "none", "--url", DOWN, "--policy", POLICY, "--format", ALL_FORMATS,
         "--fail-on", "never", "--out", "{out}")
SUITE_PORT = f"https://{SUITE_HOST}:{{sites}}"


# --------------------------------------------------------------------------- one run and its checks

@dataclass
class Run:
    case: "Case"
    code: int
    stdout: str
    stderr: str
    out: Path
    wall_s: float
    env: "Env"

    def report(self) -> dict:
        return json.loads((self.out / "report.json").read_text(encoding="utf-8"))

    def text(self, name: str) -> str:
        return (self.out / name).read_text(encoding="utf-8-sig")

    def pages(self) -> list[dict]:
        return [p for s in self.report()["states"] for p in s["pages"]]

    def refused(self) -> list[dict]:
        return self.report()["egress"]["refused"]


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    code: int
    message: str | None                 # regex of the one `cookie-scanner:` line on stderr (None: no such line)
    complete: bool | None               # report.json's `complete`; None: refused before any scan, no report
    check: Callable[[Run], None] | None = None
    inproc: str | None = None           # run in this process, after this setup (see SETUPS)
    secrets: tuple[str, ...] = ()       # secrets besides those of the command line
    alone: bool = False                 # run when no other row is running (its wall time is checked)
    known_bug: str | None = None        # a KNOWN_BUGS name: xfails until the scanner is fixed, then fails


class Env:
    """The servers and files every row may name; the runs, started ahead of the rows."""

    def __init__(self, egress_server: HostileEgress, sites_server, mirror, base: Path, files: Path):
        self.egress, self.sites, self.mirror, self.base, self.files = egress_server, sites_server, mirror, base, files
        self.closed = closed_port()
        self.connects: list[tuple[str, int]] = []     # the rebinding row's connections
        self.log_starts = [(server, len(server.log)) for server in (sites_server, mirror)]
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="hostile-suite")
        self._futures: dict[tuple, Future] = {}
        self._lock = threading.Lock()

    def expand(self, text: str, out: Path) -> str:
        for key, value in (("{egress}", self.egress.port), ("{sites}", self.sites.port), ("{closed}", self.closed),
                           ("{mirror}", self.mirror.port), ("{out}", out), ("{files}", self.files)):
            text = text.replace(key, str(value))
        return text

    def out_for(self, case: Case) -> Path:
        digest = hashlib.sha256(repr((case.argv, case.inproc)).encode()).hexdigest()[:8]
        return self.base / f"{case.id}-{digest}"

    def prefetch(self, cases) -> None:
        for case in cases:
            if case.inproc is None and not case.alone:
                self._future(case)

    def _future(self, case: Case) -> Future:
        key = (case.argv, case.inproc)
        with self._lock:
            if key not in self._futures:
                self._futures[key] = self._pool.submit(self._subprocess, case)
            return self._futures[key]

    def drain(self) -> None:
        for future in list(self._futures.values()):
            future.exception()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def run(self, case: Case, monkeypatch) -> Run:
        if case.inproc is not None:
            return self._in_process(case, monkeypatch)
        if case.alone:
            self.drain()
            return self._subprocess(case)
        return self._future(case).result()

    def _subprocess(self, case: Case) -> Run:
        out = self.out_for(case)
        began = time.monotonic()
        proc = run_cli(*(self.expand(a, out) for a in case.argv), timeout=240)
        return Run(case, proc.returncode, proc.stdout, proc.stderr, out, time.monotonic() - began, self)

    def _in_process(self, case: Case, monkeypatch) -> Run:
        from scanner import cli

        out = self.out_for(case)
        SETUPS[case.inproc](self, monkeypatch, no_dns(monkeypatch))
        argv = [self.expand(a, out) for a in case.argv]
        monkeypatch.setattr(sys, "argv", ["cookie-scanner", *argv])
        monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
        stdout, stderr = io.StringIO(), io.StringIO()
        handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        began = time.monotonic()
        try:
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                cli.main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            for sig, handler in handlers.items():   # the CLI keeps its own after a scan
                signal.signal(sig, handler)
        return Run(case, code, stdout.getvalue(), stderr.getvalue(), out, time.monotonic() - began, self)


# --------------------------------------------------------------------------- in-process setups

def no_dns(monkeypatch) -> FakeDNS:
    """Every in-process row: no real DNS (egress.system_resolve answers from tests/test_egress.py's
    FakeDNS table; other names do not exist), so that no lookup leaves this machine."""
    fake = FakeDNS()
    monkeypatch.setattr(egress, "system_resolve", fake)
    return fake


def _plain(env: Env, monkeypatch, dns: FakeDNS) -> None:
    """Nothing more to hook: in-process because it is quick (no browser starts)."""


def _dns(env: Env, monkeypatch, dns: FakeDNS) -> None:
    """The runner's DNS knows internal names, which resolve to private addresses."""
    dns.answers["intranet.example.com"] = [["10.1.2.3"]]
    dns.answers["internal.corp.test"] = [["127.0.0.1"]]


REBIND_PUBLIC = "93.184.216.34"


def _rebinding(env: Env, monkeypatch, dns: FakeDNS) -> None:
    """rebind.test answers a public address until its page has been served, 127.0.0.1 after (a
    zero-TTL rebinding DNS). The connector stands in for the public server with the local one and
    connects nowhere else: a guard that looked the name up again to connect would be caught."""
    server = env.egress
    dns.answers["rebind.test"] = lambda: (["127.0.0.1"] if ("rebind.test", "/rebind") in server.public_hits
                                           else [REBIND_PUBLIC])
    monkeypatch.setattr(egress, "open_upstream", PublicOnly(egress.open_upstream, env.connects))


class PublicOnly:
    """egress.open_upstream for the rebinding row: the public address reaches the local server,
    any other address nothing (and every connection is logged in `connects`)."""

    def __init__(self, connect, connects: list):
        self.connect, self.connects = connect, connects

    async def __call__(self, address, port, factory):
        self.connects.append((address, port))
        if address != REBIND_PUBLIC:
            raise ConnectionRefusedError(f"the test connects nowhere but {REBIND_PUBLIC}")
        return await self.connect("127.0.0.1", port, factory)


def _leaked_binding(env: Env, monkeypatch, dns: FakeDNS) -> None:
    """The recorder's binding leaked to the page (as if hiding it failed): the page's 60,000 calls
    of 8 KB reach Python, which must drop them (tests/test_limits.py, through the CLI here)."""
    from scanner.gather import recorder

    original = recorder.instrument_source
    monkeypatch.setattr(recorder, "instrument_source", lambda binding, secret: (
        f"window.__leaked = window[{json.dumps(binding)}];\n" + original(binding, secret)))


SETUPS = {"plain": _plain, "dns": _dns, "rebinding": _rebinding, "leaked-binding": _leaked_binding}


# --------------------------------------------------------------------------- row checks

def _entries(run: Run, host: str) -> list[dict]:
    return [r for r in run.refused() if r["host"] == host]


def refused(host: str, reason: str, port: str | int | None = None, *, asked: bool = True) -> Callable[[Run], None]:
    """egress.refused names `host` (and port) with `reason`; with `asked`, also the page that asked
    (egress.refused[].pages, report format 1.3) in state none."""
    def check(run: Run) -> None:
        want = run.env.expand(str(port), run.out) if port is not None else None
        entries = [r for r in _entries(run, host) if want is None or str(r["port"]) == want]
        assert entries and all(r["reason"].startswith(reason) for r in entries), run.refused()
        assert all("/" not in r["host"] and "?" not in json.dumps(r.get("address")) for r in entries)
        if asked:   # needs egress.refused[].pages
            assert all(r["pages"] and r["states"] == ["none"] for r in entries), entries
    return check


def both(*checks: Callable[[Run], None]) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        for one in checks:
            one(run)
    return check


def start_page_failed(run: Run) -> None:
    """The redirect was not followed: the page is recorded as failed (its final_url: the refused
    target), the state as not reached, and the refusal is recorded with the address it resolved to."""
    report = run.report()
    page = report["states"][0]["pages"][0]
    assert report["states"][0]["reached"] is False and page["error"], page
    assert page["title"] in ("", None) and not page["cookies"], page
    assert page["final_url"] and page["final_url"] != page["url"] and f"redirected to {page['final_url']}" in page["error"]


def redirect_asker(run: Run) -> None:
    """docs/report-format.md: `pages` lists the pages whose requests *or navigation* were refused.
    The start page's redirect was refused: the entry must name it, and the page's error must say
    that the egress guard refused it (not a bare tunnel or empty-response error)."""
    report = run.report()
    page = report["states"][0]["pages"][0]
    assert "ERR_BLOCKED_BY_EGRESS_GUARD" in page["error"], page["error"]
    assert all(r["pages"] == [page["url"]] for r in report["egress"]["refused"]), report["egress"]["refused"]


def page_audited(title: str, cookie: str) -> Callable[[Run], None]:
    """The page itself was visited and audited without what the guard refused."""
    def check(run: Run) -> None:
        page = run.pages()[0]
        assert page["status"] == 200 and page["error"] is None and page["title"] == title, page
        assert any(c["name"] == cookie for c in page["cookies"]), page["cookies"]
    return check


def not_a_proxy_page(run: Run) -> None:
    """A refused plain-http navigation is a failed request, never the proxy's answer shown as the page."""
    page = run.pages()[0]
    assert page["title"] not in ("403 Forbidden", "Forbidden") and "egress guard" not in page["title"]
    failed = [r for r in page["requests"] if r["url"].startswith("http://169.254.169.254/")]
    assert failed and all("ERR_BLOCKED_BY_EGRESS_GUARD" in str(r["error"]) for r in failed), page["requests"]


def sitemaps_not_followed(run: Run) -> None:
    visited = {path for _, path in run.env.egress.public_hits}
    report_text = (run.out / "report.json").read_text(encoding="utf-8")
    assert INTERNAL_ONLY_PATH not in visited and FILE_SITEMAP_PATH not in visited
    assert FILE_SITEMAP_PATH not in report_text and INTERNAL_ONLY_PATH not in report_text


def rebinding(run: Run) -> None:
    connects = run.env.connects
    assert connects and {address for address, _ in connects} == {REBIND_PUBLIC}, connects
    assert ("rebind.test", "/rebind") in run.env.egress.public_hits


def extra_pages_refused(run: Run) -> None:
    failed = {p["url"]: p["error"] for p in run.pages() if p["error"]}
    assert len(failed) == 2 and all("refused by the egress guard" in e for e in failed.values()), failed
    assert run.pages()[0]["title"] == "Public page"


PROBED = {   # tests/sites/www.hostile-suite.test/probes.html: host -> reason
    "127.0.0.1": "loopback address", "::1": "loopback address", "::ffff:7f00:1": "loopback address (127.0.0.1)",
    "169.254.169.254": "cloud metadata address", "10.0.0.1": "private address",
    "100.64.0.1": "shared address space (CGNAT", "fe80::1": "link-local address",
    "fd00:ec2::254": "cloud metadata address", "localhost": "loopback address", "192.168.1.1": "private address",
}


def probes_refused(run: Run) -> None:
    report = run.report()
    page = run.pages()[0]
    hosts = {r["host"]: r for r in report["egress"]["refused"]}
    assert set(PROBED) <= set(hosts), sorted(hosts)
    for host, reason in PROBED.items():
        assert hosts[host]["reason"].startswith(reason), hosts[host]
    # needs egress.refused[].pages
    assert all(r["pages"] == [page["url"]] and r["states"] == ["none"] for r in hosts.values()), hosts
    blocked = [r for r in page["requests"] if "ERR_BLOCKED_BY_EGRESS_GUARD" in str(r.get("error"))]
    assert len(blocked) >= len(PROBED), [r["url"] for r in page["requests"]]
    html = run.text("report.html")
    assert "The egress guard refused" in html and "cloud metadata address" in html


def robots_private_sitemaps(run: Run) -> None:
    report = run.report()
    assert {"localhost", "169.254.169.254"} <= {r["host"] for r in report["egress"]["refused"]}
    urls = [p["url"] for p in run.pages()]
    assert not any(u.startswith(("file:", "https://127.0.0.1", "http://169.254")) for u in urls), urls


def two_pages(run: Run) -> None:
    """The start page and the sitemap's page on the host that is down: the sitemap was read."""
    assert [bool(p["error"]) for p in run.pages()] == [False, True], [p["url"] for p in run.pages()]


def terminal_escaped(run: Run) -> None:
    """The site's own text reached the terminal (its sitemap's URL, on the progress and incomplete
    lines) and its <title> reached the report: escaped on the terminal and in CSV, kept in JSON."""
    shown = "\\x1b]0;pwned\\x07\\x1b[2J\\u202elmth.page\\u2066"
    lines = [line for line in run.stderr.splitlines() if "down.hostile-suite.test" in line]
    assert len(lines) >= 2 and all(shown in line for line in lines), run.stderr
    assert any(line.startswith("  [none] page failed:") for line in lines)
    title = run.pages()[0]["title"]
    assert "\u202e" in title and "pwned" in title, title       # the report keeps the data as it was
    lines = [line for name in ("cookies.csv", "requests.csv", "storage.csv", "findings.csv")
             for line in run.text(name).splitlines()]
    assert not [line for line in lines if RAW_IN_CELL.search(line)]
    assert any(shown in line for line in lines)


def dropped(**least: int) -> Callable[[Run], None]:
    """The page's caps dropped at least this much, and report.json says so (pages[].dropped)."""
    def check(run: Run) -> None:
        page = run.pages()[0]
        assert page["status"] == 200 and page.get("dropped"), page.get("dropped")
        for kind, count in least.items():
            assert page["dropped"][kind] >= count, page["dropped"]
    return check


def binding_flood(run: Run) -> None:
    """The first call without the secret stops the flooding script (it sets the title when done,
    unless a slow machine let it finish first) and the binding; no forged cookie is recorded."""
    page = run.pages()[0]
    assert page["title"] == "Binding" or page["title"].endswith(" calls=60000"), page["title"]
    assert not [c for c in page["cookies"] if c["name"] == "forged"]


def refused_cookies(prefix: str) -> Callable[[Run], None]:
    from scanner.gather.recorder import MAX_REFUSED

    def check(run: Run) -> None:
        page = run.pages()[0]
        listed = [c for c in page["cookies"] if c["name"].startswith(prefix)]
        assert len(listed) == MAX_REFUSED and not any(c["stored"] for c in listed)
        assert not [f for f in run.report()["findings"] if f["severity"] == "violation"]
    return check


def requests_capped(run: Run) -> None:
    from scanner.gather.recorder import MAX_REQUESTS

    assert len(run.pages()[0]["requests"]) == MAX_REQUESTS


def within_deadline(deadline_s: float) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        assert run.wall_s <= deadline_s + DEADLINE_SLACK_S, f"ended {run.wall_s:.1f} s after it started"
        report = run.report()
        assert report["incomplete_reasons"][0].startswith(f"deadline of {deadline_s:g} s reached")
    return check


def in_file(name: str, *needles: str) -> Callable[[Run], None]:
    """The redacted forms of the secret-carrying URLs reached this output: the leak check above it
    looked at a file that did carry them."""
    def check(run: Run) -> None:
        text = run.stdout + run.stderr if name == "-" else run.text(name)
        missing = [n for n in needles if n not in text]
        assert not missing, f"{name} lacks {missing}"
        if name.endswith(".json") or name.endswith(".sarif"):
            json.loads(text)
        elif name.endswith(".xml"):
            ET.fromstring(text.encode("utf-8"))
    return check


def baseline_folder_not_created(run: Run) -> None:
    assert not run.out.exists(), "a refused --baseline must not leave a report folder"


def diff_neutralised(run: Run) -> None:
    """The new cookie and storage key are listed (their control characters made inert: the generic
    check finds none raw on stdout)."""
    assert "]0;pwned" in run.stdout and "[31mred" in run.stdout, run.stdout


def csv_escaped(run: Run) -> None:
    cells = [c for p in sorted(run.out.glob("*.csv")) for c in p.read_text(encoding="utf-8-sig").split(",")]
    assert not [c for c in cells if RAW_IN_CELL.search(c)]
    cookies = run.text("cookies.csv")
    assert "'=cmd\\x1b]0;pwned\\x07" in cookies and "\\u202ecod.exe" in cookies, cookies[:400]


# --------------------------------------------------------------------------- the table

REFUSING = r"cookie-scanner: error: refusing to scan '{host}' \({address}\): a {reason}[^;]*; pass --allow-private"
LEAK_INCOMPLETE = (r"cookie-scanner: incomplete: state none: page https://down\.leaky\.test/\?session="
                   + re.escape(hashed(DOWN_SECRET)) + " failed")
LEAK_HASHED = (f"https://www.leaky.test/?session={hashed(START_SECRET)}",
               f"https://down.leaky.test/?session={hashed(DOWN_SECRET)}")


def refusing(host: str, address: str, reason: str) -> str:
    return REFUSING.format(host=re.escape(host), address=re.escape(address), reason=re.escape(reason))


def refused_start(case_id: str, url: str, host: str, address: str, reason: str, *extra: str) -> Case:
    """A row whose start URL is on a private address: exit 2 before Chromium starts, nothing written."""
    return Case(case_id, start(url, *extra), 2, refusing(host, address, reason), None, inproc="plain")


def not_reached(path: str) -> str:
    return rf"cookie-scanner: incomplete: state none not reached: .* at https://www\.public\.test{path}$"


T_LOOPBACK, T_V6, T_ZERO, T_MAPPED = (rf"https?://{host}:\d+/\S*" for host in
                                     (r"127\.0\.0\.1", r"\[::1\]", r"0\.0\.0\.0", r"\[::ffff:7f00:1\]"))


def redirect_refused(path: str, target: str) -> str:
    """The start page's HTTP redirect to a private address, refused where Chromium connects: the line
    names the guard and the redirect's target."""
    return (r"cookie-scanner: incomplete: state none not reached: refused by the egress guard \(a private, "
            rf"loopback or link-local address\) \(ERR_BLOCKED_BY_EGRESS_GUARD\) at https://www\.public\.test{path} "
            rf"\(redirected to {target}\)$")


CASES = [
    # ---- a start URL on a private address: refused before Chromium starts, nothing written
    refused_start("start-loopback", "https://127.0.0.1:{egress}/", "127.0.0.1", "127.0.0.1", "loopback address"),
    refused_start("start-ipv6-loopback", "http://[::1]:{egress}/", "::1", "::1", "loopback address"),
    refused_start("start-unspecified", "http://0.0.0.0:{egress}/", "0.0.0.0", "0.0.0.0", "unspecified address"),
    refused_start("start-decimal", "http://2130706433:{egress}/", "2130706433", "127.0.0.1", "loopback address"),
    refused_start("start-hex-short", "https://0x7f.1:{egress}/", "0x7f.1", "127.0.0.1", "loopback address"),
    refused_start("start-ipv4-mapped", "http://[::ffff:127.0.0.1]:{egress}/", "::ffff:127.0.0.1", "::ffff:7f00:1",
                  "loopback address (127.0.0.1) embedded"),
    refused_start("start-metadata", "http://169.254.169.254/latest/meta-data/iam/", "169.254.169.254",
                  "169.254.169.254", "cloud metadata address"),
    refused_start("start-private-10", "https://10.0.0.1/", "10.0.0.1", "10.0.0.1", "private address"),
    refused_start("start-cgnat", "https://100.64.0.1/", "100.64.0.1", "100.64.0.1", "shared address space (CGNAT"),
    refused_start("start-link-local-v6", "http://[fe80::1]/", "fe80::1", "fe80::1", "link-local address"),
    refused_start("start-multicast", "http://224.0.0.1/", "224.0.0.1", "224.0.0.1", "multicast address"),
    Case("start-localhost-name", start("https://localhost:{egress}/"), 2,
         r"cookie-scanner: error: refusing to scan 'localhost': a local host name", None, inproc="plain"),
    Case("start-name-resolving-privately", start("https://intranet.example.com/"), 2,
         refusing("intranet.example.com", "10.1.2.3", "private address"), None, inproc="dns"),
    refused_start("start-credentials-on-private", "https://admin:hunter2@10.1.2.3/?session=s3cr3t-start-private",
                  "10.1.2.3", "10.1.2.3", "private address"),
    refused_start("resolve-allows-only-the-mapped-host", "https://127.0.0.1:{egress}/", "127.0.0.1", "127.0.0.1",
                  "loopback address", "--resolve", f"{PUBLIC_HOST}=127.0.0.1:{{egress}}"),
    # ---- not a web URL
    Case("start-file-url", start("file:///etc/passwd"), 2,
         r"cookie-scanner: error: unsupported URL scheme 'file' in 'file:///etc/passwd': only http:// and https://",
         None, inproc="plain"),
    Case("start-javascript-url", start("javascript:alert(document.cookie)"), 2,
         r"cookie-scanner: error: unsupported URL scheme 'javascript'", None, inproc="plain"),
    Case("start-data-url", start("data:text/html,<script>alert(1)</script>"), 2,
         r"cookie-scanner: error: unsupported URL scheme 'data'", None, inproc="plain"),
    Case("extra-url-file", start(f"https://{PUBLIC_HOST}/", "--url", "file:///etc/shadow"), 2,
         r"cookie-scanner: error: unsupported URL scheme 'file' in 'file:///etc/shadow'", None, inproc="plain"),
    # ---- a public page that navigates to a private address: refused where Chromium connects
    Case("redirect-loopback", public("/redirect-loopback"), 3, redirect_refused("/redirect-loopback", T_LOOPBACK),
         False, both(start_page_failed, redirect_asker, refused("127.0.0.1", "loopback address", "{egress}"))),
    Case("redirect-ipv6-loopback", public("/redirect-v6"), 3, redirect_refused("/redirect-v6", T_V6), False,
         both(start_page_failed, redirect_asker, refused("::1", "loopback address", "{egress}"))),
    Case("redirect-unspecified", public("/redirect-zero"), 3, redirect_refused("/redirect-zero", T_ZERO), False,
         both(start_page_failed, redirect_asker, refused("0.0.0.0", "unspecified address", "{egress}"))),
    Case("redirect-decimal", public("/redirect-decimal"), 3, redirect_refused("/redirect-decimal", T_LOOPBACK), False,
         both(start_page_failed, redirect_asker, refused("127.0.0.1", "loopback address", "{egress}"))),
    Case("redirect-ipv4-mapped", public("/redirect-mapped"), 3, redirect_refused("/redirect-mapped", T_MAPPED), False,
         both(start_page_failed, redirect_asker,
              refused("::ffff:7f00:1", "loopback address (127.0.0.1) embedded", "{egress}"))),
    Case("meta-refresh-to-private-name", public("/refresh-internal"), 0, None, True,
         refused("internal.corp.test", "loopback address", "{egress}"), inproc="dns"),
    Case("script-navigation-to-metadata", public("/script-metadata"), 0, None, True,
         both(not_a_proxy_page, refused("169.254.169.254", "cloud metadata address", 80))),
    Case("subresources-to-loopback", public("/subresources"), 0, None, True,
         both(page_audited("Public page with subresources", "public_visit"),
              refused("127.0.0.1", "loopback address", "{egress}"), refused("localhost", "loopback address"))),
    Case("frames-images-fetch-websocket-to-private",
         site(f"{SUITE_PORT}/probes.html", "--no-progress", resolve=f"{SUITE_HOST}=127.0.0.1"), 0, None, True,
         both(page_audited("Private probes", "probe_visit"), probes_refused)),
    Case("robots-sitemaps-to-private-and-file", public("/", pages=5), 0, None, True,
         both(sitemaps_not_followed, refused("127.0.0.1", "loopback address", "{egress}", asked=False))),
    Case("dns-rebinding", ("scan", "https://rebind.test:{egress}/rebind", *_common("--no-progress"),
                           "--max-pages", "1"), 3,
         r"cookie-scanner: incomplete: state none: page https://rebind\.test:\d+/rebind failed: refused by the "
         r"egress guard", False, both(rebinding, refused("rebind.test", "loopback address", "{egress}")),
         inproc="rebinding"),
    Case("extra-urls-on-private-addresses",
         public("/", "--url", "https://127.0.0.1:{egress}/admin", "--url",
                "http://169.254.169.254/latest/meta-data/?token=s3cr3t-url-meta", pages=3), 3,
         r"cookie-scanner: incomplete: state none: page https://127\.0\.0\.1:\d+/admin failed: refused by the egress "
         r"guard", False,
         both(extra_pages_refused, refused("127.0.0.1", "loopback address", "{egress}"),
              refused("169.254.169.254", "cloud metadata address", 80))),
    Case("policy-lint-loopback-url", ("policy", "lint", "https://127.0.0.1:{egress}/privacy?session=s3cr3t-lint-lo"),
         2, r"cookie-scanner: error: could not fetch https://127\.0\.0\.1:\d+/privacy\?session=~[0-9a-f]{8}", None),
    Case("policy-lint-metadata-url", ("policy", "lint", "http://169.254.169.254/latest/meta-data/"), 2,
         r"cookie-scanner: error: could not fetch http://169\.254\.169\.254/latest/meta-data/", None),
    Case("scan-policy-on-private-address",
         public("/", "--policy", "https://admin:hunter2@10.0.0.1/privacy?session=s3cr3t-policy-private"), 2,
         r"cookie-scanner: error: could not fetch https://10\.0\.0\.1/privacy\?session=~[0-9a-f]{8}", None),
    # ---- robots.txt and sitemaps naming file:, loopback and metadata URLs; the site's text on the terminal
    Case("terminal-escapes-from-site-text",
         site(f"https://{SUITE_HOST}/", "--resolve", "down.hostile-suite.test=127.0.0.1:{closed}", "--format",
              "json,csv", pages=4, resolve=f"{SUITE_HOST}=127.0.0.1:{{sites}}"), 3,
         r"cookie-scanner: incomplete: state none: page https://down\.hostile-suite\.test/\\x1b\]0;pwned\\x07", False,
         both(terminal_escaped, robots_private_sitemaps)),
    Case("robots-refused-sitemap-before-the-real-one",
         site(f"https://{SUITE_HOST}/", "--no-progress", "--resolve", "down.hostile-suite.test=127.0.0.1:{closed}",
              pages=4, resolve=f"{SUITE_HOST}=127.0.0.1:{{mirror}}"), 3,
         r"cookie-scanner: incomplete: state none: page https://down\.hostile-suite\.test/\\x1b", False,
         both(robots_private_sitemaps, two_pages)),
    # ---- secrets in the start URL, an extra page and the policy URL: in no output, format by format
    Case("secrets-report-json", LEAKY, 3, LEAK_INCOMPLETE, False, in_file("report.json", *LEAK_HASHED),
         secrets=QUERY_SECRETS),
    Case("secrets-report-html", LEAKY, 3, LEAK_INCOMPLETE, False, in_file("report.html", *LEAK_HASHED),
         secrets=QUERY_SECRETS),
    Case("secrets-csv", LEAKY, 3, LEAK_INCOMPLETE, False,
         both(in_file("cookies.csv", LEAK_HASHED[0]), in_file("requests.csv", "pixel.gif?dl=~")),
         secrets=QUERY_SECRETS),
    Case("secrets-summary-md", LEAKY, 3, LEAK_INCOMPLETE, False,
         in_file("summary.md", "down.leaky.test/?session=\\" + hashed(DOWN_SECRET)),
         secrets=QUERY_SECRETS),
    Case("secrets-junit-xml", LEAKY, 3, LEAK_INCOMPLETE, False, in_file("junit.xml", LEAK_HASHED[0]),
         secrets=QUERY_SECRETS),
    Case("secrets-sarif", LEAKY, 3, LEAK_INCOMPLETE, False, in_file("results.sarif", LEAK_HASHED[0]),
         secrets=QUERY_SECRETS),
    Case("secrets-manifest-json", LEAKY, 3, LEAK_INCOMPLETE, False, in_file("manifest.json", *LEAK_HASHED),
         secrets=QUERY_SECRETS),
    Case("secrets-stdout-stderr", LEAKY, 3, LEAK_INCOMPLETE, False, in_file("-", LEAK_HASHED[1], "page failed"),
         secrets=QUERY_SECRETS),
    # ---- floods: bounded memory is bench/floods.py's; here the caps, the counts and the deadline
    Case("binding-flood", site(FLOOD + "binding.html", "--no-progress", "--page-timeout", "60"), 0, None, True,
         both(binding_flood, dropped(events=1)), inproc="leaked-binding"),
    Case("refused-set-cookie-flood", site(FLOOD + "refused.html", "--no-progress"), 0, None, True,
         both(refused_cookies("_ga_H"), dropped(refused_cookies=2500))),
    Case("refused-script-cookie-flood", site(FLOOD + "refused-js.html", "--no-progress"), 0, None, True,
         both(refused_cookies("_ga_JS"), dropped(refused_cookies=2500))),
    Case("writes-and-storage-flood", site(FLOOD + "writes.html", "--no-progress"), 0, None, True,
         dropped(events=1, storage=1000)),
    Case("request-flood", site(f"https://{SUITE_HOST}/requests.html", "--no-progress"), 0, None, True,
         both(requests_capped, dropped(requests=2000))),
    Case("history-and-fetch-flood-deadline",
         ("scan", "https://www.busy.test/", "--resolve", "*=127.0.0.1:{sites}", "--ignore-https-errors",
          "--no-progress", "--deadline", "10", "--out", "{out}"), 3,
         r"cookie-scanner: incomplete: deadline of 10 s reached; ", False, within_deadline(10), alone=True),
    # ---- inputs that would exhaust or confuse the scanner: one line naming the file, exit 2
    Case("declaration-alias-bomb", start(f"https://{PUBLIC_HOST}/", "--declaration", "{files}/bomb.yaml"), 2,
         r"cookie-scanner: error: .*/bomb\.yaml.*alias", None, inproc="plain"),
    Case("declaration-oversized", start(f"https://{PUBLIC_HOST}/", "--declaration", "{files}/big.yaml"), 2,
         r"cookie-scanner: error: .*/big\.yaml.*too large", None, inproc="plain"),
    Case("declaration-nested-too-deeply", start(f"https://{PUBLIC_HOST}/", "--declaration", "{files}/deep.yaml"), 2,
         r"cookie-scanner: error: .*/deep\.yaml.*nested too deeply", None, inproc="plain"),
    Case("declaration-malformed-yaml", start(f"https://{PUBLIC_HOST}/", "--declaration", "{files}/broken.yaml"), 2,
         r"cookie-scanner: error: .*/broken\.yaml", None, inproc="plain"),
    Case("baseline-not-json", start(f"https://{PUBLIC_HOST}/", "--baseline", "{files}/garbage.json"), 2,
         r"cookie-scanner: error: --baseline .*/garbage\.json: not a JSON report", None,
         baseline_folder_not_created, inproc="plain"),
    Case("baseline-not-a-report", start(f"https://{PUBLIC_HOST}/", "--baseline", "{files}/array.json"), 2,
         r"cookie-scanner: error: --baseline .*/array\.json: not a cookie-scanner report", None,
         baseline_folder_not_created, inproc="plain"),
    Case("report-of-truncated-json", ("report", "{files}/truncated/report.json", "--out", "{out}"), 2,
         r"cookie-scanner: error: .*/truncated/report\.json: not a JSON report", None, inproc="plain"),
    Case("report-of-newer-schema", ("report", "{files}/newer/report.json", "--out", "{out}"), 2,
         r"cookie-scanner: error: .*/newer/report\.json: report schema_version 9\.0 is not supported", None,
         inproc="plain"),
    Case("diff-with-malformed-report", ("diff", "{files}/hostile-a/report.json", "{files}/truncated/report.json"), 2,
         r"cookie-scanner: error: .*/truncated/report\.json: not a JSON report", None, inproc="plain"),
    # ---- a report carrying a site's control characters: shown as escapes, never played or run
    Case("diff-escapes-site-strings", ("diff", "{files}/hostile-a/report.json", "{files}/hostile-b/report.json"), 0,
         None, None, diff_neutralised, inproc="plain"),
    Case("csv-control-characters", ("report", "{files}/hostile-b/report.json", "--format", "csv", "--out", "{out}"), 0,
         None, None, csv_escaped, inproc="plain"),
]
KNOWN_BUGS: dict[str, tuple] = {   # name: (the check that fails, or None: the whole row; strict: it always fails), why
}


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """The module's input files: hostile declarations, broken and hostile report.json files."""
    folder = tmp_path_factory.mktemp("hostile-inputs")
    (folder / "bomb.yaml").write_text("site: {name: Bomb}\n" + BOMB)
    (folder / "big.yaml").write_text("site: {name: Big}\nnotes: '" + "x" * (1024 * 1024) + "'\n")
    (folder / "deep.yaml").write_text("x: " + "[" * 5000 + "]" * 5000 + "\n")
    (folder / "broken.yaml").write_text("site: {name: Broken\ncategories: [\n  - : :\n")
    (folder / "garbage.json").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff not json")
    (folder / "array.json").write_text("[]")
    fixture = json.loads((TESTS / "fixtures" / "report" / "micropep.json").read_text(encoding="utf-8"))
    reports = {"truncated": None, "newer": dict(fixture, schema_version="9.0"), "hostile-a": fixture,
               "hostile-b": _hostile_report(fixture)}
    for name, report in reports.items():
        (folder / name).mkdir()
        text = json.dumps(report) if report is not None else json.dumps(fixture)[:5000]   # cut mid-write
        (folder / name / "report.json").write_text(text, encoding="utf-8")
    return folder


def _hostile_report(fixture: dict) -> dict:
    report = json.loads(json.dumps(fixture))
    page = report["states"][0]["pages"][0]
    page["cookies"][0]["name"] = "=cmd\x1b]0;pwned\x07"
    page["cookies"][0]["purpose"] = "\u202ecod.exe\u2069 \x85next\x7f"
    page["storage"][0]["key"] = "\x1b[31mred\x1b[0m\x9b2J"
    return report


@pytest.fixture(scope="module")
def sitemap_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("file-sitemap") / "sitemap.xml"
    path.write_text('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                    f"<url><loc>https://{PUBLIC_HOST}{FILE_SITEMAP_PATH}</loc></url></urlset>")
    return path


@pytest.fixture(scope="module")
def mirror_root(tmp_path_factory) -> Path:
    """www.hostile-suite.test as it is, but for its robots.txt: the sitemaps that are refused first."""
    root = tmp_path_factory.mktemp("mirror")
    shutil.copytree(SITES / SUITE_HOST, root / SUITE_HOST)
    robots = root / SUITE_HOST / "robots.txt"
    lines = robots.read_text().splitlines()
    real = [line for line in lines if SUITE_HOST in line]
    robots.write_text("\n".join([line for line in lines if line not in real] + real) + "\n")
    return root


@pytest.fixture(scope="module")
def env(sites_server, sitemap_file, files, mirror_root, tmp_path_factory, request):
    with HostileEgress(sitemap_file) as server, SiteServer(mirror_root) as mirror:
        environment = Env(server, sites_server, mirror, tmp_path_factory.mktemp("hostile-suite"), files)
        selected = {item.callspec.params["case"].id for item in request.session.items
                    if item.module is request.module and hasattr(item, "callspec")}
        environment.prefetch(c for c in CASES if c.id in selected)
        try:
            yield environment
        finally:
            environment.close()


# --------------------------------------------------------------------------- the suite

def test_the_table_covers_the_issue():
    assert len(CASES) >= 40 and len({c.id for c in CASES}) == len(CASES)
    for case in CASES:
        assert case.code in (0, 1, 2, 3) and (case.message is not None) == (case.code in (2, 3)), case.id


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_case(case: Case, env: Env, monkeypatch):
    run = env.run(case, monkeypatch)
    bug, strict, reason = KNOWN_BUGS.get(case.known_bug, (None, True, None))
    if case.known_bug and bug is None:
        return known_bug(lambda: expect(run), case.known_bug, strict, reason)
    expect(run)
    if bug is not None:
        known_bug(lambda: bug(run), case.known_bug, strict, reason)


def known_bug(check: Callable[[], None], name: str, strict: bool, reason: str) -> None:
    """A behaviour the issue asks for that the scanner does not have yet: xfail while the check fails;
    once it passes, fail if the bug is `strict` (always seen: the row's known_bug mark is then to go)."""
    try:
        check()
    except AssertionError as exc:
        pytest.xfail(f"{reason} ({str(exc).splitlines()[0][:200]})")
    if strict:
        pytest.fail(f"{name}: fixed? the known-bug check passes now: drop known_bug from the row")


def expect(run: Run) -> None:
    """The row's exit code, its one line, the bounded result and the row's own checks."""
    case = run.case
    context = f"{case.id}: exit {run.code}\nstdout: {run.stdout[-1500:]}\nstderr: {run.stderr[-1500:]}"
    # the exit code, and the one line that explains it
    assert run.code == case.code, context
    said = [line for line in run.stderr.splitlines() if line.startswith("cookie-scanner:")]
    if case.message is None:
        assert said == [], context
    else:
        assert len(said) == 1 and re.search(case.message, said[0]), context
        if "--no-progress" in case.argv or case.argv[0] != "scan":
            assert run.stderr.strip().splitlines() == said, context   # nothing but that one line
    assert raw_controls(run.stdout) == [] and raw_controls(run.stderr) == [], context
    bounded(run)
    if case.check is not None:
        case.check(run)


def bounded(run: Run) -> None:
    """What every row must give, whatever it is."""
    case, out = run.case, run.out
    report_path = out / "report.json"
    written = sorted(p for p in out.rglob("*") if p.is_file()) if out.is_dir() else []
    if case.complete is None:
        assert not report_path.exists() or case.argv[0] == "report", "no scan ran: no report.json"
        if case.code == 2:
            assert written == [], f"refused, yet wrote {written}"
    else:
        size = report_path.stat().st_size
        assert size < REPORT_LIMIT, f"report.json is {size / MB:.1f} MB"
        report = json.loads(report_path.read_text(encoding="utf-8"))
        assert validate_report(report) == []
        assert report["complete"] is case.complete, report["incomplete_reasons"]
    # no secret from the command line or the site in any file written, nor on the terminal
    secrets = {PASSWORD, *case.secrets, *(s for a in case.argv for s in SECRET.findall(a))}
    if out.is_dir():
        assert leaks(out, {"stdout": run.stdout, "stderr": run.stderr}, sorted(secrets)) == []
    assert not [s for s in secrets if s in run.stdout + run.stderr]
    # the internal service was never asked, and nothing of it reached the report
    env = run.env
    assert env.egress.internal_hits == [], f"the internal service was asked: {env.egress.internal_hits}"
    local = [e for server, first in env.log_starts for e in server.log[first:] if _is_local(e[1])]
    assert local == [], f"a fixture site was asked under a local address: {local[:5]}"
    for path in written:
        data = path.read_bytes()
        assert INTERNAL_TITLE.encode() not in data and INTERNAL_COOKIE.encode() not in data, path.name
        if path.suffix == ".png" and "{egress}" in " ".join(case.argv):
            assert magenta_share(data) < 0.01, f"{path.name} shows the internal page"


def _is_local(host: str) -> bool:
    return host in ("", "[", "localhost") or egress.parse_address(host) is not None
