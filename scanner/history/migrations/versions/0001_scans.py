"""scans and their findings

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scans",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("site", sa.String(253), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("started_at", sa.String(32), nullable=False),
        sa.Column("finished_at", sa.String(32), nullable=True),
        sa.Column("deploy", sa.String(200), nullable=True),
        sa.Column("verdict", sa.String(32), nullable=False),
        sa.Column("complete", sa.Boolean, nullable=False),
        sa.Column("violations", sa.Integer, nullable=False),
        sa.Column("warnings", sa.Integer, nullable=False),
        sa.Column("infos", sa.Integer, nullable=False),
        sa.Column("states_reached", sa.Text, nullable=False),
        sa.Column("states_missing", sa.Text, nullable=False),
        sa.Column("report_path", sa.Text, nullable=True),
        sa.Column("report_json", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_scans_site", "scans", ["site"])
    op.create_index("ix_scans_started_at", "scans", ["started_at"])
    op.create_table(
        "scan_findings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("scan_id", sa.Integer, sa.ForeignKey("scans.id", ondelete="CASCADE"), nullable=False),
        sa.Column("problem_key", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("states", sa.Text, nullable=False),
    )
    op.create_index("ix_scan_findings_scan_id", "scan_findings", ["scan_id"])
    op.create_index("ix_scan_findings_problem_key", "scan_findings", ["problem_key"])


def downgrade() -> None:
    op.drop_table("scan_findings")
    op.drop_table("scans")
