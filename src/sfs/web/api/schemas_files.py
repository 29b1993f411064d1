"""Wire models of the files API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from sfs.protocol.limits import MAX_VERSION
from sfs.services.files.content import MAX_FETCH
from sfs.services.files.nodes import NodeView
from sfs.services.files.spaces import SpaceView
from sfs.services.files.versions import VersionView
from sfs.web.api.params import CHUNK_ID_PATTERN
from sfs.web.api.ranges import FileTime, VersionNumber
from sfs.web.api.schemas import JsonInt, Problem

PATH = Field(max_length=4096, description="'/' separated, from the space's top folder")
ChunkIdText = Annotated[str, Field(pattern=CHUNK_ID_PATTERN)]
# Positions in a manifest are 32-bit integers in the database, like version numbers.
MAX_POSITION = MAX_VERSION


class SpaceOut(BaseModel):
    id: uuid.UUID
    name: str
    kind: str = Field(
        description="'personal' (My Files), 'team' (a team folder) or 'share' (a folder a "
        "colleague shares with you: its id is the share's)"
    )
    cursor: int = Field(description="the space's latest journal sequence number")
    role: str = Field(description="'owner' of My Files; 'viewer', 'editor' or 'manager'")

    @classmethod
    def of(cls, view: SpaceView) -> SpaceOut:
        return cls(
            id=view.id,
            name=view.name,
            kind=view.kind,
            cursor=view.journal_seq,
            role=view.role.value,
        )


class NodeOut(BaseModel):
    id: uuid.UUID
    name: str
    path: str
    kind: str = Field(description="'file' or 'folder'")
    size: int
    modified_at: datetime
    version: int | None
    etag: str | None = Field(description="changes exactly when the content does")
    deleted_at: datetime | None = None

    @classmethod
    def of(cls, view: NodeView) -> NodeOut:
        return cls(
            id=view.id,
            name=view.name,
            path=view.path,
            kind=view.kind,
            size=view.size,
            modified_at=view.modified_at,
            version=view.version,
            etag=view.content_digest,
            deleted_at=view.deleted_at,
        )


class VersionOut(BaseModel):
    number: int
    size: int
    modified_at: datetime
    created_at: datetime
    etag: str
    device_name: str | None
    current: bool

    @classmethod
    def of(cls, view: VersionView) -> VersionOut:
        return cls(
            number=view.number,
            size=view.size,
            modified_at=view.modified_at,
            created_at=view.created_at,
            etag=view.content_digest,
            device_name=view.device_name,
            current=view.current,
        )


class PathBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = PATH


class FoldersBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    paths: list[Annotated[str, PATH]] = Field(min_length=1, max_length=1000)


class FolderResult(BaseModel):
    path: str
    node: NodeOut | None = None
    error: Problem | None = None


class FoldersOut(BaseModel):
    results: list[FolderResult]


class MoveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str = PATH
    target: str = PATH


class RestoreVersionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = PATH
    number: VersionNumber


class ChunkIds(BaseModel):
    model_config = ConfigDict(extra="forbid")
    chunk_ids: list[ChunkIdText] = Field(max_length=10_000)


class FetchChunkIds(BaseModel):
    model_config = ConfigDict(extra="forbid")
    chunk_ids: list[ChunkIdText] = Field(max_length=MAX_FETCH)


class MissingChunks(BaseModel):
    missing: list[str]


class ManifestEntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    chunk_id: ChunkIdText
    size: JsonInt = Field(ge=0, le=16 * 1024 * 1024)


class BaseRunIn(BaseModel):
    """`count` chunks of the base version's manifest from position `from_base` on."""

    model_config = ConfigDict(extra="forbid")
    from_base: JsonInt = Field(ge=0, le=MAX_POSITION)
    count: JsonInt = Field(ge=1, le=MAX_POSITION)


class CommitBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = PATH
    # 1,000,000 entries (a new file of about 24 GB) fit in /commit's body cap of 100 MiB.
    manifest: list[ManifestEntryIn | BaseRunIn] = Field(
        max_length=1_000_000,
        description="chunks in order; runs of the base version's chunks may stand for many",
    )
    modified_at: FileTime
    base_version: VersionNumber | None = Field(
        default=None, description="the version this content replaces; null for a new file"
    )
    device_name: str | None = Field(default=None, max_length=100)


class ChunkTierOut(BaseModel):
    from_size: int = Field(description="files of this many bytes or more (to the next tier)")
    min_size: int
    avg_size: int
    max_size: int


class ChunkingOut(BaseModel):
    min_size: int = Field(description="the first tier's: a client that knows no tiers cuts so")
    avg_size: int
    max_size: int
    tiers: list[ChunkTierOut] = Field(
        description="the FastCDC sizes by file size, the first from 0; a file whose size is "
        "not known in advance is cut with the first"
    )
    chunk_id_key: str = Field(description="base64; ids are keyed BLAKE3 of the plaintext")
    seed: int = Field(description="the organisation's FastCDC seed")
    batch_max_bytes: int = Field(description="the largest body `POST /chunks/batch` takes")


class CommitBatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    commits: list[CommitBody] = Field(max_length=5000)


class CommitResult(BaseModel):
    path: str
    node: NodeOut | None = None
    error: Problem | None = None


class CommitBatchOut(BaseModel):
    results: list[CommitResult]


class ChangeOut(BaseModel):
    seq: int
    operation: str = Field(description="create, update, move or delete")
    kind: str
    node_id: uuid.UUID
    path: str
    old_path: str | None
    version_id: uuid.UUID | None
    size: int
    occurred_at: datetime
    version: int | None = Field(description="of a file's create or update: its version number")
    content_digest: str | None = Field(description="of that version: its ETag")


class ChangesOut(BaseModel):
    changes: list[ChangeOut]
    cursor: int = Field(description="pass back as `cursor` to continue after these")
    more: bool = Field(description="another page is waiting: ask again at once")


class ChunkBatchOut(BaseModel):
    stored: int = Field(description="how many of the chunks were new to the server")


class SnapshotOut(BaseModel):
    cursor: int = Field(description="the journal sequence the listing is current at")
    nodes: list[NodeOut]


class ManifestEntryOut(BaseModel):
    chunk_id: str
    size: int


class FileWanted(BaseModel):
    model_config = ConfigDict(extra="forbid")
    node_id: uuid.UUID
    version: VersionNumber | None = Field(default=None, description="the current one when absent")


class ManifestsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # 2,000 of the largest fit in the 256 KiB body cap (a client asks 1,000 at a time).
    files: list[FileWanted] = Field(min_length=1, max_length=2000)


class FileManifestOut(BaseModel):
    node_id: uuid.UUID
    version: int | None = None
    size: int | None = None
    modified_at: datetime | None = None
    content_digest: str | None = None
    chunks: list[ManifestEntryOut] = Field(default_factory=list)
    error: Problem | None = None


class ManifestsOut(BaseModel):
    results: list[FileManifestOut]


class ManifestOut(BaseModel):
    node: NodeOut
    version: int
    chunks: list[ManifestEntryOut]
