"""second factor and account tokens

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sfs.metadata.types import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("purpose", sa.String(length=24), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("used_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_account_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_tokens_token_hash")),
    )
    with op.batch_alter_table("account_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_account_tokens_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_account_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "email_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("code_digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_email_codes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_codes")),
    )
    with op.batch_alter_table("email_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_email_codes_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_email_codes_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch_op.add_column(sa.Column("second_factor_method", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("second_factor_enrolled_at", UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("totp_secret_sealed", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("backup_key_hash", sa.String(length=255), nullable=True))

    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stage", sa.String(length=24), server_default="active", nullable=False)
        )
        batch_op.add_column(sa.Column("stage_expires_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_column("stage_expires_at")
        batch_op.drop_column("stage")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("backup_key_hash")
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_secret_sealed")
        batch_op.drop_column("second_factor_enrolled_at")
        batch_op.drop_column("second_factor_method")
        batch_op.drop_column("must_change_password")

    with op.batch_alter_table("email_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_codes_user_id"))
        batch_op.drop_index(batch_op.f("ix_email_codes_organization_id"))

    op.drop_table("email_codes")
    with op.batch_alter_table("account_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_tokens_user_id"))
        batch_op.drop_index(batch_op.f("ix_account_tokens_organization_id"))

    op.drop_table("account_tokens")
