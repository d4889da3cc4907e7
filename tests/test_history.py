"""Scan history in a database (issue 18): a site scanned twice with --history shows, in report.html
and summary.md, which findings are new since the last scan and since when the others have been
there; `cookie-scanner history SITE` prints the trend; `--baseline db:last` compares with the last
recorded scan; the same history written to SQLite and to a real PostgreSQL (a throwaway cluster
started on a loopback port) reads back the same."""
from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import zlib
from pathlib import Path

import pytest

from conftest import closed_port, run_cli
from scanner.history import HistoryError, HistoryStore, add_history, display_url
from scanner.report.schema import validate_report

START = "https://www.pixel.test/"
EXTRA = "https://www.pixel.test/extra.html"


def scan(sites_server, out: Path, db: Path, *extra: str):
    return run_cli("scan", START, "--resolve", sites_server.resolve_rule(), "--ignore-https-errors", "--states", "none",
                   "--max-pages", "1", "--out", str(out), "--db", str(db), "--no-progress", "--fail-on", "never",
                   "--format", "json,html,md", *extra, timeout=180)


@pytest.fixture(scope="module")
def two_scans(sites_server, tmp_path_factory) -> tuple[Path, dict, dict]:
    base = tmp_path_factory.mktemp("history")
    db = base / "history.sqlite"
    first = scan(sites_server, base / "first", db, "--deploy", "deploy-1")
    assert first.returncode == 0, first.stderr
    second = scan(sites_server, base / "second", db, "--deploy", "deploy-2", "--url", EXTRA, "--max-pages", "2")
    assert second.returncode == 0, second.stderr
    assert f"history: recorded in sqlite:///{db.resolve().as_posix()}" in second.stdout
    load = lambda name: json.loads((base / name / "report.json").read_text(encoding="utf-8"))  # noqa: E731
    return base, load("first"), load("second")


def test_the_second_scan_marks_new_findings_and_since_when(two_scans) -> None:
    base, first, second = two_scans
    assert all(f["history"]["new"] is None for f in first["findings"])          # the site's first scan
    assert first["history"]["previous_scan"] is None
    new = {(f["rule"], f["subject"]["name"]) for f in second["findings"] if f["history"]["new"]}
    assert new == {("tracking-pixel", "api.partner-lookalike.test")}            # the beacon of the added page
    old = [f for f in second["findings"] if f["history"]["new"] is False]
    assert old and all(f["history"]["first_seen"] == first["started_at"] for f in old)
    assert second["history"]["previous_scan"] == first["started_at"]
    assert validate_report(second) == []
    html = (base / "second" / "report.html").read_text(encoding="utf-8")
    assert html.count("new since the last scan") == 1
    from scanner.report.html import format_time
    assert html.count(f"since {format_time(first['started_at'])}") == len(old)
    summary = (base / "second" / "summary.md").read_text(encoding="utf-8")
    assert "| violation 🆕 | Tracking pixel or beacon without consent |" in summary
    assert f"since {first['started_at'][:10]}" in summary


def test_history_command_prints_the_trend(two_scans) -> None:
    base, first, second = two_scans
    db = str(base / "history.sqlite")
    shown = run_cli("history", "https://www.pixel.test/", "--db", db)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "pixel.test: 2 scan(s), newest first"
    assert lines[2].startswith(second["started_at"]) and "deploy-2" in lines[2]
    assert lines[3].startswith(first["started_at"]) and "deploy-1" in lines[3]
    data = json.loads(run_cli("history", "pixel.test", "--db", db, "--format", "json").stdout)
    assert [(s["deploy"], s["new"], s["gone"]) for s in data["scans"]] == [("deploy-2", 1, 0), ("deploy-1", None, None)]
    missing = run_cli("history", "other.test", "--db", db)
    assert missing.returncode == 2 and missing.stderr.strip() == (
        "cookie-scanner: error: no recorded scan of other.test (sites recorded: pixel.test)")


def test_baseline_db_last_is_the_last_recorded_scan(sites_server, two_scans) -> None:
    base, _first, second = two_scans
    third = scan(sites_server, base / "third", base / "history.sqlite", "--url", EXTRA, "--max-pages", "2",
                 "--baseline", "db:last", "--fail-on", "new-violation")
    assert third.returncode == 0, third.stderr + third.stdout               # nothing new since the second
    report = json.loads((base / "third" / "report.json").read_text(encoding="utf-8"))
    assert report["baseline"]["started_at"] == second["started_at"]
    assert {f["baseline"] for f in report["findings"]} == {"unchanged"}


def test_an_unusable_database_is_exit_2_before_the_scan(tmp_path) -> None:
    out = tmp_path / "out"
    done = run_cli("scan", "https://www.example.com/", "--db", f"postgresql+psycopg://u@127.0.0.1:{closed_port()}/x",
                   "--out", str(out))
    assert done.returncode == 2, done.stderr
    line = done.stderr.strip()
    assert "\n" not in line and line.startswith("cookie-scanner: error: history database postgresql+psycopg://")
    assert not out.exists()


# ---------------------------------------------------------------- PostgreSQL

def postgresql_tool(name: str) -> str | None:
    """A PostgreSQL server program, found as tools/ensure-postgresql.sh finds it: on PATH, else
    where Debian's package puts it."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parent.parent.name)
                      if p.parent.parent.name.isdigit() else 0)
    return str(versions[-1]) if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL cluster in a temporary folder, on a loopback port (root cannot run
    PostgreSQL: as root, the server runs as `nobody`)."""
    initdb, pg_ctl = postgresql_tool("initdb"), postgresql_tool("pg_ctl")
    assert initdb and pg_ctl, "PostgreSQL is missing: `make test` installs it (tools/ensure-postgresql.sh)"
    base = Path(tempfile.mkdtemp(prefix="scanner-pg-", dir="/tmp"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(base, nobody.pw_uid, nobody.pw_gid)
        prefix = ["runuser", "-u", "nobody", "--"]
    os.chmod(base, 0o755)
    port = _free_port()
    data = base / "data"
    subprocess.run([*prefix, initdb, "-D", str(data), "-U", "scanner", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True, timeout=120)
    subprocess.run([*prefix, pg_ctl, "-D", str(data), "-l", str(base / "log"), "-w", "-t", "60",
                    "-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1", "start"],
                   check=True, capture_output=True, timeout=120)
    try:
        yield f"postgresql+psycopg://scanner@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


def _history(store: HistoryStore, reports: list[dict]) -> tuple:
    for i, report in enumerate(reports):
        add_history(report, store)
        store.record(report, report_path=f"/reports/{i}/report.json", deploy=f"d{i}")
    site = reports[0]["site"]["registrable_domain"]
    from scanner.audits import problem_key
    last = store.last_report(site)
    assert last == json.loads(json.dumps(reports[-1]))
    assert last["history"]["db"] == display_url(store.url) and "scanner@" not in last["history"]["db"]
    last["history"].pop("db")     # the one field that names the database itself
    return (store.trend(site, 10), store.first_seen(site, [problem_key(f) for r in reports for f in r["findings"]]),
            last, [f["history"] for r in reports for f in r["findings"]])


def test_sqlite_and_postgresql_read_back_the_same(two_scans, postgres, tmp_path) -> None:
    _base, first, second = two_scans
    copies = lambda: [json.loads(json.dumps(r)) for r in (first, second)]   # noqa: E731
    for report in copies():
        report.pop("history", None)
    on_sqlite = _history(HistoryStore.open(str(tmp_path / "h.sqlite")), copies())
    on_postgres = _history(HistoryStore.open(postgres), copies())
    assert on_sqlite == on_postgres
    trend = on_postgres[0]
    assert [(t["deploy"], t["new"]) for t in trend] == [("d1", 1), ("d0", None)]
    # opening again runs the migrations again: nothing to do, nothing lost
    assert len(HistoryStore.open(postgres).trend("pixel.test")) == 2


def test_the_stored_report_is_compressed_and_whole(two_scans, tmp_path) -> None:
    _base, first, _second = two_scans
    store = HistoryStore.open(str(tmp_path / "h.sqlite"))
    store.record(first)
    from sqlalchemy import text
    with store.engine.connect() as connection:
        blob = connection.execute(text("select report_json from scans")).scalar_one()
        version = connection.execute(text("select version_num from alembic_version")).scalar_one()
    assert json.loads(zlib.decompress(blob)) == first and len(blob) < len(json.dumps(first))
    assert version == "0001"
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database" * 100)
    with pytest.raises(HistoryError, match="history database sqlite:///.*garbage.sqlite: file is not a database"):
        HistoryStore.open(str(garbage))
