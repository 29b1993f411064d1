"""The chunk store: what the file service calls to keep and read file content. No database.

Upload (chunks first, then the metadata transaction):

    with store.writer(keys) as writer:
        for chunk in store.prepare(keys, stream):          # cut, hash, seal; memory flat
            manifest.append(chunk.chunk_id)
            if chunk.chunk_id not in index:                 # dedup against the chunk index
                record(writer.add(chunk.chunk_id, chunk.sealed))
        record(writer.flush())                              # StoredChunks now durable
    # then one transaction: insert the recorded StoredChunks and the new version

Download: `store.read_many(keys, [(chunk_id, location), …])` in manifest order.
A damaged or absent chunk raises `CorruptChunk` / `MissingChunk` (from `sfs.domain.errors`),
carrying the chunk id for the caller to name the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from sfs.blobs.backend import BlobBackend
from sfs.blobs.packs import (
    PACK_TARGET_SIZE,
    ChunkLocation,
    OpenableChunk,
    PackWriter,
    StoredChunk,
    list_pack_ids,
    open_chunks,
    pack_blob_name,
    pack_size_for,
    read_chunk,
    read_chunks,
    read_pack_index,
)
from sfs.crypto.chunk_aead import seal_chunk
from sfs.crypto.keys import OrganisationKeys
from sfs.domain.errors import InvalidInput
from sfs.protocol.chunk_ids import chunk_id as keyed_chunk_id
from sfs.protocol.chunking import CHUNK_SIZES, ChunkSizes, SupportsRead, iter_chunks


@dataclass(frozen=True, slots=True, repr=False)
class PreparedChunk:
    """A chunk cut, named and sealed, ready for `PackWriter.add(chunk_id, sealed)`."""

    chunk_id: str
    plain_size: int
    sealed: bytes

    def __repr__(self) -> str:
        return f"PreparedChunk({self.chunk_id}, plain_size={self.plain_size})"


class ChunkStore:
    def __init__(
        self,
        backend: BlobBackend,
        *,
        pack_target_size: int = PACK_TARGET_SIZE,
        sizes: ChunkSizes = CHUNK_SIZES,
    ) -> None:
        self.backend = backend
        self.pack_target_size = pack_target_size
        self.sizes = sizes

    def prepare(
        self,
        keys: OrganisationKeys,
        source: SupportsRead | Iterable[bytes],
        *,
        size: int | None = None,
    ) -> Iterator[PreparedChunk]:
        """Cut a stream (file object or byte blocks) of `size` bytes, if known, into chunks,
        each named and sealed."""
        params = self.sizes.for_size(size)
        for plaintext in iter_chunks(source, params, seed=keys.chunking_seed):
            yield self._seal(keys, plaintext)

    def prepare_chunk(
        self, keys: OrganisationKeys, plaintext: bytes, *, expected_id: str | None = None
    ) -> PreparedChunk:
        """Seal one chunk a sync client sent; refuses a chunk larger than the protocol allows
        or one whose content does not hash to the id the client claimed."""
        self._check_size(plaintext)
        prepared = self._seal(keys, plaintext)
        if expected_id is not None and prepared.chunk_id != expected_id:
            raise _mismatch()
        return prepared

    def verify_chunk(
        self, keys: OrganisationKeys, plaintext: bytes | memoryview, *, expected_id: str
    ) -> None:
        """Check a chunk a sync client sent without sealing it (the store holds it already):
        the same refusals as `prepare_chunk`."""
        self._check_size(plaintext)
        if keyed_chunk_id(keys.chunk_id_key, plaintext) != expected_id:
            raise _mismatch()

    def _check_size(self, plaintext: bytes | memoryview) -> None:
        if len(plaintext) > self.sizes.max_size:
            raise InvalidInput(
                f"A chunk may be at most {self.sizes.max_size} bytes.", field="chunk"
            )

    def _seal(self, keys: OrganisationKeys, plaintext: bytes) -> PreparedChunk:
        chunk_id = keyed_chunk_id(keys.chunk_id_key, plaintext)
        return PreparedChunk(chunk_id, len(plaintext), seal_chunk(keys, chunk_id, plaintext))

    def writer(self, keys: OrganisationKeys, *, batch: Sequence[int] = ()) -> PackWriter:
        """A pack writer for one organisation's chunks (one per upload or batch); `batch`, the
        plain sizes of chunks that are all at hand, makes its packs large enough to hold them
        in one (a sync client's batch is a little over the target size once sealed: it made one
        full pack and one of a few dozen KiB, each its own file, fsync and transaction)."""
        target_size = max(self.pack_target_size, pack_size_for(batch))
        return PackWriter(self.backend, keys, target_size=target_size)

    def read(self, keys: OrganisationKeys, chunk_id: str, location: ChunkLocation) -> bytes:
        return read_chunk(self.backend, keys, chunk_id, location)

    def read_many(
        self, keys: OrganisationKeys, chunks: Iterable[tuple[str, ChunkLocation]]
    ) -> Iterator[bytes]:
        """Plaintexts in the given order, adjacent chunks fetched with one ranged read."""
        return read_chunks(self.backend, keys, chunks)

    def open_many(
        self, keys: OrganisationKeys, chunks: Iterable[tuple[str, ChunkLocation]]
    ) -> Iterator[OpenableChunk]:
        """`read_many`, each chunk opened into the caller's buffer (see `packs.open_chunks`)."""
        return open_chunks(self.backend, keys, chunks)

    def pack_ids(self) -> Iterator[str]:
        """Every pack in the backend, of all organisations (for gc and fsck)."""
        return list_pack_ids(self.backend)

    def pack_index(self, keys: OrganisationKeys, pack_id: str) -> list[StoredChunk]:
        """The chunks a pack holds, read from its sealed trailer (`PackDamaged` if unreadable)."""
        return read_pack_index(self.backend, keys, pack_id)

    def delete_pack(self, pack_id: str) -> None:
        self.backend.delete(pack_blob_name(pack_id))


def _mismatch() -> InvalidInput:
    return InvalidInput("The chunk's content does not match its id.", field="chunk_id")
