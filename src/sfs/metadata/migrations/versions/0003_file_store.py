"""file store

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sfs.metadata.types import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chunks",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("chunk_id", sa.String(length=64), nullable=False),
        sa.Column("pack_id", sa.String(length=64), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("plain_size", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("organization_id", "chunk_id", name=op.f("pk_chunks")),
    )
    with op.batch_alter_table("chunks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chunks_pack_id"), ["pack_id"], unique=False)

    op.create_table(
        "organization_keys",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("wrapped", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("rewrapped_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_organization_keys_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_organization_keys")),
    )
    op.create_table(
        "spaces",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("owner_user_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("root_node_id", sa.Uuid(), nullable=False),
        sa.Column("journal_seq", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_spaces_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_user_id"],
            ["users.id"],
            name=op.f("fk_spaces_owner_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spaces")),
    )
    with op.batch_alter_table("spaces", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_spaces_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(
            "uq_spaces_personal_owner",
            ["owner_user_id"],
            unique=True,
            sqlite_where=sa.text("kind = 'personal'"),
            postgresql_where=sa.text("kind = 'personal'"),
        )

    op.create_table(
        "journal",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("space_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("node_id", sa.Uuid(), nullable=False),
        sa.Column("operation", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("old_path", sa.Text(), nullable=True),
        sa.Column("version_id", sa.Uuid(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["space_id"], ["spaces.id"], name=op.f("fk_journal_space_id_spaces"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal")),
        sa.UniqueConstraint("space_id", "seq", name=op.f("uq_journal_space_id_seq")),
    )
    op.create_table(
        "nodes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("space_id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("name_key", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("current_version_id", sa.Uuid(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("modified_at", UtcDateTime(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("deleted_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["nodes.id"], name=op.f("fk_nodes_parent_id_nodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["space_id"], ["spaces.id"], name=op.f("fk_nodes_space_id_spaces"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nodes")),
    )
    with op.batch_alter_table("nodes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_nodes_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index("ix_nodes_parent_id", ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_nodes_space_id"), ["space_id"], unique=False)
        batch_op.create_index(
            "uq_nodes_live_sibling_name",
            ["space_id", "parent_id", "name_key"],
            unique=True,
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("node_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_digest", sa.String(length=64), nullable=False),
        sa.Column("modified_at", UtcDateTime(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("author_user_id", sa.Uuid(), nullable=True),
        sa.Column("device_name", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["node_id"], ["nodes.id"], name=op.f("fk_versions_node_id_nodes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_versions")),
        sa.UniqueConstraint("node_id", "number", name=op.f("uq_versions_node_id_number")),
    )
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_versions_node_id"), ["node_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_versions_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "version_chunks",
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("chunk_id", sa.String(length=64), nullable=False),
        sa.Column("plain_size", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["versions.id"],
            name=op.f("fk_version_chunks_version_id_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "position", name=op.f("pk_version_chunks")),
    )
    with op.batch_alter_table("version_chunks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_version_chunks_organization_id_chunk_id",
            ["organization_id", "chunk_id"],
            unique=False,
        )

    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quota_bytes", sa.BigInteger(), nullable=True))

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quota_bytes", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("quota_bytes")

    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("quota_bytes")

    with op.batch_alter_table("version_chunks", schema=None) as batch_op:
        batch_op.drop_index("ix_version_chunks_organization_id_chunk_id")

    op.drop_table("version_chunks")
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_versions_organization_id"))
        batch_op.drop_index(batch_op.f("ix_versions_node_id"))

    op.drop_table("versions")
    with op.batch_alter_table("nodes", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_nodes_live_sibling_name",
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_nodes_space_id"))
        batch_op.drop_index("ix_nodes_parent_id")
        batch_op.drop_index(batch_op.f("ix_nodes_organization_id"))

    op.drop_table("nodes")
    op.drop_table("journal")
    with op.batch_alter_table("spaces", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_spaces_personal_owner",
            sqlite_where=sa.text("kind = 'personal'"),
            postgresql_where=sa.text("kind = 'personal'"),
        )
        batch_op.drop_index(batch_op.f("ix_spaces_organization_id"))

    op.drop_table("spaces")
    op.drop_table("organization_keys")
    with op.batch_alter_table("chunks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chunks_pack_id"))

    op.drop_table("chunks")
