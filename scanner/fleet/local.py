"""Run a fleet on this machine: a bounded pool of worker processes, one `cookie-scanner scan` (and
so one Chromium) each, no server needed."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Callable

from ..redact import terminal_line
from .spec import Fleet, SiteJob

GB_PER_WORKER = 1.0          # peak PSS of one scan with its Chromium is under 1 GB (bench/README.md)
NO_DEADLINE_LIMIT_S = 4 * 3600
DEADLINE_SLACK_S = 60


def default_workers(sites: int) -> int:
    """Scans at once: one per core, fewer when memory is short, never more than the sites."""
    cores = os.cpu_count() or 1
    return max(1, min(cores, int(_available_gb() // GB_PER_WORKER) or 1, sites))


def _available_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024 / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 4.0


def site_command(job: SiteJob, out: Path, *, db: str | None, deploy: str | None, workers: int) -> list[str]:
    command = [sys.executable, "-m", "scanner.cli", "scan", job.url, *job.args, "--out", str(out), "--no-progress"]
    if "--concurrency" not in job.args:   # the cores are shared by the scans running at once
        command += ["--concurrency", str(max(2, 4 * (os.cpu_count() or 1) // max(1, workers)))]
    if db:
        command += ["--db", db]
    if deploy:
        command += ["--deploy", deploy]
    return command


def time_limit(job: SiteJob) -> float:
    """A site's scan is killed past its --deadline and a minute (4 hours without a deadline)."""
    return job.deadline_s + DEADLINE_SLACK_S if job.deadline_s else NO_DEADLINE_LIMIT_S


def site_result(job: SiteJob, out: Path, code: int | None, error: str | None, duration_s: float) -> dict:
    """The fleet's row for one site, from its report.json (whatever the exit code)."""
    row = {"index": job.index, "url": job.url, "slug": job.slug, "tags": job.tags, "exit_code": code,
           "error": error, "duration_s": round(duration_s, 1), "verdict": None, "complete": False,
           "violations": None, "warnings": None, "infos": None, "states_missing": [], "started_at": None,
           "finished_at": None, "report": None}
    report_file = out / "report.json"
    try:
        report = json.loads(report_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return row
    counts = {s: 0 for s in ("violation", "warning", "info")}
    for finding in report.get("findings") or []:
        if isinstance(finding, dict) and finding.get("severity") in counts:
            counts[finding["severity"]] += 1
    row.update(verdict=report.get("verdict"), complete=bool(report.get("complete")), violations=counts["violation"],
               warnings=counts["warning"], infos=counts["info"],
               states_missing=[str(s.get("state")) for s in report.get("states") or []
                               if isinstance(s, dict) and not s.get("reached")],
               started_at=report.get("started_at"), finished_at=report.get("finished_at"),
               report=f"{job.slug}/report.html" if (out / "report.html").is_file() else f"{job.slug}/report.json",
               site=(report.get("site") or {}).get("registrable_domain"))
    return row


def run_site(job: SiteJob, out: Path, *, db, deploy, workers, die_with_parent: bool = False) -> dict:
    """Scan one site into out/<slug> with `cookie-scanner scan` in its own process group (killed
    whole past the time limit); `die_with_parent`: the scan is killed if this process dies (a
    Celery worker killed mid-scan leaves no scan behind)."""
    site_out = out / job.slug
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}   # the fleet writes one summary
    began = time.monotonic()
    process = subprocess.Popen(site_command(job, site_out, db=db, deploy=deploy, workers=workers),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                               start_new_session=True, preexec_fn=_die_with_parent if die_with_parent else None)
    error = None
    try:
        _, stderr = process.communicate(timeout=time_limit(job))
        code = process.returncode
        lines = [line for line in (stderr or "").splitlines() if line.startswith("cookie-scanner:")]
        if code not in (0, 1):
            error = lines[-1][:300] if lines else f"exit {code}"
    except subprocess.TimeoutExpired:
        _kill_group(process)
        code, error = None, f"killed after {time_limit(job):g} s (the site's deadline and a minute)"
    return site_result(job, site_out, code, error, time.monotonic() - began)


def _die_with_parent() -> None:   # runs in the child, before exec
    import ctypes
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except OSError:
        pass


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.communicate()


def run_local(fleet: Fleet, out: Path, *, workers: int | None = None, db: str | None = None,
              deploy: str | None = None, say: Callable[[str], None] = print) -> list[dict]:
    """Scan every site of the fleet, `workers` at once; one report folder per site under `out`."""
    workers = workers or default_workers(len(fleet.sites))
    total = len(fleet.sites)
    results: list[dict] = []
    began = time.monotonic()
    say(f"fleet: {total} site(s), {workers} at once, reports in {out}")
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(run_site, job, out, db=db, deploy=deploy, workers=workers): job for job in fleet.sites}
        for future in as_completed(futures):
            results.append(future.result())
            say(progress_line(results, total, min(workers, total - len(results)), began))
    return sorted(results, key=lambda r: r["index"])


def progress_line(results: list[dict], total: int, running: int, began: float) -> str:
    """'[3/6] https://…: violations (12.1 s); 2 running, 1 waiting, 0 failed, ETA 25 s'."""
    row, done = results[-1], len(results)
    left = total - done
    eta = (time.monotonic() - began) / done * left if left else 0.0
    state = row["verdict"] or row["error"] or "no report"
    failed = sum(1 for r in results if not r.get("complete"))
    return terminal_line(f"[{done}/{total}] {row['url']}: {state} ({row['duration_s']:g} s); {running} running, "
                         f"{max(0, left - running)} waiting, {failed} failed, ETA {eta:.0f} s")
