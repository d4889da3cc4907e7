"""Reading and writing the history database."""
from __future__ import annotations

import json
import zlib
from pathlib import Path

from ..errors import UsageError
from ..redact import redact_url

MIGRATIONS = Path(__file__).with_name("migrations")
DB_FILE = "history.sqlite"
MAX_TREND = 1000


class HistoryError(UsageError):
    """The history database cannot be opened or used (one line; exit 2 before a scan)."""


def default_db_url(out_dir: Path) -> str:
    """The default database: history.sqlite in the reports folder (the report folder's parent)."""
    return f"sqlite:///{(Path(out_dir).resolve().parent / DB_FILE).as_posix()}"


def normalise_url(text: str) -> str:
    """A database URL; a plain path is a SQLite file."""
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).resolve().as_posix()}"


def display_url(url: str) -> str:
    """The URL without its password, for reports and messages."""
    return redact_url(url, keep_query=False) if "@" in url or "?" in url else url


class HistoryStore:
    def __init__(self, engine, url: str) -> None:
        self.engine = engine
        self.url = url

    @classmethod
    def open(cls, url: str) -> "HistoryStore":
        """Connect, and create or upgrade the schema (Alembic, to the newest revision)."""
        from sqlalchemy import create_engine
        from sqlalchemy.exc import SQLAlchemyError

        url = normalise_url(url)
        try:
            if url.startswith("sqlite:///"):
                Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
            store = cls(engine, url)
            store.migrate()
            return store
        except (SQLAlchemyError, OSError, ImportError, ValueError) as exc:
            raise HistoryError(f"history database {display_url(url)}: {_one_line(exc)}") from None

    def migrate(self) -> None:
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def record(self, report: dict, *, report_path: str | None = None, deploy: str | None = None) -> int:
        """Store one scan and its findings; returns the scan's id."""
        from sqlalchemy.orm import Session

        from ..audits import problem_key
        from .models import Scan, ScanFinding

        counts = {s: 0 for s in ("violation", "warning", "info")}
        for finding in report.get("findings") or []:
            if finding.get("severity") in counts:
                counts[finding["severity"]] += 1
        states = [s for s in report.get("states") or [] if isinstance(s, dict)]
        scan = Scan(site=site_of(report), url=str((report.get("site") or {}).get("url") or "")[:2048],
                    started_at=str(report.get("started_at") or ""), finished_at=report.get("finished_at"),
                    deploy=(deploy or None) and str(deploy)[:200], verdict=str(report.get("verdict") or "unknown"),
                    complete=bool(report.get("complete")), violations=counts["violation"],
                    warnings=counts["warning"], infos=counts["info"],
                    states_reached=",".join(str(s.get("state")) for s in states if s.get("reached")),
                    states_missing=",".join(str(s.get("state")) for s in states if not s.get("reached")),
                    report_path=report_path,
                    report_json=zlib.compress(json.dumps(report, ensure_ascii=False).encode("utf-8"), 6))
        with Session(self.engine) as session:
            session.add(scan)
            session.flush()
            session.add_all(ScanFinding(scan_id=scan.id, problem_key=problem_key(f), rule=str(f.get("rule"))[:100],
                                        severity=str(f.get("severity"))[:16], subject=_subject(f),
                                        states=",".join(str(s) for s in f.get("states") or []))
                            for f in report.get("findings") or [] if isinstance(f, dict))
            session.commit()
            return scan.id

    def last_scan(self, site: str):
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from .models import Scan
        with Session(self.engine) as session:
            return session.scalars(select(Scan).where(Scan.site == site)
                                   .order_by(Scan.started_at.desc(), Scan.id.desc()).limit(1)).first()

    def last_report(self, site: str) -> dict | None:
        """The report.json of the site's last recorded scan, or None."""
        scan = self.last_scan(site)
        return json.loads(zlib.decompress(scan.report_json)) if scan is not None else None

    def first_seen(self, site: str, keys) -> dict[str, str]:
        """problem key -> started_at of the first recorded scan of the site that had it."""
        from sqlalchemy import func, select
        from sqlalchemy.orm import Session

        from .models import Scan, ScanFinding
        wanted = sorted(set(keys))
        found: dict[str, str] = {}
        with Session(self.engine) as session:
            for i in range(0, len(wanted), 500):
                rows = session.execute(
                    select(ScanFinding.problem_key, func.min(Scan.started_at))
                    .join(Scan, Scan.id == ScanFinding.scan_id)
                    .where(Scan.site == site, ScanFinding.problem_key.in_(wanted[i:i + 500]))
                    .group_by(ScanFinding.problem_key))
                found.update({key: started for key, started in rows})
        return found

    def keys_of(self, scan_id: int) -> set[str]:
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from .models import ScanFinding
        with Session(self.engine) as session:
            return set(session.scalars(select(ScanFinding.problem_key).where(ScanFinding.scan_id == scan_id)))

    def trend(self, site: str, limit: int = 20) -> list[dict]:
        """The site's recorded scans, newest first, with how many findings were new in each."""
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from .models import Scan
        with Session(self.engine) as session:
            scans = list(session.scalars(select(Scan).where(Scan.site == site)
                                         .order_by(Scan.started_at.desc(), Scan.id.desc())
                                         .limit(min(limit, MAX_TREND) + 1)))
        rows = []
        for i, scan in enumerate(scans[:limit]):
            keys = self.keys_of(scan.id)
            before = self.keys_of(scans[i + 1].id) if i + 1 < len(scans) else None
            rows.append({"started_at": scan.started_at, "deploy": scan.deploy, "verdict": scan.verdict,
                         "complete": scan.complete, "violations": scan.violations, "warnings": scan.warnings,
                         "infos": scan.infos, "states_reached": _split(scan.states_reached),
                         "states_missing": _split(scan.states_missing),
                         "new": len(keys - before) if before is not None else None,
                         "gone": len(before - keys) if before is not None else None,
                         "report_path": scan.report_path})
        return rows

    def sites(self) -> list[str]:
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from .models import Scan
        with Session(self.engine) as session:
            return sorted(set(session.scalars(select(Scan.site))))


def add_history(report: dict, store: HistoryStore) -> dict:
    """Mark each finding with `history`: `first_seen` (when the first recorded scan of the site saw
    it; this scan's start when none did) and `new` (not in the site's last recorded scan; null for
    the first scan of a site). Adds the top-level `history` block. In place; returns the report."""
    from ..audits import problem_key

    site = site_of(report)
    previous = store.last_scan(site)
    before = store.keys_of(previous.id) if previous is not None else None
    findings = [f for f in report.get("findings") or [] if isinstance(f, dict)]
    first = store.first_seen(site, [problem_key(f) for f in findings])
    now = str(report.get("started_at") or "")
    for finding in findings:
        key = problem_key(finding)
        finding["history"] = {"first_seen": first.get(key, now),
                              "new": (key not in before) if before is not None else None}
    report["history"] = {"db": display_url(store.url), "site": site,
                         "previous_scan": previous.started_at if previous is not None else None,
                         "previous_verdict": previous.verdict if previous is not None else None}
    return report


def site_of(report: dict) -> str:
    site = report.get("site") or {}
    return str(site.get("registrable_domain") or site.get("host") or "")[:253]


def _subject(finding: dict) -> str:
    subject = finding.get("subject") if isinstance(finding.get("subject"), dict) else {}
    return json.dumps({k: subject.get(k) for k in ("kind", "name", "domain", "host") if subject.get(k) is not None},
                      ensure_ascii=False, sort_keys=True)[:2000]


def _split(text: str) -> list[str]:
    return [s for s in (text or "").split(",") if s]


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]
