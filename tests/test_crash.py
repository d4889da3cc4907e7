"""kill -9 at any moment leaves a valid report.json with `complete: false` (issue 16): the
first one is written before the browser starts, then after each state."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import TESTS
from scanner.report.schema import validate_report


@pytest.mark.parametrize("delay", [1.5, 4.0])
def test_kill_9_leaves_a_valid_incomplete_report(sites_server, tmp_path, delay):
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "scanner.cli", "scan", "https://www.switch-banner.test/",
                             "--resolve", sites_server.resolve_rule(), "--ignore-https-errors", "--out", str(out),
                             "--no-progress"], cwd=TESTS.parent, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not (out / "report.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert validate_report(report) == []
    assert report["complete"] is False
    assert report["incomplete_reasons"], report["incomplete_reasons"]
    # the killed scan's Chromium profile (the site's cookies) is removed by the next scan's start
    from scanner.browser import OWNER_FILE, PROFILE_PREFIX, remove_stale_profiles
    import tempfile
    from pathlib import Path
    parents = {tempfile.gettempdir(), "/tmp"}
    mine = [d for parent in parents for d in Path(parent).glob(PROFILE_PREFIX + "*")
            if (d / OWNER_FILE).is_file() and (d / OWNER_FILE).read_text().strip() == str(proc.pid)]
    assert mine, "the killed scan left no profile folder (it is created before Chromium starts)"
    removed = [r for parent in parents for r in remove_stale_profiles(parent)]
    assert all(str(d) in removed for d in mine) and not any(d.exists() for d in mine)


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
