"""Tables of the file store: spaces, nodes, versions and their manifests, chunks, the journal.

Every row carries `organization_id`: queries are scoped by it, and chunk ids are only unique
within one organisation (their hash is keyed per organisation).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from sfs.metadata.models import Base
from sfs.metadata.types import UtcDateTime


class OrganizationKeys(Base):
    """The organisation's data key and chunk-id key, wrapped by the server's master key."""

    __tablename__ = "organization_keys"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    wrapped: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    rewrapped_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class Space(Base):
    """A root of files: a user's My Files, or (later) a team folder."""

    __tablename__ = "spaces"
    __table_args__ = (
        Index(
            "uq_spaces_personal_owner",
            "owner_user_id",
            unique=True,
            sqlite_where=text("kind = 'personal'"),
            postgresql_where=text("kind = 'personal'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    owner_user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=True
    )
    name: Mapped[str] = mapped_column(String(255))
    root_node_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # The last journal sequence number handed out: the sync cursor's upper bound.
    journal_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # Cursors below this belong to a history the server no longer holds (it was restored from a
    # backup): the feed refuses them, and clients list the space afresh.
    journal_floor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Node(Base):
    """A file or folder. A trashed node has `deleted_at`; its descendants go with it."""

    __tablename__ = "nodes"
    __table_args__ = (
        # Siblings may not differ only in case (Windows and macOS clients could not hold both).
        Index(
            "uq_nodes_live_sibling_name",
            "space_id",
            "parent_id",
            "name_key",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_nodes_parent_id", "parent_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    space_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("spaces.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("nodes.id", ondelete="CASCADE"), nullable=True
    )
    name: Mapped[str] = mapped_column(String(255))
    name_key: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(8))
    current_version_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    modified_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # The journal number of the last change at or below this node: a folder's ETag, which
    # changes whenever anything inside it does (WebDAV and Nextcloud clients descend on it).
    tree_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class Version(Base):
    """One content of a file: its manifest is the ordered list of chunk ids in VersionChunk."""

    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("node_id", "number"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    node_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("nodes.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(BigInteger)
    # A digest of the manifest: equal content, equal digest. Serves as the HTTP ETag.
    content_digest: Mapped[str] = mapped_column(String(64))
    # The content's SHA1 (hex), kept when the server saw the whole content pass in order (the
    # Nextcloud clients and rclone compare it); None for a sync client's manifest of chunks.
    sha1: Mapped[str | None] = mapped_column(String(40), nullable=True)
    modified_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    author_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    device_name: Mapped[str | None] = mapped_column(String(100), nullable=True)


class VersionChunk(Base):
    __tablename__ = "version_chunks"
    __table_args__ = (
        Index("ix_version_chunks_organization_id_chunk_id", "organization_id", "chunk_id"),
    )

    version_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    chunk_id: Mapped[str] = mapped_column(String(64))
    plain_size: Mapped[int] = mapped_column(Integer)


class Chunk(Base):
    """Where an organisation's chunk lives: a byte range of an encrypted pack blob."""

    __tablename__ = "chunks"

    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    chunk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    pack_id: Mapped[str] = mapped_column(String(64), index=True)
    offset: Mapped[int] = mapped_column(BigInteger)
    length: Mapped[int] = mapped_column(Integer)
    plain_size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The member whose upload stored this chunk, and when: their receipt (see ChunkReceipt) kept
    # on the row itself, so a first upload writes one row per chunk instead of two. Cleared by
    # the garbage collector after its grace period, as a receipt is dropped. No foreign key: a
    # user's id is never reused, so one of a deleted user grants nothing until it is cleared,
    # and a foreign key's ON DELETE would want an index here that every upload would pay for.
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    uploaded_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ChunkReceipt(Base):
    """A chunk's bytes received from this user, who so proved they hold its content.

    Knowing a chunk id is not a right to it (ids can be computed for guessed content): a chunk is
    used only through a version in a space the user may read, or on such a receipt, which lets
    an upload commit chunks that no version of theirs references yet. Receipts bridge the upload
    and its commit; the garbage collector drops them after its grace period. The upload that
    stores a chunk first keeps its receipt on the chunk row (`Chunk.uploaded_by`); these rows
    are for the members who send a chunk the organisation holds already.
    """

    __tablename__ = "chunk_receipts"
    __table_args__ = (Index("ix_chunk_receipts_received_at", "received_at"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    chunk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class JournalEntry(Base):
    """One change in a space, numbered without gaps per space: the sync protocol's cursor."""

    __tablename__ = "journal"
    __table_args__ = (UniqueConstraint("space_id", "seq"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    space_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("spaces.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    node_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    operation: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(Text)
    old_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    version_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Thumbnail(Base):
    """A small picture of one image version, sealed under the organisation's data key; `sealed`
    None remembers that the version makes no thumbnail (not an image, too large, hostile), so it
    is not decoded again. Goes with its version (cascade)."""

    __tablename__ = "thumbnails"

    version_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True
    )
    edge: Mapped[int] = mapped_column(Integer, primary_key=True)  # the longer side, in pixels
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
