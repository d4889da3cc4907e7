"""kill -9 at any moment leaves a valid report.json with `complete: false` (issue 16): the
first one is written before the browser starts, then after each state, each atomically; and the
killed scan's Chromium profile (the site's cookies) is gone once the next scan has started."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from conftest import TESTS, run_cli
from scanner.browser import OWNER_FILE, PROFILE_PREFIX
from scanner.report.schema import validate_report

SCAN = ("scan", "https://www.switch-banner.test/", "--states", "none,reject", "--max-pages", "1",
        "--ignore-https-errors", "--no-progress")
PROFILE_PARENTS = sorted({tempfile.gettempdir(), "/tmp"})

# The CLI as it is, but for a pause once its final write of report.json is on disk under its
# temporary name and not yet renamed over report.json: the marker file then tells the test to kill.
PAUSE_IN_FINAL_WRITE = r"""
import os, sys, time
import scanner.cli as cli

marker = sys.argv.pop(1)
publishing = []
publish = cli.publish
cli.publish = lambda *args, **kwargs: publishing.append(True) or publish(*args, **kwargs)
fsync = os.fsync

def pausing_fsync(fd):
    fsync(fd)
    if publishing and os.readlink(f"/proc/self/fd/{fd}").endswith(".tmp"):
        open(marker, "w").close()
        time.sleep(120)

os.fsync = pausing_fsync
sys.argv[0] = "cookie-scanner"
cli.main()
"""


def start_scan(sites_server, out: Path, *, pause_in_final_write: Path | None = None) -> subprocess.Popen:
    args = [*SCAN, "--resolve", sites_server.resolve_rule(), "--out", str(out)]
    command = ([sys.executable, "-c", PAUSE_IN_FINAL_WRITE, str(pause_in_final_write), *args] if pause_in_final_write
               else [sys.executable, "-m", "scanner.cli", *args])
    return subprocess.Popen(command, cwd=TESTS.parent, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.01)


def chromium_running(proc: subprocess.Popen) -> bool:
    try:
        return any("chrom" in (p.name() or "").lower() for p in psutil.Process(proc.pid).children(recursive=True))
    except psutil.Error:
        return False


def finished_states(out: Path) -> list[str]:
    try:
        return [s["state"] for s in json.loads((out / "report.json").read_text(encoding="utf-8"))["states"]]
    except (OSError, ValueError, KeyError):   # not written yet (the rename is atomic: never half a file)
        return []


def kill_9(proc: subprocess.Popen) -> list[Path]:
    """`kill -9 <the scanner's pid>`, as a user or a CI runner does; the scan's profile folders. The
    scanner's children (Playwright's driver, Chromium in a session of its own) are not signalled:
    they must end by themselves once their parent is gone."""
    profiles = [d for parent in PROFILE_PARENTS for d in Path(parent).glob(PROFILE_PREFIX + "*")
                if (d / OWNER_FILE).is_file() and (d / OWNER_FILE).read_text().strip() == str(proc.pid)]
    children = psutil.Process(proc.pid).children(recursive=True)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 15
    while (alive := [p for p in children if _running(p)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    for leftover in alive:   # end them here, by pid, whatever the test says next
        leftover.kill()
    assert not alive, f"still running 15 s after the scanner was killed: {[p.name() for p in alive]}"
    return profiles


def _running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def assert_valid_incomplete(out: Path) -> dict:
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert validate_report(report) == []
    assert report["complete"] is False and report["incomplete_reasons"], report["incomplete_reasons"]
    return report


def assert_removed_by_the_next_start(profiles: list[Path]) -> None:
    """The next scan's browser start removes the killed scan's profile folders: a real start of the
    CLI's browser (a policy fetch the egress guard refuses: Chromium starts, nothing is fetched)."""
    proc = run_cli("policy", "lint", "https://127.0.0.1:9/privacy", timeout=60)
    assert proc.returncode == 2 and "could not fetch" in proc.stderr, proc.stderr
    assert not [d for d in profiles if d.exists()], "the killed scan's profile folder is still there"


@pytest.mark.parametrize("delay", [1.5, 4.0])
def test_kill_9_leaves_a_valid_incomplete_report(sites_server, tmp_path, delay):
    out = tmp_path / "out"
    proc = start_scan(sites_server, out)
    wait_for(lambda: (out / "report.json").exists(), "the first report.json", timeout=30)
    time.sleep(delay)
    profiles = kill_9(proc)
    assert_valid_incomplete(out)
    assert profiles, "the killed scan left no profile folder (it is created before Chromium starts)"
    assert_removed_by_the_next_start(profiles)


def _before_the_browser(proc, out: Path) -> None:
    wait_for(lambda: (out / "report.json").exists(), "the first report.json", timeout=30)
    assert not chromium_running(proc)


def _during_state_none(proc, out: Path) -> None:
    wait_for(lambda: chromium_running(proc), "Chromium started")
    time.sleep(1.0)                               # the start page is loading, nothing is finished
    assert finished_states(out) == []


def _between_states(proc, out: Path) -> None:
    wait_for(lambda: finished_states(out) == ["none"], "state none written, reject still running")


MOMENTS = {   # moment: (how the test waits for it, the states report.json then holds, a profile folder?)
    "before-the-browser-starts": (_before_the_browser, [], None),    # maybe created, Chromium not started
    "during-state-none": (_during_state_none, [], True),
    "between-states": (_between_states, ["none"], True),
    "during-the-final-write": (None, ["none", "reject"], False),     # the browser closed, its profile removed
}


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_kill_9_at_every_moment(sites_server, tmp_path, moment):
    """kill -9 before Chromium starts, while state none loads, right after state none is written,
    and while the final report.json is being written (written to a temporary file, not yet renamed):
    each leaves a valid report.json, complete: false, holding exactly the states finished before."""
    out, marker = tmp_path / "out", tmp_path / "final-write-paused"
    wait, states, profile = MOMENTS[moment]
    proc = start_scan(sites_server, out, pause_in_final_write=marker if wait is None else None)
    if wait is None:
        wait_for(marker.exists, "the final write of report.json")
    else:
        wait(proc, out)
    profiles = kill_9(proc)
    report = assert_valid_incomplete(out)
    assert [s["state"] for s in report["states"]] == states
    if wait is None:   # the final report.json was on disk under its temporary name, never half over the old one
        assert list(out.glob(".report.json.*.tmp")) and report["incomplete_reasons"] == ["scan still running"]
        # the next run writing there (here a re-render) removes the killed writer's temporary file
        again = run_cli("report", str(out / "report.json"), "--format", "md")
        assert again.returncode == 3, again.stderr     # rendered; exit 3: the report is incomplete
        assert not list(out.glob(".*.tmp")) and (out / "summary.md").is_file()
    if not states:
        assert report["incomplete_reasons"] == ["scan still running: no state finished yet"]
    if profile is not None:
        assert bool(profiles) is profile, profiles
    assert_removed_by_the_next_start(profiles)


def test_deadline_is_hard_on_a_page_that_floods_history_and_fetch(sites_server, tmp_path):
    """www.busy.test pushes history entries and sends requests as fast as it can, forever: a
    `--deadline 10` scan still ends within ten seconds of its deadline, with a valid partial report."""
    out = tmp_path / "out"
    began = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "scanner.cli", "scan", "https://www.busy.test/",
                           "--resolve", sites_server.resolve_rule(), "--ignore-https-errors", "--out", str(out),
                           "--no-progress", "--deadline", "10"], cwd=TESTS.parent, capture_output=True, text=True,
                          timeout=120)
    took = time.monotonic() - began
    assert proc.returncode == 3, proc.stderr
    assert "deadline of 10 s reached" in proc.stderr
    assert took < 20, f"the scan ended {took:.1f} s after it started, deadline 10 s"
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert validate_report(report) == [] and report["complete"] is False
