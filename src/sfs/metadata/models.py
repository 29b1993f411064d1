"""Tables. Every table that holds tenant data carries `organization_id`."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Uuid,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from sfs.metadata.types import UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # Names are unique regardless of case; the folded form carries the unique index.
    name_key: Mapped[str] = mapped_column(String(100), unique=True)
    region: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(16), default="active")
    require_second_factor: Mapped[bool] = mapped_column(Boolean, default=False)
    allowed_second_factors: Mapped[str] = mapped_column(String(64), default="totp,email")
    min_password_length: Mapped[int] = mapped_column(Integer, default=12)
    session_idle_minutes: Mapped[int] = mapped_column(Integer, default=60)
    session_absolute_minutes: Mapped[int] = mapped_column(Integer, default=12 * 60)
    # Stored bytes after deduplication; None means no limit.
    quota_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Version retention: at most this many versions per file (the current one included), and
    # older versions only this many days. None: no limit.
    keep_versions: Mapped[int | None] = mapped_column(Integer, nullable=True)
    keep_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Whether members without a second factor may give their account password to WebDAV and
    # Nextcloud clients (Basic auth); app passwords always work. Off: app passwords only.
    allow_account_password_clients: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # Whether members may share their files and folders with colleagues and groups. Off: no
    # new shares, and existing ones grant nothing until it is on again.
    internal_sharing_allowed: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true()
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    users: Mapped[list[User]] = relationship(back_populates="organization")


class User(Base):
    """An account: provider admins have no organisation, everyone else exactly one."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "(role = 'provider_admin') = (organization_id IS NULL)",
            name="provider_admin_has_no_org",
        ),
        CheckConstraint("role IN ('provider_admin', 'org_admin', 'user')", name="known_role"),
        CheckConstraint("status IN ('active', 'disabled', 'invited')", name="known_status"),
        Index("ix_users_organization_id_display_name", "organization_id", "display_name"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=True
    )
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # Second factor: 'totp' or 'email' once enrolled, else None.
    second_factor_method: Mapped[str | None] = mapped_column(String(16), nullable=True)
    second_factor_enrolled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # The TOTP secret, sealed with AES-GCM under a key derived from the master key.
    totp_secret_sealed: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # The last accepted TOTP time step: a code's step is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    backup_key_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # Set when the second factor was reset or its Backup Key spent: a new authenticator app is
    # set up only after an emailed code proves the mailbox (the password alone is not enough).
    mailbox_proof_due: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Bytes of the user's own files (after deduplication within them); None means no limit.
    quota_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    organization: Mapped[Organization | None] = relationship(back_populates="users")


class WebSession(Base):
    """A browser session. Only a hash of the cookie value is stored."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    organization_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    client_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # 'active', or a pending stage after a correct password: 'second_factor' (a challenge to
    # answer) or 'enrolment' (a second factor to set up first). Pending sessions can do nothing
    # else and end at stage_expires_at.
    stage: Mapped[str] = mapped_column(String(24), default="active", server_default="active")
    stage_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class EmailCode(Base):
    """A one-time code sent by email. Only a keyed digest of the code is stored."""

    __tablename__ = "email_codes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    organization_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    code_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Set when used, or when a re-send replaced it: either way it no longer works.
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class AccountToken(Base):
    """A single-use link sent by email: a password reset (30 minutes) or an invitation (7 days)."""

    __tablename__ = "account_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    organization_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    purpose: Mapped[str] = mapped_column(String(24))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class DeviceToken(Base):
    """A revocable credential for one device: a bearer token of the sync client or a script
    (`kind` 'sync'), or an app password that WebDAV and Nextcloud clients send as their Basic
    password (`kind` 'app_password'). Both end the same ways (revoked, account disabled,
    password reset, second factor reset)."""

    __tablename__ = "device_tokens"
    __table_args__ = (
        CheckConstraint("kind IN ('sync', 'app_password')", name="known_kind"),
        CheckConstraint("wipe_state IN ('wipe_pending', 'wiped')", name="known_wipe_state"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    organization_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    client_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    kind: Mapped[str] = mapped_column(String(16), default="sync", server_default="sync")
    # Where it was last used from: a use from another address is audited.
    last_used_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The User-Agent it logged in with (updated when the device sends another): the Devices
    # page shows client, version and platform from it.
    user_agent: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # The spaces a sync client said it keeps in sync, one name a line (a few at most).
    synced_spaces: Mapped[str | None] = mapped_column(String(600), nullable=True)
    # Remote wipe: 'wipe_pending' from the request (the token is revoked at once, and answers
    # only the wipe check and confirmation), 'wiped' once the device confirmed it.
    wipe_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    wipe_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    wipe_requested_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    wiped_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class AuditEvent(Base):
    """Append-only: database triggers refuse UPDATE and DELETE (see the initial migration).

    Ids and emails are copied rather than referenced, so the trail outlives deleted accounts.
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_organization_id_id", "organization_id", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    event_type: Mapped[str] = mapped_column(String(64))
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    actor_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    target_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    target_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    client_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(255), nullable=True)
    details: Mapped[str] = mapped_column(Text, default="{}")
    # The request that caused it (X-Request-ID, also in the logs); none for commands.
    request_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
