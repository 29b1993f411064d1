"""Pack files: many sealed chunks in one blob, as restic does.

Thousands of small files then cost a few fsyncs or PUTs instead of thousands, and a bucket holds
pack-sized objects instead of millions of tiny ones. A pack blob is

    sealed chunk | sealed chunk | … | sealed trailer | footer

- chunks are sealed by `sfs.crypto.chunk_aead` and stored back to back with no framing, so the
  blob alone does not even show where one chunk ends;
- the trailer lists each chunk's id, offset and length, AES-256-GCM-sealed under the
  organisation's data key with the pack id as associated data: `fsck` and disaster recovery can
  rebuild the chunk index from the packs alone, without the database;
- the footer is 8 bytes: the magic `sfsP` and the trailer's length (big-endian u32).

A pack is named `packs/<32 random hex digits>`, never after its content, and holds the chunks of
one organisation only. Nothing in a pack is plaintext except the footer.

`PACK_TARGET_SIZE` is 16 MiB, restic's default: with ~24 KiB chunks a pack holds ~700 of them,
so an upload costs one fsync or PUT per 16 MiB; 1 TiB is ~65,000 objects (~256 per fan-out
folder), and S3 request costs are negligible. One writer holds at most one pack in memory, which
bounds an upload's memory at ~16 MiB. (Not yet measured against 4/64 MiB; see the report.)
"""

from __future__ import annotations

import os
import secrets
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from types import TracebackType

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sfs.blobs.backend import BlobBackend, BlobNotFound
from sfs.crypto.chunk_aead import (
    NONCE_BYTES,
    SEAL_OVERHEAD,
    ChunkOpener,
    ChunkSealer,
    open_chunk,
)
from sfs.crypto.keys import OrganisationKeys
from sfs.domain.errors import CorruptChunk, MissingChunk
from sfs.protocol.chunk_ids import is_chunk_id

PACK_TARGET_SIZE = 16 * 1024 * 1024
PACK_PREFIX = "packs/"

_FOOTER = struct.Struct(">4sI")
_MAGIC = b"sfsP"
_TRAILER_VERSION = 1
_TRAILER_HEAD = struct.Struct(">BI")  # version, number of entries
_ENTRY = struct.Struct(">32sQI")  # chunk id (raw), offset, length
# A pack's trailer and footer fit in this much beyond its target size (see `PackWriter._space`):
# 41 bytes for a pack of many chunks (their entries count in the target), 85 for one chunk alone.
_TRAILER_ROOM = 128
# A writer's first pack buffer starts this large, and grows to the whole pack only when filled:
# a small file's upload (most uploads) then zeroes 256 KiB, not 16 MiB, which cost more CPU and
# page faults than the rest of storing it.
_FIRST_BUFFER = 256 * 1024
# Adjacent chunks are fetched with one ranged read up to this many bytes.
READ_SPAN = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ChunkLocation:
    """Where a sealed chunk lies: bytes `[offset, offset + length)` of pack `pack_id`."""

    pack_id: str
    offset: int
    length: int


@dataclass(frozen=True, slots=True)
class StoredChunk:
    chunk_id: str
    location: ChunkLocation

    @property
    def plain_size(self) -> int:
        return self.location.length - SEAL_OVERHEAD


class PackDamaged(Exception):
    """A pack's footer or trailer is unreadable: truncated, tampered, or another tenant's."""

    def __init__(self, pack_id: str, reason: str) -> None:
        super().__init__(f"pack {pack_id} is damaged: {reason}")
        self.pack_id = pack_id


def pack_blob_name(pack_id: str) -> str:
    return PACK_PREFIX + pack_id


def pack_size_for(plain_sizes: Iterable[int]) -> int:
    """The target size at which these chunks fill one pack (as `PackWriter` counts it)."""
    return sum(size + SEAL_OVERHEAD + _ENTRY.size for size in plain_sizes)


def _trailer_associated(pack_id: str) -> bytes:
    return b"sfs/pack-trailer/v1/" + pack_id.encode("ascii")


class PackWriter:
    """Collects sealed chunks of one organisation and writes them as packs.

    `add`, `seal` and `flush` return the chunks that became durable in that call; only those may
    be recorded in the chunk index (chunks first, then the metadata transaction). Each chunk id
    is stored once per writer: adding an id again is a no-op. Not thread-safe: one per upload.
    As a context manager it drops what is still buffered on exit (an error on a clean exit, where
    a forgotten `flush()` would otherwise lose locations).

    The pack is built in one buffer, the size of a pack (a writer's first starts at 256 KiB,
    enough for a small file), that `seal` encrypts into and `add` copies into: no list of
    sealed chunks joined again at the end (a sync upload's every byte was allocated and copied
    twice more that way, its largest cost after the disk's).
    """

    def __init__(
        self,
        backend: BlobBackend,
        keys: OrganisationKeys,
        *,
        target_size: int = PACK_TARGET_SIZE,
    ) -> None:
        self._backend = backend
        self._keys = keys
        self._sealer = ChunkSealer(keys)
        self._target_size = target_size
        self._pack = bytearray()  # the pack being filled: its first `_buffered` bytes
        self._entries: list[tuple[str, int, int]] = []
        self._buffered = 0
        self._seen: set[str] = set()
        self._wrote_pack = False

    @property
    def buffered_bytes(self) -> int:
        """Bytes the next pack would hold so far (sealed chunks plus trailer entries)."""
        return self._buffered + len(self._entries) * _ENTRY.size

    def add(self, chunk_id: str, sealed: bytes) -> list[StoredChunk]:
        """Store a chunk sealed by `sfs.crypto.chunk_aead.seal_chunk`."""
        if len(sealed) < SEAL_OVERHEAD:
            raise ValueError("a sealed chunk is at least its nonce and tag long")

        def copy(space: memoryview) -> None:
            space[:] = sealed

        return self._put(chunk_id, len(sealed), copy)

    def seal(self, chunk_id: str, plaintext: bytes | memoryview) -> list[StoredChunk]:
        """Seal a chunk whose id the caller has checked, straight into the pack."""
        return self._put(
            chunk_id,
            len(plaintext) + SEAL_OVERHEAD,
            lambda space: self._sealer.seal_into(chunk_id, plaintext, space),
        )

    def _put(
        self, chunk_id: str, length: int, write: Callable[[memoryview], None]
    ) -> list[StoredChunk]:
        if not is_chunk_id(chunk_id):
            raise ValueError(f"not a chunk id: {chunk_id!r}")
        if chunk_id in self._seen:
            return []
        stored: list[StoredChunk] = []
        if self._entries and self.buffered_bytes + length + _ENTRY.size > self._target_size:
            stored = self.flush()
        offset = self._buffered
        with self._space(length) as space:
            write(space)
        self._seen.add(chunk_id)
        self._entries.append((chunk_id, offset, length))
        if self.buffered_bytes >= self._target_size:  # a large chunk goes into a pack of its own
            stored += self.flush()
        return stored

    def _space(self, length: int) -> memoryview:
        """The next `length` bytes of the pack, to be written (the buffer grows if need be)."""
        start, end = self._buffered, self._buffered + length
        if end > len(self._pack):
            # Room for a whole pack at once (its trailer included), so a pack is allocated
            # once, not grown chunk by chunk; more only for a chunk larger than a pack. A
            # writer's first pack starts small (`_FIRST_BUFFER`), grown once if it fills.
            room = self._target_size
            if not self._pack and not self._wrote_pack:
                room = min(room, _FIRST_BUFFER)
            grown = bytearray(max(end, room) + _TRAILER_ROOM)
            grown[:start] = memoryview(self._pack)[:start]
            self._pack = grown
        self._buffered = end
        return memoryview(self._pack)[start:end]

    def flush(self) -> list[StoredChunk]:
        """Write what is buffered as one pack (nothing when the buffer is empty)."""
        if not self._entries:
            return []
        entries = self._entries
        # Always the system's randomness, never an injected fake: a repeated pack id would
        # overwrite another pack, and a repeated nonce would break GCM.
        pack_id = secrets.token_hex(16)
        trailer = _TRAILER_HEAD.pack(_TRAILER_VERSION, len(entries)) + b"".join(
            _ENTRY.pack(bytes.fromhex(chunk_id), offset, length)
            for chunk_id, offset, length in entries
        )
        nonce = os.urandom(NONCE_BYTES)
        sealed_trailer = nonce + AESGCM(self._keys.data_key).encrypt(
            nonce, trailer, _trailer_associated(pack_id)
        )
        tail = sealed_trailer + _FOOTER.pack(_MAGIC, len(sealed_trailer))
        with self._space(len(tail)) as space:
            space[:] = tail
        pack, size = self._pack, self._buffered
        self._pack, self._entries, self._buffered = bytearray(), [], 0
        self._wrote_pack = True
        del pack[size:]
        try:
            self._backend.put(pack_blob_name(pack_id), pack)
        except BaseException:
            self._seen.difference_update(chunk_id for chunk_id, _, _ in entries)
            raise
        return [
            StoredChunk(chunk_id, ChunkLocation(pack_id, offset, length))
            for chunk_id, offset, length in entries
        ]

    def __enter__(self) -> PackWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        pending = bool(self._entries)
        self._pack, self._entries, self._buffered = bytearray(), [], 0
        if pending and exc_type is None:
            # Flushing here would write chunks whose locations nobody records.
            raise RuntimeError("a PackWriter was closed unflushed: call flush(), record its result")


def read_chunk(
    backend: BlobBackend, keys: OrganisationKeys, chunk_id: str, location: ChunkLocation
) -> bytes:
    """One chunk's plaintext, verified: `MissingChunk` or `CorruptChunk`, never wrong bytes."""
    try:
        sealed = backend.get(pack_blob_name(location.pack_id), location.offset, location.length)
    except BlobNotFound:
        raise MissingChunk(chunk_id) from None
    if len(sealed) != location.length:
        raise CorruptChunk(chunk_id, reason="its pack is truncated")
    return open_chunk(keys, chunk_id, sealed)


def read_chunks(
    backend: BlobBackend,
    keys: OrganisationKeys,
    chunks: Iterable[tuple[str, ChunkLocation]],
    *,
    span: int = READ_SPAN,
) -> Iterator[bytes]:
    """The plaintexts of `chunks` in order, fetching adjacent ones with one ranged read each.

    A file uploaded in one go lies contiguous in its packs, so a download costs one GET per
    `span` bytes instead of one per chunk. Memory holds at most one span.
    """
    opener = ChunkOpener(keys)
    for chunk_id, sealed in _sealed(backend, chunks, span):
        yield opener.open(chunk_id, sealed)


# A chunk to be opened: its id, its plaintext's size, and what writes that plaintext (verified)
# into a buffer of that size, or raises `CorruptChunk`.
OpenableChunk = tuple[str, int, Callable[[memoryview], None]]


def open_chunks(
    backend: BlobBackend,
    keys: OrganisationKeys,
    chunks: Iterable[tuple[str, ChunkLocation]],
    *,
    span: int = READ_SPAN,
) -> Iterator[OpenableChunk]:
    """`read_chunks`, each chunk opened into the caller's buffer rather than returned as bytes
    (a download's answer built in place). Each must be opened before the next is asked for."""
    opener = ChunkOpener(keys)
    for chunk_id, sealed in _sealed(backend, chunks, span):
        if len(sealed) < SEAL_OVERHEAD:
            raise CorruptChunk(chunk_id, reason="it is truncated")
        yield chunk_id, len(sealed) - SEAL_OVERHEAD, partial(opener.open_into, chunk_id, sealed)


def _sealed(
    backend: BlobBackend, chunks: Iterable[tuple[str, ChunkLocation]], span: int
) -> Iterator[tuple[str, memoryview]]:
    """Each chunk's sealed bytes, in order, as a view of the ranged read that fetched it and
    its neighbours (each chunk opened in place, not sliced out as a copy first)."""
    run: list[tuple[str, ChunkLocation]] = []

    def fetch() -> Iterator[tuple[str, memoryview]]:
        first = run[0][1]
        end = run[-1][1].offset + run[-1][1].length
        try:
            data = backend.get(pack_blob_name(first.pack_id), first.offset, end - first.offset)
        except BlobNotFound:
            raise MissingChunk(run[0][0]) from None
        whole = memoryview(data)
        for chunk_id, location in run:
            start = location.offset - first.offset
            sealed = whole[start : start + location.length]
            if len(sealed) != location.length:
                raise CorruptChunk(chunk_id, reason="its pack is truncated")
            yield chunk_id, sealed

    for chunk_id, location in chunks:
        if run:
            last = run[-1][1]
            adjacent = (
                location.pack_id == last.pack_id
                and location.offset == last.offset + last.length
                and location.offset + location.length - run[0][1].offset <= span
            )
            if not adjacent:
                yield from fetch()
                run = []
        run.append((chunk_id, location))
    if run:
        yield from fetch()


def read_pack_index(
    backend: BlobBackend, keys: OrganisationKeys, pack_id: str
) -> list[StoredChunk]:
    """The chunks a pack holds, from its sealed trailer (for `fsck` and index recovery).

    `BlobNotFound` if the pack does not exist; `PackDamaged` if its trailer does not open
    (which is also the answer for a pack of another organisation).
    """
    name = pack_blob_name(pack_id)
    size = backend.size(name)
    if size < _FOOTER.size:
        raise PackDamaged(pack_id, "it is shorter than its footer")
    magic, trailer_length = _FOOTER.unpack(backend.get(name, size - _FOOTER.size, _FOOTER.size))
    if magic != _MAGIC or trailer_length + _FOOTER.size > size:
        raise PackDamaged(pack_id, "its footer is not an sfs pack footer")
    trailer_start = size - _FOOTER.size - trailer_length
    sealed = backend.get(name, trailer_start, trailer_length)
    try:
        trailer = AESGCM(keys.data_key).decrypt(
            sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _trailer_associated(pack_id)
        )
    except (InvalidTag, ValueError):
        raise PackDamaged(pack_id, "its trailer does not open with this key") from None
    version, count = _TRAILER_HEAD.unpack_from(trailer)
    if version != _TRAILER_VERSION or len(trailer) != _TRAILER_HEAD.size + count * _ENTRY.size:
        raise PackDamaged(pack_id, "its trailer has an unknown layout")
    stored = []
    for raw_id, offset, length in _ENTRY.iter_unpack(trailer[_TRAILER_HEAD.size :]):
        if offset + length > trailer_start:
            raise PackDamaged(pack_id, "its trailer points past its chunks")
        stored.append(StoredChunk(raw_id.hex(), ChunkLocation(pack_id, offset, length)))
    return stored


def list_pack_ids(backend: BlobBackend) -> Iterator[str]:
    for name in backend.list(PACK_PREFIX):
        yield name.removeprefix(PACK_PREFIX)
