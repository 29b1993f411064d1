"""Tables of the Nextcloud client protocol: Login Flow v2 and chunked uploads (v2).

Both live in the database, not in a process: a client may poll, or send the next chunk, to
another instance behind the load balancer than the one it started with.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from sfs.metadata.models import Base
from sfs.metadata.types import UtcDateTime


class LoginFlow(Base):
    """A device asking for an app password (Login Flow v2), until `expires_at`.

    Its two secrets are stored as digests: the poll token the device polls with, and the login
    token in the address the user opens in a browser. Once the user grants access, the next poll
    is answered with a new app password, once (`collected_at`)."""

    __tablename__ = "login_flows"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    poll_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    login_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # What the device calls itself (its User-Agent): the app password's name.
    client_name: Mapped[str] = mapped_column(String(100))
    client_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    # Whose it is, once the user granted it: no tenant's data before that.
    organization_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=True
    )
    granted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    collected_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class UploadSession(Base):
    """A chunked upload in progress (`/remote.php/dav/uploads/{user}/{transfer_id}`): its parts
    arrive one request at a time, possibly at different instances, and become one file version
    when the client moves `.file` into place. Idle longer than a day, it is dropped."""

    __tablename__ = "upload_sessions"
    __table_args__ = (UniqueConstraint("user_id", "transfer_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    space_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("spaces.id", ondelete="CASCADE"), index=True
    )
    transfer_id: Mapped[str] = mapped_column(String(255))
    # What the client announced: the file's whole length and where it goes (both optional).
    total_length: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    destination: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    touched_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class UploadPart(Base):
    """One numbered part of a chunked upload, received whole: its bytes are in the chunk store."""

    __tablename__ = "upload_parts"

    session_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("upload_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    number: Mapped[int] = mapped_column(BigInteger)  # the name's value: parts join in its order
    size: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class UploadPartChunk(Base):
    """The chunks a part was cut into, in order. Garbage collection keeps these chunks, which no
    version references yet, for as long as the upload lives."""

    __tablename__ = "upload_part_chunks"
    __table_args__ = (
        ForeignKeyConstraint(
            ["session_id", "part_name"],
            ["upload_parts.session_id", "upload_parts.name"],
            ondelete="CASCADE",
        ),
        Index("ix_upload_part_chunks_organization_id_chunk_id", "organization_id", "chunk_id"),
    )

    session_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    part_name: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    chunk_id: Mapped[str] = mapped_column(String(64))
    plain_size: Mapped[int] = mapped_column(Integer)


class OcsShareNumber(Base):
    """The number the Nextcloud clients know a link or a share by.

    Their share ids are integers (the Android app parses them as 32-bit ones), ours UUIDs: a
    link or share gets the next number the first time the OCS door shows it. Numbers are never
    reused (SQLite AUTOINCREMENT, a PostgreSQL identity), so an old number held by a client
    cannot name someone's newer share. A number only names; reaching what it names is checked
    by the sharing services as for any id."""

    __tablename__ = "ocs_share_numbers"
    __table_args__ = (
        CheckConstraint("(link_id IS NULL) <> (share_id IS NULL)", name="link_or_share"),
        {"sqlite_autoincrement": True},
    )

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    link_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("share_links.id", ondelete="CASCADE"), unique=True, nullable=True
    )
    share_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("node_shares.id", ondelete="CASCADE"), unique=True, nullable=True
    )
