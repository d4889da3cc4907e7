"""The fleet on Celery (issue 18), with real components: a redis-server started on a loopback port
(append-only file, so a restart keeps the queue) and two real `cookie-scanner worker` processes.
Six local sites give the verdicts of single scans; a worker killed with SIGKILL mid-scan loses no
site (its task goes to the other worker); a broker restart mid-fleet loses no site; the report
folders come back through the result backend, with their manifests right, and the history is
recorded by the machine that started the fleet."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml

from conftest import TESTS
from scanner import ScanOptions, scan
from scanner.report.manifest import verify_manifest

SITES = {
    "https://www.pixel.test/": {"country": "fr"},
    "https://www.fingerprint.test/": {"country": "de"},
    "https://www.consent-mode.test/": {"country": "fr"},
    "https://www.no-banner.test/": {"country": "es"},
    "https://www.late-banner.test/": {"country": "de"},
    "https://www.leaky.test/": {"country": "fr"},
}
VISIBILITY_S = 25     # a killed worker's task goes to another one after this (tests only; default 3 h)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is missing: `make test` installs it (tools/ensure-redis.sh)"
        self.binary, self.folder, self.port = binary, folder, _free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
             "--appendfsync", "always", "--dir", str(self.folder), "--protected-mode", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()       # SIGTERM: redis-server flushes its append-only file and exits
            self.process.wait(timeout=20)
            self.process = None


def start_worker(broker: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "scanner.cli", "worker", "--broker", broker,
                             "--visibility-timeout", str(VISIBILITY_S)],
                            stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True, cwd=TESTS.parent)


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=20)


@pytest.fixture(scope="module")
def celery(tmp_path_factory):
    folder = tmp_path_factory.mktemp("redis")
    redis = Redis(folder)
    redis.start()
    workers = [start_worker(redis.url, folder / f"worker{i}.log") for i in (1, 2)]
    try:
        yield redis, workers, folder
    finally:
        for worker in workers:
            stop(worker)
        redis.stop()


def fleet_file(folder: Path, sites_server, sites) -> Path:
    data = {"defaults": {"states": "none", "max_pages": 1, "ignore_https_errors": True,
                         "resolve": [sites_server.resolve_rule()], "deadline": 120},
            "sites": [{"url": url, "tags": SITES[url]} for url in sites]}
    path = folder / "fleet.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def start_fleet(fleet: Path, out: Path, broker: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "scanner.cli", "fleet", str(fleet), "--out", str(out),
                             "--broker", broker, "--visibility-timeout", str(VISIBILITY_S), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=TESTS.parent)


def finish(process: subprocess.Popen, timeout: float = 400) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=timeout)
    return process.returncode, stdout, stderr


def scanning(worker: subprocess.Popen) -> bool:
    """A `cookie-scanner scan` runs under this worker."""
    try:
        children = psutil.Process(worker.pid).children(recursive=True)
    except psutil.Error:
        return False
    return any("scan" in c.cmdline()[3:5] for c in children if _alive(c) and len(c.cmdline()) > 4)


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def rows(out: Path) -> dict[str, dict]:
    return {row["url"]: row for row in json.loads((out / "fleet.json").read_text(encoding="utf-8"))["sites"]}


def test_six_sites_on_two_workers_give_the_single_scan_verdicts(sites_server, celery, tmp_path) -> None:
    redis, workers, _folder = celery
    out = tmp_path / "out"
    code, stdout, stderr = finish(start_fleet(fleet_file(tmp_path, sites_server, SITES), out, redis.url, "--history"))
    assert code == 1, stderr + stdout
    assert stdout.startswith(f"fleet: 6 site(s) sent to the Celery workers of {redis.url}")
    found = rows(out)
    assert list(found) == list(SITES)
    for url, row in found.items():
        single = scan(ScanOptions(url=url, states=("none",), max_pages=1, resolve=(sites_server.resolve_rule(),),
                                  ignore_https_errors=True))
        assert (row["verdict"], row["complete"]) == (single["verdict"], True), url
        folder = out / row["slug"]
        assert (folder / "report.html").is_file() and verify_manifest(folder) == []
        report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
        assert report["history"]["previous_scan"] is None     # recorded by this machine, in its database
    assert (out / "history.sqlite").is_file() and all(w.poll() is None for w in workers)


def test_a_worker_killed_mid_scan_loses_no_site(sites_server, celery, tmp_path) -> None:
    redis, workers, folder = celery
    sites = list(SITES)[:4]
    out = tmp_path / "out"
    fleet = start_fleet(fleet_file(tmp_path, sites_server, sites), out, redis.url)
    deadline = time.monotonic() + 120
    while not scanning(workers[0]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert scanning(workers[0]), "the first worker never started a scan"
    stop(workers[0])                      # SIGKILL, mid-scan: the worker and its scan
    code, stdout, stderr = finish(fleet)
    workers[0] = start_worker(redis.url, folder / "worker1b.log")   # for the next test
    assert code in (0, 1), stderr + stdout
    found = rows(out)
    assert list(found) == sites and all(row["complete"] and row["verdict"] for row in found.values())
    assert len([line for line in stdout.splitlines() if line.startswith("[")]) == 4   # each site counted once


def test_a_broker_restart_mid_fleet_loses_no_site(sites_server, celery, tmp_path) -> None:
    redis, workers, _folder = celery
    out = tmp_path / "out"
    fleet = start_fleet(fleet_file(tmp_path, sites_server, SITES), out, redis.url)
    deadline = time.monotonic() + 120
    while not any(scanning(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    redis.stop()
    time.sleep(2)
    redis.start()
    code, stdout, stderr = finish(fleet)
    assert code in (0, 1), stderr + stdout
    found = rows(out)
    assert list(found) == list(SITES) and all(row["complete"] for row in found.values())
    assert len([line for line in stdout.splitlines() if line.startswith("[")]) == 6
