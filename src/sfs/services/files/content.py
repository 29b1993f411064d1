"""File content in and out of the chunk store: whole-file uploads and downloads, single chunks.

An upload cuts the stream into chunks, stores only those the organisation lacks, records where
they landed once their pack is durable, and only then commits the version (one transaction).
A crash at any point leaves the old version visible, or the new one; never a torn file.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sfs.blobs.chunk_store import ChunkStore
from sfs.blobs.packs import ChunkLocation
from sfs.blobs.packs import StoredChunk as PackedChunk
from sfs.crypto.chunk_aead import SEAL_OVERHEAD
from sfs.crypto.keys import OrganisationKeys
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.errors import CorruptChunk, DamagedFile, InvalidInput, MissingChunk, NotFound
from sfs.domain.validation import check_time
from sfs.i18n import N_
from sfs.protocol.chunk_frames import HEADER_BYTES, framed_blocks
from sfs.protocol.chunk_ids import is_chunk_id
from sfs.protocol.chunking import SupportsRead
from sfs.services.files.content_upload import (
    ContentUpload,
    UploadTarget,
    pour,
    record_packed,
)
from sfs.services.files.nodes import NodeView
from sfs.services.files.versions import ChunkRow, FileVersionService
from sfs.services.storage.keyring import Keyring

MAX_FETCH = 1000


@dataclass(frozen=True)
class Fetched:
    """Framed chunks as a stream of blocks, and its length in bytes."""

    length: int
    blocks: Iterator[memoryview]


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive, as in HTTP

    @property
    def length(self) -> int:
        return self.end - self.start + 1


@dataclass(frozen=True)
class Download:
    node: NodeView
    body: Iterator[bytes]
    byte_range: ByteRange | None


class FileContentService:
    def __init__(self, store: ChunkStore, keyring: Keyring, versions: FileVersionService) -> None:
        self._store = store
        self._keyring = keyring
        self._versions = versions

    def start_upload(
        self, actor: Actor, target: UploadTarget, *, declared_size: int | None = None
    ) -> ContentUpload:
        """An upload the caller pushes block by block (a web door, between awaits)."""
        # Refused before a byte is read; the commit at the end checks it again.
        check_time(target.modified_at, field="modified_at")
        if declared_size is not None:
            self._versions.check_room(actor, declared_size)
            if target.size is None:
                target = replace(target, size=declared_size)
        return ContentUpload(self._store, self._versions, self._keys(actor), actor, target)

    def upload(
        self,
        actor: Actor,
        *,
        space_id: uuid.UUID,
        path: str,
        source: SupportsRead | Iterable[bytes],
        modified_at: datetime,
        base_version: int | None,
        client: ClientInfo,
        declared_size: int | None = None,
        device_name: str | None = None,
    ) -> NodeView:
        """Store a whole file from a stream of any size, with flat memory."""
        target = UploadTarget(space_id, path, modified_at, base_version, client, device_name)
        return pour(self.start_upload(actor, target, declared_size=declared_size), source)

    def _record(self, actor: Actor, packed: Sequence[PackedChunk]) -> None:
        record_packed(self._versions, actor, packed)

    def put_chunks(self, actor: Actor, chunks: Sequence[tuple[str, bytes | memoryview]]) -> int:
        """Store chunks a client cut itself, each checked against its id; returns the new count.

        A chunk the organisation holds already (another member stored the same content) is
        checked against its id and recorded as the actor's, not stored again. Every chunk is
        checked before anything is kept: one forged chunk and nothing changes.
        """
        keys = self._keys(actor)
        for chunk_id, _ in chunks:
            if not is_chunk_id(chunk_id):
                raise InvalidInput(
                    N_("%(chunk_id)s is not a chunk id.", chunk_id=repr(chunk_id[:80])),
                    field="chunk_id",
                )
        held = self._versions.chunk_access(actor, [chunk_id for chunk_id, _ in chunks])
        fresh = [(chunk_id, data) for chunk_id, data in chunks if chunk_id not in held]
        proven = [chunk_id for chunk_id, _ in chunks if held.get(chunk_id) is False]
        for chunk_id, data in chunks:
            if held.get(chunk_id) is not True:
                self._store.verify_chunk(keys, data, expected_id=chunk_id)
        self._versions.check_room(actor, sum(len(data) + SEAL_OVERHEAD for _, data in fresh))
        with self._store.writer(keys, batch=[len(data) for _, data in fresh]) as writer:
            for chunk_id, data in fresh:  # sealed straight into the pack, no copy in between
                self._record(actor, writer.seal(chunk_id, data))
            self._record(actor, writer.flush())
        self._versions.record_receipts(actor, proven)
        return len(fresh)

    def get_chunk(self, actor: Actor, chunk_id: str) -> bytes:
        """One chunk the actor may read; any other id is "No such chunk", existing or not."""
        if not is_chunk_id(chunk_id):
            raise NotFound(N_("No such chunk."))
        (row,) = self._versions.locate_many(actor, [chunk_id])
        return self._store.read(self._keys(actor), chunk_id, _location(row))

    def get_chunks(self, actor: Actor, chunk_ids: Sequence[str]) -> Iterator[tuple[str, bytes]]:
        """Several chunks at once, in the order asked, each as bytes.

        Every id is checked before this returns (a refusal is a clean error, not a cut-off
        stream); the bytes are then read as the iterator is consumed, so memory holds about
        one read span, not the whole answer.
        """
        rows = self._fetchable(actor, chunk_ids)
        data = self._store.read_many(
            self._keys(actor), [(row.chunk_id, _location(row)) for row in rows]
        )
        return zip(chunk_ids, data, strict=True)

    def fetch_chunks(self, actor: Actor, chunk_ids: Sequence[str], block_size: int) -> Fetched:
        """Several chunks at once (a sync client fetching what it lacks), in the order asked,
        framed (`sfs.protocol.chunk_frames`) in blocks of about `block_size` bytes, each chunk
        opened straight into its block; the answer's length is known before its first byte.

        Checked and read as `get_chunks` is: a chunk found damaged while the blocks are read
        raises `CorruptChunk` before its block is handed out.
        """
        rows = self._fetchable(actor, chunk_ids)
        located = [(row.chunk_id, _location(row)) for row in rows]
        length = sum(HEADER_BYTES + location.length - SEAL_OVERHEAD for _, location in located)
        blocks = framed_blocks(self._store.open_many(self._keys(actor), located), block_size)
        return Fetched(length=length, blocks=blocks)

    def _fetchable(self, actor: Actor, chunk_ids: Sequence[str]) -> list[ChunkRow]:
        if len(chunk_ids) > MAX_FETCH:
            raise InvalidInput(
                N_("At most %(MAX_FETCH)s chunks at once.", MAX_FETCH=MAX_FETCH), field="chunk_ids"
            )
        for chunk_id in chunk_ids:
            if not is_chunk_id(chunk_id):
                raise InvalidInput(
                    N_("%(chunk_id)s is not a chunk id.", chunk_id=repr(chunk_id[:80])),
                    field="chunk_ids",
                )
        return self._versions.locate_many(actor, chunk_ids)

    def download(
        self,
        actor: Actor,
        *,
        space_id: uuid.UUID,
        path: str,
        version: int | None = None,
        byte_range: ByteRange | None = None,
    ) -> Download:
        """The file's bytes as a stream, whole or one byte range; damage names the file."""
        plan = self._versions.read_plan(actor, space_id=space_id, path=path, number=version)
        size = plan.node.size if version is None else sum(c.plain_size for c, _ in plan.chunks)
        if byte_range is not None and (
            byte_range.start >= size or byte_range.end < byte_range.start
        ):
            raise InvalidInput(
                N_("The range is outside the file (%(size)s bytes).", size=size), field="range"
            )
        if byte_range is not None:
            byte_range = ByteRange(byte_range.start, min(byte_range.end, size - 1))
        wanted = [
            (row, offset)
            for row, offset in plan.chunks
            if byte_range is None
            or (offset <= byte_range.end and offset + row.plain_size > byte_range.start)
        ]
        keys = self._keys(actor)
        return Download(
            node=plan.node,
            body=self._stream(keys, plan.node.path, wanted, byte_range),
            byte_range=byte_range,
        )

    def _stream(
        self,
        keys: OrganisationKeys,
        path: str,
        wanted: list[tuple[ChunkRow, int]],
        byte_range: ByteRange | None,
    ) -> Iterator[bytes]:
        plaintexts = self._store.read_many(
            keys, [(row.chunk_id, _location(row)) for row, _ in wanted]
        )
        try:
            for (row, offset), data in zip(wanted, plaintexts, strict=True):
                if byte_range is None:
                    yield data
                    continue
                start = max(byte_range.start - offset, 0)
                end = min(byte_range.end - offset + 1, row.plain_size)
                yield data[start:end]
        except (CorruptChunk, MissingChunk) as damage:
            raise DamagedFile(path, damage.message) from damage

    def _keys(self, actor: Actor) -> OrganisationKeys:
        if actor.organization_id is None:
            raise NotFound(N_("No such space."))
        return self._keyring.keys_for(actor.organization_id)


def _location(row: ChunkRow) -> ChunkLocation:
    return ChunkLocation(pack_id=row.pack_id, offset=row.offset, length=row.length)
