"""Reliability: the real CLI against a hostile site (tests/hostile_server.py), one case per test.

Each case runs `cookie-scanner scan` as a subprocess, like a user or a CI job would, and checks the
exit code, the one-line message on stderr, what report.json holds (states, page errors, `complete`,
`incomplete_reasons`), that no `.report.json.*` temporary file, no Chromium process and no Chromium profile folder of the
scan is left behind, and the wall time. A table of every case (exit code, message, seconds) is printed at
the end of the session (and written to <basetemp>/reliability-table.md).

No traffic leaves 127.0.0.1:
  * every scan that names a site maps every host to the local server (`--resolve '*=127.0.0.1:PORT'`);
  * the scanner subprocess runs with socket.getaddrinfo/gethostbyname guarded: any name other than
    localhost fails as "name not known" without a DNS query (the scanner's private-address check
    resolves the start host when no --resolve is given);
  * Chromium resolves no name itself: every connection goes through the scanner's egress proxy
    (scanner/egress.py), which answers names under the reserved `.invalid` TLD as not found without
    asking the
    configured name server about it;
  * the private-address cases run a fake Chromium that only records that it was started.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from hostile_server import HostileServer

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
from scanner.browser import find_chromium

CHROMIUM = find_chromium()   # the scanner's own finder: the binary the Makefile installs

# The scanner, with DNS guarded (see the module docstring). argv[1:] are the CLI arguments.
GUARDED_MAIN = r"""
import ipaddress, runpy, socket, sys
_real_getaddrinfo, _real_byname, _real_byname_ex = socket.getaddrinfo, socket.gethostbyname, socket.gethostbyname_ex
def _allowed(host):
    if host is None:
        return True
    host = host.decode() if isinstance(host, bytes) else str(host)
    host = host.strip("[]").split("%")[0].rstrip(".").lower()
    if host in ("", "localhost") or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False
def _refuse(host):
    raise socket.gaierror(socket.EAI_NONAME, f"Name or service not known ({host!r}: no DNS in the reliability tests)")
def getaddrinfo(host, *args, **kwargs):
    return _real_getaddrinfo(host, *args, **kwargs) if _allowed(host) else _refuse(host)
def gethostbyname(host):
    return _real_byname(host) if _allowed(host) else _refuse(host)
def gethostbyname_ex(host):
    return _real_byname_ex(host) if _allowed(host) else _refuse(host)
socket.getaddrinfo, socket.gethostbyname, socket.gethostbyname_ex = getaddrinfo, gethostbyname, gethostbyname_ex
sys.argv[0] = "cookie-scanner"
runpy.run_module("scanner.cli", run_name="__main__")
"""

# Shorter network-quiet window than the default 500 ms: what is tested here is not how long a page is
# watched, and it keeps the file within a few minutes on a busy 2-core machine.
FAST = ("--quiet-ms", "300")

TABLE: list[tuple[str, int | None, str, float]] = []   # (case, exit code, message, seconds)


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="session", autouse=True)
def reliability_table(request, tmp_path_factory):
    """Print the table of cases at the end of the session (and keep it as a file)."""
    class Summary:
        @staticmethod
        def pytest_terminal_summary(terminalreporter):
            if not TABLE:
                return
            text = format_table()
            terminalreporter.write_sep("-", "reliability cases")
            terminalreporter.write_line(text)
            path = tmp_path_factory.getbasetemp() / "reliability-table.md"
            path.write_text(text + "\n", encoding="utf-8")
            terminalreporter.write_line(f"(also in {path})")

    plugin = Summary()
    request.config.pluginmanager.register(plugin, "reliability-table")
    yield


def format_table() -> str:
    lines = ["| case | exit | message | seconds |", "|---|---|---|---|"]
    for case, code, message, seconds in TABLE:
        message = message.replace("|", "\\|")
        if len(message) > 160:
            message = message[:157] + "..."
        lines.append(f"| {case} | {code} | {message} | {seconds:.1f} |")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def server():
    with HostileServer() as srv:
        yield srv


@pytest.fixture()
def scan_dirs(tmp_path):
    """(report folder, TMPDIR of the scan). The TMPDIR is short on purpose: Chromium puts its singleton
    socket there and aborts at launch when the socket path passes 107 bytes (sun_path)."""
    import tempfile

    out = tmp_path / "out"
    tmp = Path(tempfile.mkdtemp(prefix="rel-", dir="/tmp"))
    yield out, tmp
    shutil.rmtree(tmp, ignore_errors=True)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- running the CLI

@dataclass
class Run:
    case: str
    code: int | None
    stdout: str
    stderr: str
    seconds: float
    out: Path
    tmp: Path
    descendants: dict[int, str] = field(default_factory=dict)   # pid -> command line, seen during the run
    leftovers: list[str] = field(default_factory=list)            # processes of the scan still alive after it

    @property
    def message(self) -> str:
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else ""

    def diagnostics(self) -> str:
        """The end of stderr and, when the browser misbehaved, of Playwright's browser log."""
        text = f"exit {self.code}; stderr: {self.stderr[-1500:]}"
        log = self.tmp / "playwright-debug.log"
        if ("internal error" in self.stderr or "Traceback" in self.stderr) and log.is_file():
            text += "\n--- playwright browser log (end) ---\n" + log.read_text(errors="replace")[-4000:]
        return text

    @property
    def report(self) -> dict:
        path = self.out / "report.json"
        assert path.is_file(), f"{self.case}: no report.json; stderr: {self.stderr[-800:]}"
        return json.loads(path.read_text(encoding="utf-8"))

    def state(self, name: str) -> dict:
        found = [s for s in self.report["states"] if s["state"] == name]
        assert found, f"{self.case}: state {name} not in report: {[s['state'] for s in self.report['states']]}"
        return found[0]

    def page(self, state: str, path: str) -> dict:
        found = [p for p in self.state(state)["pages"] if urlsplit(p["url"]).path == path]
        assert found, f"{self.case}: no page {path} in {state}: {[p['url'] for p in self.state(state)['pages']]}"
        return found[0]

    def temp_leftovers(self) -> list[str]:
        if not self.out.exists():
            return []
        return [str(p) for p in self.out.rglob(".report.json.*")]


def _proc_table() -> dict[int, tuple[int, str, str]]:
    """pid -> (ppid, start time, command line) of every process we can read."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read().decode("utf-8", "replace")
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        table[int(entry)] = (int(fields[1]), fields[19], cmdline)
    return table


def _descendants(root: int, table) -> dict[int, tuple[str, str]]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = {}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found[child] = (table[child][1], table[child][2])
                todo.append(child)
    return found


def _alive(seen: dict[int, tuple[str, str]], tmp: Path) -> list[str]:
    """Processes seen during the run (same pid and start time) or naming the run's TMPDIR, still alive."""
    table = _proc_table()
    left = [f"{pid} {cmd[:150]}" for pid, (start, cmd) in seen.items()
            if pid in table and table[pid][1] == start and "<defunct>" not in cmd]
    left += [f"{pid} {cmd[:150]}" for pid, (_, _, cmd) in table.items()
             if str(tmp) in cmd and pid not in seen and pid != os.getpid()]
    return left


def start_cli(args: list[str], tmp: Path) -> subprocess.Popen:
    env = dict(os.environ)
    env.pop("GITHUB_STEP_SUMMARY", None)
    env["TMPDIR"] = str(tmp)          # the scan's Chromium profile lands here: its processes are ours
    env["DEBUG"] = "pw:browser*"      # Chromium's own output, to a file: why a launch failed, if one does
    env["DEBUG_FILE"] = str(tmp / "playwright-debug.log")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    with open(tmp / "stdout.txt", "w") as stdout, open(tmp / "stderr.txt", "w") as stderr:
        return subprocess.Popen([sys.executable, "-c", GUARDED_MAIN, *args], cwd=ROOT, env=env, text=True,
                                stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, start_new_session=True)


def finish_run(case: str, proc: subprocess.Popen, started: float, out: Path, tmp: Path,
               seen: dict[int, tuple[str, str]], *, record: bool = True, grace_s: float = 10.0) -> Run:
    seconds = time.monotonic() - started
    deadline = time.monotonic() + grace_s   # the browser may take a moment to go after the CLI exits
    left = _alive(seen, tmp)
    while left and time.monotonic() < deadline:
        time.sleep(0.25)
        left = _alive(seen, tmp)
    run = Run(case, proc.returncode, (tmp / "stdout.txt").read_text(), (tmp / "stderr.txt").read_text(),
              seconds, out, tmp, {pid: cmd for pid, (_, cmd) in seen.items()}, left)
    for pid_line in left:   # never leave our own strays on a shared machine
        try:
            os.kill(int(pid_line.split()[0]), signal.SIGKILL)
        except (OSError, ValueError):
            pass
    if record:
        TABLE.append((case, run.code, run.message, seconds))
    return run


def watch(proc: subprocess.Popen, tmp: Path, seen: dict, *, until: float, stop=None) -> bool:
    """Poll until the process exits (True), `stop()` is true (False) or `until` (False)."""
    while time.monotonic() < until:
        table = _proc_table()
        for pid, value in _descendants(proc.pid, table).items():
            seen.setdefault(pid, value)
        if proc.poll() is not None:
            return True
        if stop is not None and stop():
            return False
        time.sleep(0.1)   # a scan that fails fast lives about a second: look often enough to see its Chromium
    return proc.poll() is not None


def scan(case: str, url: str, out: Path, tmp: Path, *args: str, server: HostileServer | None = None,
         timeout: float = 120, ignore_https_errors: bool = True) -> Run:
    argv = ["scan", url, "--out", str(out), "--no-progress"]
    if server is not None:
        argv += ["--resolve", server.resolve_rule()]
    if ignore_https_errors:
        argv += ["--ignore-https-errors"]
    argv += [*FAST, *args]
    proc = start_cli(argv, tmp)
    started = time.monotonic()
    seen: dict[int, tuple[str, str]] = {}
    if not watch(proc, tmp, seen, until=started + timeout):
        os.kill(proc.pid, signal.SIGUSR1)   # the scanner prints where each thread waits (scanner.cli)
        time.sleep(2)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        run = finish_run(case, proc, started, out, tmp, seen)
        debug = tmp / "playwright-debug.log"
        tail = debug.read_text(encoding="utf-8", errors="replace")[-1500:] if debug.is_file() else ""
        pytest.fail(f"{case}: still running after {timeout} s; stderr (stacks at the kill): {run.stderr[-6000:]}\n"
                    f"processes seen: {sorted(name for name, _ in seen.values())}\nplaywright debug log: {tail}")
    return finish_run(case, proc, started, out, tmp, seen)


def check_common(run: Run, *, max_seconds: float, profile: bool = True) -> None:
    """What holds after every scan: no traceback, no temporary report file, no stray Chromium process or
    profile folder, time."""
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    assert run.temp_leftovers() == []
    assert run.leftovers == [], f"{run.case}: processes left after the scan: {run.leftovers}"
    if profile:
        check_no_profile_left(run)
    assert any("cookie-scanner-profile-" in cmd for cmd in run.descendants.values()) or run.code == 2, \
        f"{run.case}: no Chromium of the scan was seen (the process check would be vacuous)"
    assert run.seconds < max_seconds, f"{run.case}: {run.seconds:.1f} s (bound {max_seconds} s)"


def check_no_profile_left(run: Run) -> None:
    profiles = [p.name for p in run.tmp.glob("cookie-scanner-profile-*")]
    assert profiles == [], f"{run.case}: Chromium profile left on disk (the scanned site's cookies): {profiles}"


def check_incomplete(run: Run, *fragments: str) -> dict:
    """Exit 3, last stderr line `cookie-scanner: incomplete: ...` naming each fragment, report marked incomplete."""
    assert run.code == 3, f"{run.case}: {run.diagnostics()}"
    assert run.message.startswith("cookie-scanner: incomplete: "), run.diagnostics()
    for fragment in fragments:
        assert fragment.lower() in run.message.lower(), (fragment, run.message)
    report = run.report
    assert report["complete"] is False and report["incomplete_reasons"], report["incomplete_reasons"]
    assert report["verdict"] == "incomplete"
    return report


def check_complete(run: Run) -> dict:
    assert run.code == 0, f"{run.case}: {run.diagnostics()}"
    report = run.report
    assert report["complete"] is True, report["incomplete_reasons"]
    assert report["incomplete_reasons"] == []
    for state in report["states"]:
        assert state["reached"], state
        for page in state["pages"]:
            assert page["error"] is None, page
    return report


# --------------------------------------------------------------------------- start page failures

def test_start_page_500(server, scan_dirs):
    out, tmp = scan_dirs
    run = scan("start page HTTP 500", "https://www.status500.test/", out, tmp, "--states", "none",
               "--page-timeout", "5", server=server)
    report = check_incomplete(run, "500")
    none = run.state("none")
    assert none["reached"] is False and "500" in none["error"]
    assert none["pages"][0]["status"] == 500 and "500" in none["pages"][0]["error"]
    check_common(run, max_seconds=60)


def test_start_page_404(server, scan_dirs):
    out, tmp = scan_dirs
    run = scan("start page HTTP 404", "https://www.status404.test/", out, tmp, "--states", "none,reject",
               "--page-timeout", "5", server=server)
    report = check_incomplete(run, "404")
    none, reject = run.state("none"), run.state("reject")
    assert none["reached"] is False and "404" in none["error"]
    assert none["pages"][0]["status"] == 404 and none["pages"][0]["error"]
    assert reject["reached"] is False and reject["error"]       # not attempted: the start page failed
    assert any("reject" in reason for reason in report["incomplete_reasons"])
    check_common(run, max_seconds=60)


def test_redirect_loop(server, scan_dirs):
    out, tmp = scan_dirs
    run = scan("redirect loop", "https://www.redirloop.test/", out, tmp, "--states", "none",
               "--page-timeout", "5", server=server)
    check_incomplete(run, "redirect")
    none = run.state("none")
    assert none["reached"] is False and "redirect" in none["error"].lower()
    assert "redirect" in none["pages"][0]["error"].lower()
    check_common(run, max_seconds=60)


def test_redirect_to_another_site_never_visits_a_third(server, scan_dirs):
    out, tmp = scan_dirs
    since = time.monotonic()
    run = scan("redirect to another site", "https://www.redirect-away.test/", out, tmp, "--states", "none",
               "--page-timeout", "5", "--max-pages", "10", server=server)
    report = check_complete(run)
    assert urlsplit(report["site"]["final_url"]).hostname == "www.elsewhere.test"
    pages = report["crawl"]["pages"]
    assert not [p for p in pages if urlsplit(p).hostname == "www.third.test"], pages
    assert server.requests("www.third.test", since) == []        # linked, never requested
    assert report["crawl"]["skipped"].get("out of scope", 0) >= 1
    check_common(run, max_seconds=90)


def test_tls_error_without_ignore_https_errors(server, scan_dirs):
    out, tmp = scan_dirs
    run = scan("self-signed certificate, no --ignore-https-errors", "https://www.tls.test/", out, tmp,
               "--states", "none", "--page-timeout", "5", server=server, ignore_https_errors=False)
    check_incomplete(run, "certificate", "--ignore-https-errors")
    none = run.state("none")
    assert none["reached"] is False and "certificate" in none["error"]
    check_common(run, max_seconds=60)


def test_dns_failure(scan_dirs):
    """A host under the reserved .invalid TLD, no --resolve: Chromium resolves nothing itself (every
    connection goes through the scanner's egress proxy), and the proxy answers .invalid names as not
    found without a DNS query (the scanner subprocess's resolver is guarded too, see top)."""
    out, tmp = scan_dirs
    run = scan("DNS failure (.invalid host)", "https://www.nxdomain.invalid/", out, tmp, "--states", "none",
               "--page-timeout", "5")
    check_incomplete(run, "DNS")
    none = run.state("none")
    assert none["reached"] is False and "ERR_NAME_NOT_RESOLVED" in none["error"]
    check_common(run, max_seconds=60)


def test_connection_refused(scan_dirs):
    out, tmp = scan_dirs
    run = scan("connection refused", "https://www.refused.test/", out, tmp, "--states", "none",
               "--page-timeout", "5", "--resolve", f"*=127.0.0.1:{closed_port()}")
    check_incomplete(run, "connection refused")
    assert "ERR_CONNECTION_REFUSED" in run.state("none")["error"]
    check_common(run, max_seconds=60)


def test_page_that_never_finishes_loading(server, scan_dirs):
    out, tmp = scan_dirs
    run = scan("page never finishes loading", "https://www.neverload.test/", out, tmp, "--states", "none",
               "--page-timeout", "5", server=server)
    check_incomplete(run)
    none = run.state("none")
    assert none["reached"] is False
    assert re.search(r"time|load", none["error"], re.I), none["error"]
    assert re.search(r"time|load", run.message, re.I), run.message
    check_common(run, max_seconds=45)


# --------------------------------------------------------------------------- pages that misbehave

def test_page_never_network_quiet(server, scan_dirs):
    out, tmp = scan_dirs
    since = time.monotonic()
    run = scan("never network-quiet (beacons, long poll)", "https://www.noquiet.test/", out, tmp,
               "--states", "none", "--page-timeout", "5", "--max-pages", "1", server=server)
    check_complete(run)
    home = run.page("none", "/")
    assert home["title"] == "Never quiet"
    assert any(urlsplit(r["url"]).path == "/beacon" for r in home["requests"])
    assert any(p.startswith("/poll") for _, _, p in server.requests("www.noquiet.test", since))
    check_common(run, max_seconds=120)


def test_dialogs_are_dismissed(server, scan_dirs):
    out, tmp = scan_dirs
    run = scan("alert/confirm/prompt/beforeunload", "https://www.dialogs.test/", out, tmp,
               "--states", "none", "--page-timeout", "5", "--max-pages", "2", server=server)
    check_complete(run)
    assert run.page("none", "/")["title"] == "Dialogs /"
    assert run.page("none", "/second")["title"] == "Dialogs /second"
    check_common(run, max_seconds=90)


def test_popups_and_new_tabs(server, scan_dirs):
    out, tmp = scan_dirs
    run = scan("pop-ups and target=_blank", "https://www.popups.test/", out, tmp, "--states", "none",
               "--page-timeout", "5", "--max-pages", "1", server=server)
    report = check_complete(run)
    # the pop-ups are not pages of the crawl and did not replace the page that opened them
    assert [urlsplit(p).path for p in report["crawl"]["pages"]] == ["/"]
    assert run.page("none", "/")["title"] == "Pop-ups"
    check_common(run, max_seconds=90)


def test_download_is_refused(server, scan_dirs):
    out, tmp = scan_dirs
    run = scan("download by script navigation", "https://www.download.test/", out, tmp, "--states", "none",
               "--page-timeout", "5", "--max-pages", "1", server=server)
    check_complete(run)
    assert run.page("none", "/")["title"] == "Download"
    assert any(p == "/file.bin" for _, _, p in server.requests("www.download.test")), "no download was attempted"
    big_files = [p for p in list(out.rglob("*")) + list(tmp.rglob("*"))
                 if p.is_file() and (p.name == "hostile-download.bin" or p.stat().st_size >= 1024 * 1024)]
    assert big_files == []
    check_common(run, max_seconds=90)


def test_renderer_crash_is_a_page_error(server, scan_dirs):
    out, tmp = scan_dirs
    run = scan("renderer crash (V8 heap limit)", "https://www.crash.test/", out, tmp, "--states", "none",
               "--page-timeout", "15", "--max-pages", "3", server=server)
    report = check_incomplete(run, "crash")
    none = run.state("none")
    assert none["reached"] is True
    assert "crash" in run.page("none", "/crash")["error"].lower()
    assert run.page("none", "/")["error"] is None and run.page("none", "/ok")["error"] is None
    assert any("/crash" in r and "crash" in r.lower() for r in report["incomplete_reasons"])
    check_common(run, max_seconds=120)


def test_busy_renderer_is_bounded_by_the_deadline(server, scan_dirs):
    """A script that blocks the renderer for 20 s after load (every call into the page waits for it):
    --deadline still ends the scan on time, with a report."""
    out, tmp = scan_dirs
    run = scan("renderer busy 20 s after load, --deadline 10", "https://www.spin.test/", out, tmp, "--states", "none",
               "--page-timeout", "5", "--max-pages", "1", "--deadline", "10", server=server)
    report = check_incomplete(run, "deadline")
    # the deadline may come while `none` is still being reached (then no state was done) or during its pages
    assert [s["state"] for s in report["states"]] in ([], ["none"])
    check_common(run, max_seconds=10 + 25)


def test_fifty_megabyte_page(server, scan_dirs):
    out, tmp = scan_dirs
    run = scan("50 MB page", "https://www.big.test/", out, tmp, "--states", "none", "--page-timeout", "30",
               "--max-pages", "1", server=server)
    check_complete(run)
    assert run.page("none", "/")["title"] == "Big page"
    assert (out / "report.json").stat().st_size < 5 * 1024 * 1024    # the page body is not in the report
    check_common(run, max_seconds=120)


def test_calendar_trap(server, scan_dirs):
    """An endless calendar, and two linked pages that fail (500, 404): the crawl stops at the pattern cap and
    records the failing pages with their status."""
    out, tmp = scan_dirs
    run = scan("calendar trap (+ linked 500 and 404 pages)", "https://www.calendar.test/", out, tmp, "--states", "none",
               "--page-timeout", "5", "--max-pages", "10", "--per-pattern-cap", "2", server=server)
    assert run.code in (0, 3), run.diagnostics()
    report = run.report
    pages = report["crawl"]["pages"]
    assert len(pages) <= 10
    assert len([p for p in pages if re.search(r"/calendar/\d+/\d+/$", p)]) == 2
    assert len([p for p in pages if re.search(r"/calendar/\d+/\d+/\d+/$", p)]) == 2
    assert report["crawl"]["skipped"].get("per-pattern cap", 0) > 0
    none = run.state("none")
    assert none["reached"] is True and len(none["pages"]) == len(pages)
    assert run.page("none", "/broken")["status"] == 500 and run.page("none", "/gone")["status"] == 404
    for page in none["pages"]:
        if urlsplit(page["url"]).path not in ("/broken", "/gone"):
            assert page["error"] is None and page["status"] == 200, page
    check_common(run, max_seconds=120)


def test_banner_that_comes_back(server, scan_dirs):
    out, tmp = scan_dirs
    run = scan("banner re-appears after every click", "https://www.sticky-banner.test/", out, tmp,
               "--states", "none,reject,accept", "--page-timeout", "5", "--max-pages", "1", server=server)
    report = check_incomplete(run, "not reached")
    assert run.state("none")["reached"] is True
    for name in ("reject", "accept"):
        state = run.state(name)
        assert state["reached"] is False and state["error"], state
        assert any(r.startswith(f"state {name} not reached") for r in report["incomplete_reasons"])
    check_common(run, max_seconds=120)


# --------------------------------------------------------------------------- deadline and signals

def test_deadline(server, scan_dirs):
    """Nine pages answering in 1.5 s each, three states: the deadline comes during the crawl of `none`;
    the report keeps `none` with the pages visited so far."""
    out, tmp = scan_dirs
    run = scan("--deadline 12 on slow pages", "https://www.slow.test/", out, tmp,
               "--states", "none,reject,accept", "--page-timeout", "10", "--deadline", "12", server=server)
    report = check_incomplete(run, "deadline")
    assert any("deadline" in r for r in report["incomplete_reasons"])
    assert report["states"] and report["states"][0]["state"] == "none", report["incomplete_reasons"]
    none = report["states"][0]
    crawl = report.get("crawl", {}).get("pages")
    if crawl is not None:       # pages visited before the deadline, each one whole
        assert {p["url"] for p in none["pages"]} <= set(crawl)
    for page in none["pages"]:
        assert page["url"].startswith("https://www.slow.test/") and "cookies" in page
    check_common(run, max_seconds=12 + 25)


class _WaitForState:
    """True once report.json (written progressively, while the scan runs) holds state `name`; keeps that copy."""

    def __init__(self, out: Path, name: str):
        self.path, self.name, self.snapshot = out / "report.json", name, None

    def __call__(self) -> bool:
        try:
            report = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):   # not there yet (a half-written file would be a failure: rename is atomic)
            return False
        if any(s.get("state") == self.name for s in report.get("states", [])):
            self.snapshot = report
            return True
        return False


def _wait_for_state(out: Path, name: str) -> _WaitForState:
    return _WaitForState(out, name)


def _interrupt(case: str, server, out: Path, tmp: Path, *, signals: list[tuple[str, int, float]],
               wait_for=None, wait_s: float = 90) -> tuple[Run, float]:
    """Start a scan of the slow site; once Chromium runs and `wait_for()` holds, send each (target, signal,
    pause after it). Returns the run and the seconds between the last signal and the exit."""
    argv = ["scan", "https://www.slow.test/", "--out", str(out), "--no-progress", "--resolve", server.resolve_rule(),
            "--ignore-https-errors", "--states", "none,reject,accept", "--page-timeout", "10", "--max-pages", "3",
            *FAST]
    proc = start_cli(argv, tmp)
    started = time.monotonic()
    seen: dict[int, tuple[str, str]] = {}

    def browser_up() -> bool:
        return any("cookie-scanner-profile-" in cmd for _, cmd in seen.values())

    ready = wait_for or (lambda: True)
    exited = watch(proc, tmp, seen, until=started + wait_s, stop=lambda: browser_up() and ready())
    assert not exited, f"{case}: the scan ended before it could be interrupted: {(tmp / 'stderr.txt').read_text()}"
    last = time.monotonic()
    for target, sig, pause in signals:
        if proc.poll() is not None:
            break                 # already gone: nothing left to signal
        if target == "group":     # Ctrl-C in a terminal: the whole foreground process group
            os.killpg(proc.pid, sig)
        else:
            os.kill(proc.pid, sig)
        last = time.monotonic()
        if pause:
            watch(proc, tmp, seen, until=last + pause)
    if not watch(proc, tmp, seen, until=last + 60):
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        finish_run(case, proc, started, out, tmp, seen)
        pytest.fail(f"{case}: still running 60 s after the signal")
    after = time.monotonic() - last
    return finish_run(case, proc, started, out, tmp, seen), after


def check_interrupted(run: Run, after: float, *, states: bool = True, profile: bool = True) -> dict:
    """Exit 3 with `cookie-scanner: incomplete: scan interrupted...`, a whole report.json marked incomplete."""
    report = check_incomplete(run, "interrupt")
    assert any("interrupt" in r for r in report["incomplete_reasons"]), report["incomplete_reasons"]
    if states:
        assert "none" in [s["state"] for s in report["states"]]
    assert after < 30, f"{after:.1f} s from the signal to the exit"
    check_common(run, max_seconds=120, profile=profile)
    return report


def test_sigint_ctrl_c_leaves_a_partial_report(server, scan_dirs):
    """Ctrl-C as a terminal sends it: SIGINT to the whole process group, once the state `none` is saved."""
    out, tmp = scan_dirs
    saved = _wait_for_state(out, "none")
    run, after = _interrupt("SIGINT (Ctrl-C, process group) after state none", server, out, tmp,
                            signals=[("group", signal.SIGINT, 0)], wait_for=saved)
    # the copy written while the scan was still running was already a whole report, marked incomplete
    assert saved.snapshot["complete"] is False and saved.snapshot["incomplete_reasons"]
    report = check_interrupted(run, after)
    none = run.state("none")
    assert none["reached"] is True and len(none["pages"]) == len(report["crawl"]["pages"])


def _crawl_started(server, since: float):
    """True once the crawl of `none` asks for an inner page (/p1 is also the consent phase's second page)."""
    return lambda: any(p.startswith("/p") and p != "/p1" for _, _, p in server.requests("www.slow.test", since))


def test_sigterm_during_the_crawl_leaves_a_partial_report(server, scan_dirs):
    """`kill PID` (a CI runner's timeout): SIGTERM to the scanner process only, while `none` is crawling."""
    out, tmp = scan_dirs
    run, after = _interrupt("SIGTERM during the crawl of state none", server, out, tmp,
                            signals=[("pid", signal.SIGTERM, 0)], wait_for=_crawl_started(server, time.monotonic()))
    report = check_interrupted(run, after)
    none = run.state("none")
    assert none.get("interrupted") or none["pages"], none       # the pages visited so far, or the whole state
    for page in none["pages"]:
        assert page["url"].startswith("https://www.slow.test/")
    assert any(r.startswith("state reject") for r in report["incomplete_reasons"]), report["incomplete_reasons"]


def test_sigint_while_chromium_starts(server, scan_dirs):
    out, tmp = scan_dirs
    run, after = _interrupt("SIGINT while Chromium starts", server, out, tmp, signals=[("group", signal.SIGINT, 0)])
    # the profile folder is checked on its own below (known leak)
    check_interrupted(run, after, states=False, profile=False)
    assert run.report["states"] == [] or all(not s["reached"] or s.get("interrupted") for s in run.report["states"])


def test_sigint_while_chromium_starts_leaves_no_profile(server, scan_dirs):
    out, tmp = scan_dirs
    run, _ = _interrupt("SIGINT while Chromium starts (profile folder)", server, out, tmp,
                        signals=[("group", signal.SIGINT, 0)])
    assert run.code == 3, run.diagnostics()
    if "before the browser" not in run.message:   # the signal came once Chromium was up: not this case
        pytest.skip(f"the signal did not land during Chromium's start-up: {run.message}")
    check_no_profile_left(run)


def test_chromium_that_cannot_start(scan_dirs):
    """A broken Chromium (missing libraries, no sandbox, an over-long $TMPDIR...): one line naming it."""
    out, tmp = scan_dirs
    broken = tmp / "broken-chromium"
    broken.write_text("#!/bin/sh\necho 'error while loading shared libraries: libfake.so.1' >&2\nexit 127\n")
    broken.chmod(0o755)
    run = scan("Chromium cannot start", "https://www.example.test/", out, tmp, "--states", "none",
               "--resolve", f"*=127.0.0.1:{closed_port()}", "--chromium", str(broken), timeout=60)
    assert run.code in (2, 3), run.diagnostics()
    lines = [line for line in run.stderr.splitlines() if line.startswith("cookie-scanner:")]
    assert lines and "internal error" not in lines[-1] and "chromium" in lines[-1].lower(), run.stderr
    if run.code == 3:
        assert lines[-1].startswith("cookie-scanner: incomplete: ") and run.report["complete"] is False
    else:
        assert lines[-1].startswith("cookie-scanner: error: ")
    assert "Traceback" not in run.stderr
    check_no_profile_left(run)


def test_second_sigint_exits_at_once(server, scan_dirs):
    out, tmp = scan_dirs
    run, after = _interrupt("second SIGINT", server, out, tmp, wait_for=_crawl_started(server, time.monotonic()),
                            signals=[("group", signal.SIGINT, 0.05), ("group", signal.SIGINT, 0)])
    assert run.code not in (0, 1, 2, None), run.diagnostics()
    assert after < 3, f"{after:.1f} s after the second SIGINT"
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    assert run.temp_leftovers() == []
    assert run.leftovers == [], f"processes left after the scan: {run.leftovers}"
    if (out / "report.json").exists():      # if one was saved before the exit, it is whole
        json.loads((out / "report.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- private addresses

PRIVATE_URLS = ["https://127.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://localhost/",
                "http://10.1.2.3/", "http://192.168.1.1/"]


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_private_address_refused(url, scan_dirs):
    out, tmp = scan_dirs
    marker = tmp / "chromium-was-started"
    fake = tmp / "fake-chromium"
    fake.write_text(f"#!/bin/sh\ntouch '{marker}'\nexit 1\n")
    fake.chmod(0o755)
    run = scan(f"private target {url}", url, out, tmp, "--states", "none", "--chromium", str(fake),
               ignore_https_errors=False, timeout=60)
    assert run.code == 2, (run.code, run.stderr)
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("cookie-scanner: error: "), run.stderr
    assert "--allow-private" in lines[0]
    assert not marker.exists(), "Chromium was started for a refused target"
    assert not (out / "report.json").exists()
    assert run.seconds < 15


def test_private_address_allowed_with_allow_private(scan_dirs):
    out, tmp = scan_dirs
    url = f"http://127.0.0.1:{closed_port()}/"
    run = scan("--allow-private 127.0.0.1 (closed port)", url, out, tmp, "--states", "none", "--page-timeout", "5",
               "--allow-private", ignore_https_errors=False)
    check_incomplete(run, "connection refused")
    check_common(run, max_seconds=60)
