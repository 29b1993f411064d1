"""app passwords: device tokens of a kind, and the organisation's account-password setting

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("device_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="sync", nullable=False)
        )
        batch_op.add_column(sa.Column("last_used_address", sa.String(length=64), nullable=True))
        batch_op.create_check_constraint("known_kind", "kind IN ('sync', 'app_password')")
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "allow_account_password_clients",
                sa.Boolean(),
                server_default=sa.false(),
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("allow_account_password_clients")
    with op.batch_alter_table("device_tokens", schema=None) as batch_op:
        batch_op.drop_constraint("known_kind", type_="check")
        batch_op.drop_column("last_used_address")
        batch_op.drop_column("kind")
