"""Alembic environment of the history database (run by HistoryStore.open, or by hand:
`alembic -x url=sqlite:///reports/history.sqlite -c scanner/history/alembic.ini upgrade head`)."""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from scanner.history.models import Base

config = context.config


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    with create_engine(url).connect() as conn:
        _run(conn)
        conn.commit()
