"""thumbnails: small pictures of image versions for the Files page, sealed at rest

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sfs.metadata.types import UtcDateTime

revision = "0020"
down_revision = "0019"  # 0013 as briefed; relinked after merging main (0014, 0015, 0019)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "thumbnails",
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("edge", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["versions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("version_id", "edge"),
    )
    with op.batch_alter_table("thumbnails", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_thumbnails_organization_id"), ["organization_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("thumbnails", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_thumbnails_organization_id"))
    op.drop_table("thumbnails")
