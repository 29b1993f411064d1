"""share links: public links to files and folders, and each organisation's link policy

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sfs.metadata.types import UtcDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "share_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("space_id", sa.Uuid(), nullable=False),
        sa.Column("node_id", sa.Uuid(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("expires_at", UtcDateTime(), nullable=True),
        sa.Column("max_downloads", sa.Integer(), nullable=True),
        sa.Column("download_count", sa.Integer(), nullable=False),
        sa.Column("upload_only", sa.Boolean(), nullable=False),
        sa.Column("can_edit", sa.Boolean(), nullable=False),
        sa.Column("notify_owner", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_share_links_created_by_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["node_id"], ["nodes.id"], name=op.f("fk_share_links_node_id_nodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_share_links_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["space_id"],
            ["spaces.id"],
            name=op.f("fk_share_links_space_id_spaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_links")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_share_links_token_digest")),
    )
    with op.batch_alter_table("share_links", schema=None) as batch_op:
        for column in ("created_by", "node_id", "organization_id", "space_id"):
            batch_op.create_index(batch_op.f(f"ix_share_links_{column}"), [column], unique=False)

    op.create_table(
        "link_policies",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("links_allowed", sa.Boolean(), nullable=False),
        sa.Column("password_required", sa.Boolean(), nullable=False),
        sa.Column("max_expiry_days", sa.Integer(), nullable=True),
        sa.Column("default_expiry_days", sa.Integer(), nullable=True),
        sa.Column("upload_only_allowed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_link_policies_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_link_policies")),
    )


def downgrade() -> None:
    op.drop_table("link_policies")
    with op.batch_alter_table("share_links", schema=None) as batch_op:
        for column in ("space_id", "organization_id", "node_id", "created_by"):
            batch_op.drop_index(batch_op.f(f"ix_share_links_{column}"))
    op.drop_table("share_links")
