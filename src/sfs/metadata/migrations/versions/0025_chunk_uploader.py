"""chunk_uploader: the upload that stored a chunk keeps its receipt on the chunk row

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sfs.metadata.types import UtcDateTime

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Additive: chunks stored before keep their receipts in chunk_receipts, which still count.
    with op.batch_alter_table("chunks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uploaded_by", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("uploaded_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    # The uploads' receipts go back to chunk_receipts, so their commits still go through.
    op.execute(
        """
        INSERT INTO chunk_receipts (organization_id, chunk_id, user_id, received_at)
        SELECT c.organization_id, c.chunk_id, c.uploaded_by, c.uploaded_at FROM chunks c
        WHERE c.uploaded_by IS NOT NULL
          AND EXISTS (SELECT 1 FROM users u WHERE u.id = c.uploaded_by)
          AND NOT EXISTS (
            SELECT 1 FROM chunk_receipts r
            WHERE r.organization_id = c.organization_id AND r.chunk_id = c.chunk_id
              AND r.user_id = c.uploaded_by
          )
        """
    )
    with op.batch_alter_table("chunks", schema=None) as batch_op:
        batch_op.drop_column("uploaded_at")
        batch_op.drop_column("uploaded_by")
