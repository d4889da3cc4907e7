"""Scan history in a database (SQLAlchemy; SQLite by default, PostgreSQL with a postgresql:// URL;
schema migrations with Alembic).

    store = HistoryStore.open("sqlite:///reports/history.sqlite")   # creates or migrates the schema
    add_history(report, store)          # findings get history.first_seen / history.new, in place
    store.record(report, report_path=..., deploy="a1b2c3d")
    store.trend("micropep.com")         # the site's scans, newest first
    store.last_report("micropep.com")   # the last scan's report.json, e.g. as a baseline

A site is its registrable domain (report.json `site.registrable_domain`): www. and other
subdomains are the same site, as for --baseline.
"""
from __future__ import annotations

from .store import HistoryError, HistoryStore, add_history, default_db_url, display_url

__all__ = ["HistoryError", "HistoryStore", "add_history", "default_db_url", "display_url"]
