"""chunk receipts

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sfs.metadata.types import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chunk_receipts",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("chunk_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_chunk_receipts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "organization_id", "chunk_id", "user_id", name=op.f("pk_chunk_receipts")
        ),
    )
    with op.batch_alter_table("chunk_receipts", schema=None) as batch_op:
        batch_op.create_index("ix_chunk_receipts_received_at", ["received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("chunk_receipts", schema=None) as batch_op:
        batch_op.drop_index("ix_chunk_receipts_received_at")
    op.drop_table("chunk_receipts")
