"""Tables the WebDAV door needs beyond the file store: dead properties and locks.

Both live in the database, not in a process, so several instances behind a load balancer see
the same properties and honour the same locks.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from sfs.metadata.models import Base
from sfs.metadata.types import UtcDateTime


class NodeProperty(Base):
    """A property a client stored on a file or folder (PROPPATCH), kept as the XML it sent.

    It follows its node through moves and renames, is copied with it, and goes with it."""

    __tablename__ = "node_properties"

    node_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("nodes.id", ondelete="CASCADE"), primary_key=True
    )
    namespace: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    # The whole property element, serialised with its own namespace declarations.
    value_xml: Mapped[str] = mapped_column(Text)


class DavLock(Base):
    """A WebDAV lock on a path of a space (RFC 4918 class 2), until `expires_at`.

    Locks name paths, not nodes: a lock on a name that does not exist yet is possible, and a
    moved resource leaves its locks behind, as the RFC says."""

    __tablename__ = "dav_locks"

    token: Mapped[str] = mapped_column(String(80), primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    space_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("spaces.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    # The locked path as given, and its case-folded form the lock is matched by.
    path: Mapped[str] = mapped_column(Text)
    path_key: Mapped[str] = mapped_column(Text)
    exclusive: Mapped[bool] = mapped_column(Boolean)
    # Depth infinity: the lock covers everything below the path too.
    deep: Mapped[bool] = mapped_column(Boolean)
    owner_xml: Mapped[str | None] = mapped_column(Text, nullable=True)
    timeout_seconds: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
