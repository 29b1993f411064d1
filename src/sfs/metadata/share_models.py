"""Shares of a file or folder with a colleague or a group of the same organisation."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from sfs.metadata.models import Base
from sfs.metadata.types import UtcDateTime


class NodeShare(Base):
    """A node (and everything below it) shared with one user or one group as Viewer or Editor.

    It follows its node through moves and renames and dies with it (the row cascades when the
    node is purged; a node in the trash grants nothing, checked at each use)."""

    __tablename__ = "node_shares"
    __table_args__ = (
        CheckConstraint("role IN ('viewer', 'editor')", name="known_share_role"),
        CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)", name="user_or_group"),
        UniqueConstraint("node_id", "user_id", name="uq_node_shares_user"),
        UniqueConstraint("node_id", "group_id", name="uq_node_shares_group"),
        Index("ix_node_shares_user_id", "user_id"),
        Index("ix_node_shares_group_id", "group_id"),
    )

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
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=True
    )
    group_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("groups.id", ondelete="CASCADE"), nullable=True
    )
    role: Mapped[str] = mapped_column(String(16))
    # The space's journal number when the share was made: its change feed starts after it,
    # so a recipient never reads what happened at these paths before they were shared.
    created_seq: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
