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
