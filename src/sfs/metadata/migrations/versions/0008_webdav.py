"""webdav: folder change stamps, dead properties, locks

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sfs.metadata.types import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("nodes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tree_seq", sa.BigInteger(), server_default="0", nullable=False)
        )
    op.create_table(
        "node_properties",
        sa.Column("node_id", sa.Uuid(), nullable=False),
        sa.Column("namespace", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("value_xml", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["node_id"],
            ["nodes.id"],
            name=op.f("fk_node_properties_node_id_nodes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("node_id", "namespace", "name", name=op.f("pk_node_properties")),
    )
    with op.batch_alter_table("node_properties", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_node_properties_organization_id"), ["organization_id"], unique=False
        )
    op.create_table(
        "dav_locks",
        sa.Column("token", sa.String(length=80), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("space_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("path_key", sa.Text(), nullable=False),
        sa.Column("exclusive", sa.Boolean(), nullable=False),
        sa.Column("deep", sa.Boolean(), nullable=False),
        sa.Column("owner_xml", sa.Text(), nullable=True),
        sa.Column("timeout_seconds", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["space_id"],
            ["spaces.id"],
            name=op.f("fk_dav_locks_space_id_spaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_dav_locks_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_dav_locks")),
    )
    with op.batch_alter_table("dav_locks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dav_locks_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_dav_locks_space_id"), ["space_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dav_locks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dav_locks_space_id"))
        batch_op.drop_index(batch_op.f("ix_dav_locks_organization_id"))
    op.drop_table("dav_locks")
    with op.batch_alter_table("node_properties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_node_properties_organization_id"))
    op.drop_table("node_properties")
    with op.batch_alter_table("nodes", schema=None) as batch_op:
        batch_op.drop_column("tree_seq")
