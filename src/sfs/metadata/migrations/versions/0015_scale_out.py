"""scale out: background job leases shared by every instance; the request id of audit events

Additive only (a new table, a nullable column): instances of the previous release keep serving
while `sfs db upgrade` runs and until they are replaced.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sfs.metadata.types import UtcDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "background_jobs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=True),
        sa.Column("lease_until", UtcDateTime(), nullable=True),
        sa.Column("last_started_at", UtcDateTime(), nullable=True),
        sa.Column("last_finished_at", UtcDateTime(), nullable=True),
        sa.Column("last_holder", sa.String(length=128), nullable=True),
        sa.Column("last_outcome", sa.String(length=16), nullable=True),
        sa.Column("last_summary", sa.Text(), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_background_jobs")),
    )
    # A plain ADD COLUMN (no table rebuild on SQLite): the append-only triggers stay in place.
    op.add_column("audit_events", sa.Column("request_id", sa.String(length=128), nullable=True))


def downgrade() -> None:
    # Not a batch operation: on SQLite that rebuilds the table and loses the append-only
    # triggers. DROP COLUMN works in place (SQLite 3.35 and later, PostgreSQL).
    op.execute("ALTER TABLE audit_events DROP COLUMN request_id")
    op.drop_table("background_jobs")
