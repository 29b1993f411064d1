"""journal floor: the oldest cursor a space's change feed still answers (raised by a restore)

Revision ID: 0019
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0015"  # 0013 as briefed; relinked after merging `scale` (0015)
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("spaces", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("journal_floor", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("spaces", schema=None) as batch_op:
        batch_op.drop_column("journal_floor")
