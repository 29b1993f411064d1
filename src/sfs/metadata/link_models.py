"""Tables of share links: the links themselves and each organisation's link policy."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from sfs.metadata.models import Base
from sfs.metadata.types import UtcDateTime


class ShareLink(Base):
    """A public link to a file or folder, on behalf of the member who created it.

    Only the token's SHA-256 digest is stored; the link follows its node through moves and
    renames, and dies with it."""

    __tablename__ = "share_links"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    space_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("spaces.id", ondelete="CASCADE"), index=True
    )
    node_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("nodes.id", ondelete="CASCADE"), index=True
    )
    created_by: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(Text, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    max_downloads: Mapped[int | None] = mapped_column(Integer, nullable=True)
    download_count: Mapped[int] = mapped_column(Integer, default=0)
    upload_only: Mapped[bool] = mapped_column(Boolean, default=False)
    can_edit: Mapped[bool] = mapped_column(Boolean, default=False)
    notify_owner: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class LinkPolicy(Base):
    """An organisation's rules for links; no row means the defaults (links allowed, free)."""

    __tablename__ = "link_policies"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    links_allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    password_required: Mapped[bool] = mapped_column(Boolean, default=False)
    max_expiry_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    default_expiry_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    upload_only_allowed: Mapped[bool] = mapped_column(Boolean, default=True)
