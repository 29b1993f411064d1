"""Groups of an organisation's users and the members of team folders (spaces of kind 'team')."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from sfs.metadata.models import Base
from sfs.metadata.types import UtcDateTime


class Group(Base):
    """A named set of one organisation's users, managed by its organisation admins."""

    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("organization_id", "name_key", name="uq_groups_name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    # The name case-folded: two groups may not differ only in case.
    name_key: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class GroupMember(Base):
    __tablename__ = "group_members"

    group_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SpaceMember(Base):
    """A user or a group given a role on a team folder. Deleting a user or group drops only
    its membership: the folder and its files belong to the organisation and stay."""

    __tablename__ = "space_members"
    __table_args__ = (
        CheckConstraint("role IN ('viewer', 'editor', 'manager')", name="known_space_role"),
        CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)", name="user_or_group"),
        UniqueConstraint("space_id", "user_id", name="uq_space_members_user"),
        UniqueConstraint("space_id", "group_id", name="uq_space_members_group"),
        Index("ix_space_members_user_id", "user_id"),
        Index("ix_space_members_group_id", "group_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    space_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("spaces.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=True
    )
    group_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("groups.id", ondelete="CASCADE"), nullable=True
    )
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
