"""node shares: files and folders shared with colleagues and groups; the internal sharing policy

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sfs.metadata.types import UtcDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "node_shares",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("space_id", sa.Uuid(), nullable=False),
        sa.Column("node_id", sa.Uuid(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("group_id", sa.Uuid(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "role IN ('viewer', 'editor')", name=op.f("ck_node_shares_known_share_role")
        ),
        sa.CheckConstraint(
            "(user_id IS NULL) <> (group_id IS NULL)", name=op.f("ck_node_shares_user_or_group")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_node_shares_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_node_shares_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["node_id"], ["nodes.id"], name=op.f("fk_node_shares_node_id_nodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_node_shares_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["space_id"],
            ["spaces.id"],
            name=op.f("fk_node_shares_space_id_spaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_node_shares_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_node_shares")),
        sa.UniqueConstraint("node_id", "group_id", name="uq_node_shares_group"),
        sa.UniqueConstraint("node_id", "user_id", name="uq_node_shares_user"),
    )
    with op.batch_alter_table("node_shares", schema=None) as batch_op:
        batch_op.create_index("ix_node_shares_group_id", ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_node_shares_node_id"), ["node_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_node_shares_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_node_shares_space_id"), ["space_id"], unique=False)
        batch_op.create_index("ix_node_shares_user_id", ["user_id"], unique=False)

    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "internal_sharing_allowed", sa.Boolean(), server_default=sa.true(), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("internal_sharing_allowed")

    with op.batch_alter_table("node_shares", schema=None) as batch_op:
        batch_op.drop_index("ix_node_shares_user_id")
        batch_op.drop_index(batch_op.f("ix_node_shares_space_id"))
        batch_op.drop_index(batch_op.f("ix_node_shares_organization_id"))
        batch_op.drop_index(batch_op.f("ix_node_shares_node_id"))
        batch_op.drop_index("ix_node_shares_group_id")

    op.drop_table("node_shares")
