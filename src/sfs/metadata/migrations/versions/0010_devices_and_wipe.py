"""devices and remote wipe: a device's User-Agent and synced spaces, and its wipe state

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sfs.metadata.types import UtcDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("device_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_agent", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("synced_spaces", sa.String(length=600), nullable=True))
        batch_op.add_column(sa.Column("wipe_state", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("wipe_requested_at", UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("wipe_requested_by", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("wiped_at", UtcDateTime(), nullable=True))
        batch_op.create_check_constraint(
            "known_wipe_state", "wipe_state IN ('wipe_pending', 'wiped')"
        )


def downgrade() -> None:
    with op.batch_alter_table("device_tokens", schema=None) as batch_op:
        batch_op.drop_constraint("known_wipe_state", type_="check")
        batch_op.drop_column("wiped_at")
        batch_op.drop_column("wipe_requested_by")
        batch_op.drop_column("wipe_requested_at")
        batch_op.drop_column("wipe_state")
        batch_op.drop_column("synced_spaces")
        batch_op.drop_column("user_agent")
