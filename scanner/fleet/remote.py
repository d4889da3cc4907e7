"""The same fleet on Celery workers, with Redis as broker and result backend.

    cookie-scanner worker --broker redis://host:6379/0          # on any machine, as many as wanted
    cookie-scanner fleet fleet.yaml --broker redis://host:6379/0

Each site is one task (`cookie_scanner.scan_site`), acknowledged late: a worker killed mid-scan
leaves its task unacknowledged, and the broker hands it to another worker (at once when only the
worker's pool process died; after the visibility timeout when the whole worker did). A task's id
is fixed per fleet run and site, so a scan done twice is one result, counted once. The worker scans
into a temporary folder and sends the site's report folder back through the result backend
(zipped): no shared folder is assumed. The machine that started the fleet writes the folders,
records the history and shows the progress.
"""
from __future__ import annotations

import base64
import io
import json
import tempfile
import time
import uuid
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import Callable

from .local import progress_line, run_site, time_limit
from .spec import Fleet, SiteJob

TASK = "cookie_scanner.scan_site"
DEFAULT_VISIBILITY_S = 3 * 3600    # longer than any scan: a redelivered task never runs beside a live one
MAX_FOLDER_BYTES = 64 * 1024 * 1024
POLL_S = 1.0


def make_app(broker: str, *, visibility_timeout: float | None = None):
    from celery import Celery

    app = Celery("cookie_scanner", broker=broker, backend=broker)
    transport = {"visibility_timeout": int(visibility_timeout or DEFAULT_VISIBILITY_S)}
    app.conf.update(
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        task_track_started=True, task_serializer="json", result_serializer="json", accept_content=["json"],
        result_expires=7 * 86400, broker_connection_retry_on_startup=True, broker_connection_max_retries=None,
        broker_transport_options=transport, result_backend_transport_options=transport,
        worker_hijack_root_logger=False, worker_cancel_long_running_tasks_on_connection_loss=False)
    app.task(name=TASK, bind=True)(_scan_site)
    return app


def _scan_site(task, job: dict, workers: int) -> dict:
    """Run on a worker: scan one site into a temporary folder and send the folder back."""
    site = SiteJob(**job)
    with tempfile.TemporaryDirectory(prefix="cookie-scanner-fleet-") as tmp:
        row = run_site(site, Path(tmp), db=None, deploy=None, workers=workers, die_with_parent=True)
        return {"row": row, "folder": pack(Path(tmp) / site.slug)}


def pack(folder: Path) -> str:
    buffer = io.BytesIO()
    size = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    size += path.stat().st_size
                    if size > MAX_FOLDER_BYTES:
                        break
                    archive.write(path, path.relative_to(folder).as_posix())
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def unpack(data: str, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(data))) as archive:
        for info in archive.infolist():
            target = (folder / info.filename).resolve()
            if folder.resolve() not in target.parents or info.is_dir():
                continue   # never outside the site's folder
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))


def run_remote(fleet: Fleet, out: Path, *, broker: str, store=None, deploy: str | None = None,
               visibility_timeout: float | None = None, say: Callable[[str], None] = print) -> list[dict]:
    """Send every site to the workers and collect their report folders into out/<slug>."""
    from celery.result import AsyncResult

    app = make_app(broker, visibility_timeout=visibility_timeout)
    run_id = uuid.uuid4().hex[:12]
    total = len(fleet.sites)
    say(f"fleet: {total} site(s) sent to the Celery workers of {_display(broker)}, reports in {out}")
    pending: dict[str, SiteJob] = {}
    for job in fleet.sites:
        task_id = f"{run_id}-{job.index:04d}"
        _retrying(lambda: app.send_task(TASK, args=[asdict(job), 1], task_id=task_id,
                                         time_limit=time_limit(job) + 60), say)
        pending[task_id] = job
    results: list[dict] = []
    began = time.monotonic()
    while pending:
        time.sleep(POLL_S)
        states = _retrying(lambda: {tid: AsyncResult(tid, app=app).state for tid in pending}, say)
        for task_id, state in states.items():
            if state not in ("SUCCESS", "FAILURE"):
                continue
            job = pending.pop(task_id)
            outcome = AsyncResult(task_id, app=app)
            if state == "SUCCESS":
                payload = _retrying(lambda: outcome.get(timeout=60, propagate=False), say)
                unpack(payload["folder"], out / job.slug)
                _retrying(outcome.forget, say)    # Redis holds only the results not yet collected
                row = payload["row"]
                if store is not None:
                    _add_history(out / job.slug, store, deploy)
            else:
                row = {"index": job.index, "url": job.url, "slug": job.slug, "tags": job.tags, "exit_code": None,
                       "error": f"the worker failed: {str(outcome.result)[:200]}", "duration_s": 0, "verdict": None,
                       "complete": False, "violations": None, "warnings": None, "infos": None,
                       "states_missing": [], "started_at": None, "finished_at": None, "report": None}
            results.append(row)
            running = sum(1 for s in states.values() if s == "STARTED")
            say(progress_line(results, total, running, began))
    return sorted(results, key=lambda r: r["index"])


def _add_history(folder: Path, store, deploy: str | None) -> None:
    """Mark the site's findings from the history and record the scan, as a local scan with --db does."""
    from ..history import add_history
    from ..report import render_all, write_json, write_manifest
    from ..report.manifest import MANIFEST

    report_file = folder / "report.json"
    try:
        report = json.loads(report_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    add_history(report, store)
    write_json(report, report_file)
    formats = [f for f, name in (("html", "report.html"), ("md", "summary.md")) if (folder / name).is_file()]
    options = report.get("options") or {}
    render_all(report, folder, formats, csv_sep=str(options.get("csv_sep") or ","), lang=str(options.get("lang") or "en"))
    try:   # the manifest's hashes follow the files rewritten here
        old = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = {}
    write_manifest(folder, report, command=report.get("command"), declaration_sha256=old.get("declaration_sha256"))
    store.record(report, report_path=str(report_file), deploy=deploy)


def _retrying(call, say, attempts: int = 120):
    """The broker may restart under a running fleet: wait for it (up to about two minutes)."""
    for attempt in range(attempts):
        try:
            return call()
        except Exception as exc:  # noqa: BLE001 - redis/kombu connection errors of every kind
            if attempt == 0:
                say(f"fleet: broker unreachable ({type(exc).__name__}), retrying")
            time.sleep(1.0)
    return call()


def _display(url: str) -> str:
    from ..history import display_url
    return display_url(url)


def start_worker(broker: str, *, concurrency: int, visibility_timeout: float | None = None) -> None:
    """`cookie-scanner worker`: a Celery worker for fleet scans (blocks)."""
    app = make_app(broker, visibility_timeout=visibility_timeout)
    app.worker_main(["worker", f"--concurrency={concurrency}", "--loglevel=WARNING", "--without-gossip",
                     "--without-mingle", "--without-heartbeat", "-P", "prefork", "-n", f"cookie-scanner-{uuid.uuid4().hex[:6]}@%h"])
