"""One file's upload, pushed a block at a time: `write` as bytes arrive, then `finish` or `abort`.

Each step only cuts, seals and stores what it was given, and returns: a web door awaits the next
block on its event loop between steps, so a client that sends slowly holds no worker thread.
Chunks are indexed once their pack is durable; the version is committed only by `finish`, so an
upload cut off (or timed out) anywhere commits nothing and leaves at most unindexed packs or
unreferenced chunks for gc.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sfs.blobs.chunk_store import ChunkStore, PreparedChunk
from sfs.blobs.packs import PackWriter
from sfs.blobs.packs import StoredChunk as PackedChunk
from sfs.crypto.keys import OrganisationKeys
from sfs.domain.actor import Actor, ClientInfo
from sfs.protocol.chunking import ChunkFeeder, SupportsRead
from sfs.services.files.checksums import Checksum, Hashes
from sfs.services.files.commit_batching import Unwritten
from sfs.services.files.nodes import NodeView
from sfs.services.files.versions import ChunkRow, FileVersionService, ManifestEntry

# Chunks are looked up against the index in batches, not one query each.
LOOKUP_BATCH = 256
# A file whose fresh chunks come to at most this much (sealed), none of them in a pack yet, has
# them written by its commit, in one pack with other small files' committed at once: for files
# this small a pack file and its fsync cost more than the bytes. Larger ones write their own.
SHARED_PACK_MAX = 1 << 20
_READ_SIZE = 1 << 20


@dataclass(frozen=True)
class UploadTarget:
    """Where the upload lands and how its version is described."""

    space_id: uuid.UUID
    path: str
    modified_at: datetime
    base_version: int | None
    client: ClientInfo
    device_name: str | None = None
    checksum: Checksum | None = None  # what the client claims (OC-Checksum): checked at finish
    # The file's whole size, when the door knows it before the body (Content-Length): a big
    # file is cut in bigger chunks, as a sync client cuts it (`ChunkSizes`).
    size: int | None = None


class ChunkIntake:
    """Bytes pushed a block at a time, cut, sealed and stored; `finish` answers the manifest
    (the chunks in order) and commits nothing. A file upload commits it as a version; a part of
    a chunked upload keeps it until the parts are joined."""

    def __init__(
        self,
        store: ChunkStore,
        versions: FileVersionService,
        keys: OrganisationKeys,
        actor: Actor,
        hashes: Hashes | None = None,
        *,
        size: int | None = None,
    ) -> None:
        self._store = store
        self._versions = versions
        self._keys = keys
        self._actor = actor
        # Cut as a sync client cuts a file of `size` (the whole file's, also for one part of it).
        self._feeder = ChunkFeeder(store.sizes.for_size(size), seed=keys.chunking_seed)
        self._writer: PackWriter = store.writer(keys)
        self._manifest: list[ManifestEntry] = []
        self._pending: list[PreparedChunk] = []
        self._done = False
        # The bytes pass here whole and in order: their SHA1 costs no second read.
        self.hashes = hashes or Hashes()

    def write(self, block: bytes) -> None:
        """Take the next bytes; stores the chunks they complete."""
        if self._done:
            raise RuntimeError("this upload is finished or aborted")
        self.hashes.update(block)
        self._take(self._feeder.feed(block))

    def finish(self) -> list[ManifestEntry]:
        """The end of the bytes: store the rest; every chunk is indexed when this returns."""
        if self._done:
            raise RuntimeError("this upload is finished or aborted")
        try:
            self._take(self._feeder.finish())
            self._store_missing()
            last = self._writer.flush()
        finally:
            self.abort()
        if last:
            self._versions.record_chunks(self._actor, chunk_rows(last))
        return self._manifest

    def finish_unwritten(
        self,
    ) -> tuple[list[ManifestEntry], list[ChunkRow], Unwritten[ChunkRow] | None]:
        """As `finish`, but nothing is indexed: answers the manifest, the chunks of the last
        pack (durable already), and, when the rest is small (at most `SHARED_PACK_MAX` fresh,
        none of it in the writer's pack yet), instead of a pack of its own those fresh chunks,
        unwritten. The commit writes them, in one pack with those of the small files committed
        together (`commit_batching.Unwritten`), and indexes both in its transaction."""
        if self._done:
            raise RuntimeError("this upload is finished or aborted")
        try:
            self._take(self._feeder.finish())
            fresh = self._fresh(self._take_pending())
            if not self._writer.buffered_bytes and sum(len(c.sealed) for c in fresh) <= (
                SHARED_PACK_MAX
            ):
                write = partial(write_pack, self._store, self._keys)
                return self._manifest, [], Unwritten(fresh, write) if fresh else None
            self._add(fresh)
            return self._manifest, chunk_rows(self._writer.flush()), None
        finally:
            self.abort()

    def abort(self) -> None:
        """Drop what is buffered; nothing is committed (safe to call more than once)."""
        self._done = True
        self._pending = []
        self._writer = self._store.writer(self._keys)  # lets go of the unwritten pack

    def _take(self, plaintexts: Sequence[bytes]) -> None:
        for plaintext in plaintexts:
            chunk = self._store.prepare_chunk(self._keys, plaintext)
            self._manifest.append(ManifestEntry(chunk.chunk_id, chunk.plain_size))
            self._pending.append(chunk)
            if len(self._pending) >= LOOKUP_BATCH:
                self._store_missing()

    def _store_missing(self) -> None:
        self._add(self._fresh(self._take_pending()))

    def _add(self, chunks: list[PreparedChunk]) -> None:
        for chunk in chunks:
            self._record(self._writer.add(chunk.chunk_id, chunk.sealed))

    def _take_pending(self) -> list[PreparedChunk]:
        chunks, self._pending = self._pending, []
        return chunks

    def _fresh(self, chunks: list[PreparedChunk]) -> list[PreparedChunk]:
        """Those of `chunks` the organisation lacks, to store (the quota checked for them)."""
        if not chunks:
            return []
        # A chunk repeated in the file is stored once (the pack writer skips it), counted once.
        sizes = {c.chunk_id: len(c.sealed) for c in chunks}
        held = self._versions.chunks_to_store(self._actor, sizes)
        # Held, but not the actor's yet: the server cut these from the actor's own bytes, so
        # they are recorded as the actor's, not stored twice.
        theirs = [chunk_id for chunk_id, usable in held.items() if not usable]
        if theirs:
            self._versions.record_receipts(self._actor, theirs)
        return [c for c in chunks if c.chunk_id not in held]

    def _record(self, packed: Sequence[PackedChunk]) -> None:
        record_packed(self._versions, self._actor, packed)


class ContentUpload:
    """One file: its bytes through a `ChunkIntake`, then its version committed by `finish`."""

    def __init__(
        self,
        store: ChunkStore,
        versions: FileVersionService,
        keys: OrganisationKeys,
        actor: Actor,
        target: UploadTarget,
    ) -> None:
        self._versions = versions
        self._actor = actor
        self._target = target
        self._intake = ChunkIntake(
            store, versions, keys, actor, Hashes(target.checksum), size=target.size
        )

    def write(self, block: bytes) -> None:
        """Take the next bytes of the file; stores the chunks they complete."""
        self._intake.write(block)

    def finish(self) -> NodeView:
        """The end of the file: store the rest, check the client's checksum (InvalidInput if it
        differs: nothing is committed), then commit the version with its SHA1."""
        manifest, fresh, unwritten = self._intake.finish_unwritten()
        sha1 = self._intake.hashes.verify()
        target = self._target
        return self._versions.commit(
            self._actor,
            space_id=target.space_id,
            path=target.path,
            manifest=manifest,
            modified_at=target.modified_at,
            base_version=target.base_version,
            client=target.client,
            device_name=target.device_name,
            sha1=sha1,
            fresh_chunks=fresh,
            unwritten=unwritten,
        )

    def abort(self) -> None:
        """Drop what is buffered; nothing is committed (safe to call more than once)."""
        self._intake.abort()


def pour(upload: ContentUpload, source: SupportsRead | Iterable[bytes]) -> NodeView:
    """Write a whole local stream (a file object, or blocks already at hand) and commit it;
    for a thread that may block on its source, since no network is behind it."""
    try:
        if isinstance(source, SupportsRead):
            while block := source.read(_READ_SIZE):
                upload.write(block)
        else:
            for block in source:
                upload.write(block)
    except BaseException:
        upload.abort()
        raise
    return upload.finish()


def record_packed(
    versions: FileVersionService, actor: Actor, packed: Sequence[PackedChunk]
) -> None:
    """Index chunks whose pack is durable; before this they are invisible garbage."""
    if packed:
        versions.record_chunks(actor, chunk_rows(packed))


def write_pack(
    store: ChunkStore, keys: OrganisationKeys, chunks: Sequence[PreparedChunk]
) -> list[ChunkRow]:
    """Sealed chunks (of several small files, maybe) into packs, durable when this returns."""
    with store.writer(keys) as writer:
        packed = [stored for chunk in chunks for stored in writer.add(chunk.chunk_id, chunk.sealed)]
        packed += writer.flush()
    return chunk_rows(packed)


def chunk_rows(packed: Sequence[PackedChunk]) -> list[ChunkRow]:
    return [
        ChunkRow(
            chunk_id=p.chunk_id,
            pack_id=p.location.pack_id,
            offset=p.location.offset,
            length=p.location.length,
            plain_size=p.plain_size,
        )
        for p in packed
    ]
