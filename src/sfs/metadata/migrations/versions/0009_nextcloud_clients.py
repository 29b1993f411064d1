"""nextcloud clients: login flows (Login Flow v2), chunked upload sessions and their parts

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sfs.metadata.types import UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_flows",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("poll_token_hash", sa.String(length=64), nullable=False),
        sa.Column("login_token_hash", sa.String(length=64), nullable=False),
        sa.Column("client_name", sa.String(length=100), nullable=False),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("granted_at", UtcDateTime(), nullable=True),
        sa.Column("collected_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_login_flows_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_flows")),
        sa.UniqueConstraint("login_token_hash", name=op.f("uq_login_flows_login_token_hash")),
        sa.UniqueConstraint("poll_token_hash", name=op.f("uq_login_flows_poll_token_hash")),
    )
    with op.batch_alter_table("login_flows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_flows_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_login_flows_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "upload_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("space_id", sa.Uuid(), nullable=False),
        sa.Column("transfer_id", sa.String(length=255), nullable=False),
        sa.Column("total_length", sa.BigInteger(), nullable=True),
        sa.Column("destination", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("touched_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["space_id"],
            ["spaces.id"],
            name=op.f("fk_upload_sessions_space_id_spaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_upload_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upload_sessions")),
        sa.UniqueConstraint(
            "user_id", "transfer_id", name=op.f("uq_upload_sessions_user_id_transfer_id")
        ),
    )
    with op.batch_alter_table("upload_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_upload_sessions_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_upload_sessions_space_id"), ["space_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_upload_sessions_touched_at"), ["touched_at"], unique=False
        )

    op.create_table(
        "upload_parts",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["upload_sessions.id"],
            name=op.f("fk_upload_parts_session_id_upload_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "name", name=op.f("pk_upload_parts")),
    )
    op.create_table(
        "upload_part_chunks",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("part_name", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("chunk_id", sa.String(length=64), nullable=False),
        sa.Column("plain_size", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id", "part_name"],
            ["upload_parts.session_id", "upload_parts.name"],
            name=op.f("fk_upload_part_chunks_session_id_upload_parts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "session_id", "part_name", "position", name=op.f("pk_upload_part_chunks")
        ),
    )
    with op.batch_alter_table("upload_part_chunks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_upload_part_chunks_organization_id_chunk_id",
            ["organization_id", "chunk_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("upload_part_chunks", schema=None) as batch_op:
        batch_op.drop_index("ix_upload_part_chunks_organization_id_chunk_id")

    op.drop_table("upload_part_chunks")
    op.drop_table("upload_parts")
    with op.batch_alter_table("upload_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_upload_sessions_touched_at"))
        batch_op.drop_index(batch_op.f("ix_upload_sessions_space_id"))
        batch_op.drop_index(batch_op.f("ix_upload_sessions_organization_id"))

    op.drop_table("upload_sessions")
    with op.batch_alter_table("login_flows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_flows_organization_id"))
        batch_op.drop_index(batch_op.f("ix_login_flows_expires_at"))

    op.drop_table("login_flows")
