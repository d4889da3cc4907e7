"""The history tables. Changing them needs a migration in migrations/versions/."""
from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Scan(Base):
    """One scan of one site."""
    __tablename__ = "scans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(253), index=True)          # registrable domain
    url: Mapped[str] = mapped_column(Text)                                # redacted start URL
    started_at: Mapped[str] = mapped_column(String(32), index=True)       # ISO 8601 UTC, as report.json
    finished_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    deploy: Mapped[str | None] = mapped_column(String(200), nullable=True)   # deploy id or commit
    verdict: Mapped[str] = mapped_column(String(32))
    complete: Mapped[bool] = mapped_column(Boolean)
    violations: Mapped[int] = mapped_column(Integer)
    warnings: Mapped[int] = mapped_column(Integer)
    infos: Mapped[int] = mapped_column(Integer)
    states_reached: Mapped[str] = mapped_column(Text)                     # comma-separated
    states_missing: Mapped[str] = mapped_column(Text)
    report_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    report_json: Mapped[bytes] = mapped_column(LargeBinary)               # zlib of the redacted report.json


class ScanFinding(Base):
    """A finding of a scan, by its stable problem key (rule and subject)."""
    __tablename__ = "scan_findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"), index=True)
    problem_key: Mapped[str] = mapped_column(String(64), index=True)
    rule: Mapped[str] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(Text)
    states: Mapped[str] = mapped_column(Text)
