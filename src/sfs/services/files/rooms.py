"""How much room a user or an organisation has left under its quota: what their files hold in the
chunk store (each chunk counted once however many versions share it) against the quota set."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from sfs.metadata.file_models import Chunk, Node, Space, Version, VersionChunk
from sfs.metadata.models import Organization, User


@dataclass(frozen=True)
class Room:
    quota: int
    used: int


@dataclass(frozen=True)
class Quotas:
    user: int | None  # None: no quota
    organisation: int | None

    @property
    def any(self) -> bool:
        return self.user is not None or self.organisation is not None


# Built once (asked at every small write): composing it each time cost more than running it.
_QUOTAS = select(
    select(User.quota_bytes).where(User.id == bindparam("user_id")).scalar_subquery(),
    select(Organization.quota_bytes)
    .where(Organization.id == bindparam("organization_id"))
    .scalar_subquery(),
)


def quotas(session: Session, user_id: uuid.UUID, organization_id: uuid.UUID) -> Quotas:
    """The user's and the organisation's quotas, in one query (asked at every small write, when
    usually neither is set)."""
    row = session.execute(_QUOTAS, {"user_id": user_id, "organization_id": organization_id}).one()
    return Quotas(user=row[0], organisation=row[1])


def organisation_room(session: Session, organization_id: uuid.UUID) -> Room | None:
    organisation = session.get(Organization, organization_id)
    assert organisation is not None
    if organisation.quota_bytes is None:
        return None
    return Room(organisation.quota_bytes, organisation_bytes(session, organization_id))


def organisation_bytes(session: Session, organization_id: uuid.UUID) -> int:
    """What the organisation's chunk store holds."""
    used = session.scalar(
        select(func.coalesce(func.sum(Chunk.length), 0)).where(
            Chunk.organization_id == organization_id
        )
    )
    return int(used or 0)


def user_room(session: Session, user_id: uuid.UUID, organization_id: uuid.UUID) -> Room | None:
    """The user's quota and what their files hold; None when the user has no quota."""
    user = session.get(User, user_id)
    if user is None or user.quota_bytes is None:
        return None
    return Room(user.quota_bytes, user_bytes(session, user_id, organization_id))


def user_bytes(session: Session, user_id: uuid.UUID, organization_id: uuid.UUID) -> int:
    """What the user's own files hold in the chunk store."""
    # The user's own files, each chunk counted once however many versions share it.
    referenced = (
        select(VersionChunk.chunk_id)
        .join(Version, Version.id == VersionChunk.version_id)
        .join(Node, Node.id == Version.node_id)
        .join(Space, Space.id == Node.space_id)
        .where(Space.owner_user_id == user_id, VersionChunk.organization_id == organization_id)
        .distinct()
    )
    used = session.scalar(
        select(func.coalesce(func.sum(Chunk.length), 0)).where(
            Chunk.organization_id == organization_id, Chunk.chunk_id.in_(referenced)
        )
    )
    return int(used or 0)
