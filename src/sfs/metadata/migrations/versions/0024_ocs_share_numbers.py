"""ocs_share_numbers: the integer ids the Nextcloud clients know links and shares by

Revision ID: 0024
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Additive: existing links and shares get their numbers when the OCS door first shows them.
    op.create_table(
        "ocs_share_numbers",
        sa.Column("number", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=True),
        sa.Column("share_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "(link_id IS NULL) <> (share_id IS NULL)",
            name=op.f("ck_ocs_share_numbers_link_or_share"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_ocs_share_numbers_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["share_links.id"],
            name=op.f("fk_ocs_share_numbers_link_id_share_links"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["share_id"],
            ["node_shares.id"],
            name=op.f("fk_ocs_share_numbers_share_id_node_shares"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_ocs_share_numbers")),
        sa.UniqueConstraint("link_id", name=op.f("uq_ocs_share_numbers_link_id")),
        sa.UniqueConstraint("share_id", name=op.f("uq_ocs_share_numbers_share_id")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("ocs_share_numbers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ocs_share_numbers_organization_id"), ["organization_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ocs_share_numbers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ocs_share_numbers_organization_id"))
    op.drop_table("ocs_share_numbers")
