"""Chunks through the chunk store into pack files and back: lossless, verified, opaque."""

from __future__ import annotations

import io
import random
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfs.blobs.chunk_store import ChunkStore, PreparedChunk
from sfs.blobs.memory import MemoryBackend
from sfs.blobs.packs import PackDamaged, StoredChunk, pack_blob_name
from sfs.crypto.keys import OrganisationKeys
from sfs.domain.errors import CorruptChunk, InvalidInput, MissingChunk
from sfs.ports import SystemRandomness
from sfs.protocol.chunk_ids import chunk_id as keyed_id
from sfs.protocol.chunking import ChunkParams, ChunkSizes

SMALL = ChunkParams(min_size=256, avg_size=1024, max_size=4096)
KEYS = OrganisationKeys.generate(SystemRandomness())


def small_store(backend: MemoryBackend | None = None, pack_size: int = 16 * 1024) -> ChunkStore:
    return ChunkStore(
        backend or MemoryBackend(), pack_target_size=pack_size, sizes=ChunkSizes.only(SMALL)
    )


def upload(
    store: ChunkStore, data: bytes, keys: OrganisationKeys = KEYS
) -> tuple[list[str], dict[str, StoredChunk]]:
    """What the file service does: the manifest, and the index entries to record."""
    manifest: list[str] = []
    index: dict[str, StoredChunk] = {}
    with store.writer(keys) as writer:
        for chunk in store.prepare(keys, io.BytesIO(data)):
            manifest.append(chunk.chunk_id)
            index.update((s.chunk_id, s) for s in writer.add(chunk.chunk_id, chunk.sealed))
        index.update((s.chunk_id, s) for s in writer.flush())
    return manifest, index


def download(store: ChunkStore, manifest: list[str], index: dict[str, StoredChunk]) -> bytes:
    return b"".join(
        store.read_many(KEYS, [(chunk_id, index[chunk_id].location) for chunk_id in manifest])
    )


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=60_000), st.sampled_from([2048, 16 * 1024, 1024 * 1024]))
def test_any_bytes_round_trip_through_chunks_encryption_and_packs(
    data: bytes, pack_size: int
) -> None:
    store = small_store(pack_size=pack_size)
    manifest, index = upload(store, data)

    assert set(index) == set(manifest)
    assert download(store, manifest, index) == data
    assert b"".join(store.read(KEYS, c, index[c].location) for c in manifest) == data
    assert all(index[c].plain_size == len(store.read(KEYS, c, index[c].location)) for c in index)


def test_packs_fill_up_to_the_target_size_and_a_large_chunk_gets_its_own() -> None:
    backend = MemoryBackend()
    store = small_store(backend, pack_size=16 * 1024)
    upload(store, random.Random(1).randbytes(200_000))
    sizes = [len(blob) for blob in backend.blobs.values()]
    assert len(sizes) > 5
    assert all(size <= 16 * 1024 + 100 for size in sizes)  # target plus the trailer's framing
    assert sum(sizes) > 200_000

    writer = ChunkStore(backend, pack_target_size=2048, sizes=ChunkSizes.only(SMALL)).writer(KEYS)
    small_chunk = store.prepare_chunk(KEYS, b"small")
    big = store.prepare_chunk(KEYS, random.Random(2).randbytes(4096))
    assert writer.add(small_chunk.chunk_id, small_chunk.sealed) == []
    stored = writer.add(big.chunk_id, big.sealed)  # flushes "small", then "big" alone
    assert [s.chunk_id for s in stored] == [small_chunk.chunk_id, big.chunk_id]
    assert stored[0].location.pack_id != stored[1].location.pack_id
    assert stored[1].location.offset == 0


def test_a_repeated_chunk_is_stored_once_per_writer() -> None:
    backend = MemoryBackend()
    store = small_store(backend)
    block = random.Random(3).randbytes(3000)
    manifest, index = upload(store, block * 1 + bytes(50_000) + block)
    assert len(index) < len(manifest)
    assert download(store, manifest, index) == block + bytes(50_000) + block


def test_a_flipped_byte_in_a_stored_pack_is_a_corrupt_chunk_never_wrong_bytes() -> None:
    backend = MemoryBackend()
    store = small_store(backend)
    data = random.Random(4).randbytes(30_000)
    manifest, index = upload(store, data)
    victim = manifest[len(manifest) // 2]
    location = index[victim].location
    name = pack_blob_name(location.pack_id)
    damaged = bytearray(backend.blobs[name])
    damaged[location.offset + location.length // 2] ^= 0x40
    backend.blobs[name] = bytes(damaged)

    with pytest.raises(CorruptChunk) as caught:
        store.read(KEYS, victim, location)
    assert caught.value.chunk_id == victim
    with pytest.raises(CorruptChunk) as caught:
        download(store, manifest, index)
    assert caught.value.chunk_id == victim
    others = [c for c in manifest if c != victim]
    assert all(store.read(KEYS, c, index[c].location) for c in others)


def test_a_missing_pack_is_a_missing_chunk_and_a_truncated_one_is_corrupt() -> None:
    backend = MemoryBackend()
    store = small_store(backend)
    manifest, index = upload(store, random.Random(5).randbytes(10_000))
    first = index[manifest[0]]
    last = index[manifest[-1]]
    name = pack_blob_name(last.location.pack_id)
    backend.blobs[name] = backend.blobs[name][: last.location.offset + 10]
    with pytest.raises(CorruptChunk, match="truncated"):
        store.read(KEYS, last.chunk_id, last.location)

    store.delete_pack(first.location.pack_id)
    with pytest.raises(MissingChunk) as caught:
        store.read(KEYS, first.chunk_id, first.location)
    assert caught.value.chunk_id == first.chunk_id
    with pytest.raises(MissingChunk):
        download(store, manifest, index)


def test_no_plaintext_and_no_chunk_id_reaches_the_blob_backend() -> None:
    backend = MemoryBackend()
    store = small_store(backend)
    marker = b"TOP-SECRET-MARKER-report-2026.docx"
    data = (marker + random.Random(6).randbytes(500)) * 40 + marker * 200
    _, index = upload(store, data)

    everything = b"".join(name.encode() + blob for name, blob in backend.blobs.items())
    assert marker not in everything
    assert marker[:12] not in everything
    for chunk_id in index:
        assert chunk_id.encode() not in everything
        assert bytes.fromhex(chunk_id) not in everything
        assert chunk_id[:16].encode() not in everything


def test_a_packs_trailer_rebuilds_its_index_without_the_database() -> None:
    backend = MemoryBackend()
    store = small_store(backend)
    _, index = upload(store, random.Random(7).randbytes(100_000))

    rebuilt = {s.chunk_id: s for p in store.pack_ids() for s in store.pack_index(KEYS, p)}
    assert rebuilt == index

    other = OrganisationKeys.generate(SystemRandomness())
    pack_id = next(iter(store.pack_ids()))
    with pytest.raises(PackDamaged):
        store.pack_index(other, pack_id)
    name = pack_blob_name(pack_id)
    damaged = bytearray(backend.blobs[name])
    damaged[-20] ^= 0x01
    backend.blobs[name] = bytes(damaged)
    with pytest.raises(PackDamaged, match=pack_id):
        store.pack_index(KEYS, pack_id)


def test_nothing_is_written_when_an_upload_fails_halfway() -> None:
    backend = MemoryBackend()
    store = small_store(backend, pack_size=1024 * 1024)
    with pytest.raises(RuntimeError), store.writer(KEYS) as writer:
        for chunk in store.prepare(KEYS, io.BytesIO(random.Random(8).randbytes(20_000))):
            writer.add(chunk.chunk_id, chunk.sealed)
        raise RuntimeError("the client went away")
    assert backend.blobs == {}


def test_closing_a_writer_with_unflushed_chunks_is_an_error_not_a_silent_write() -> None:
    backend = MemoryBackend()
    store = small_store(backend)
    chunk = store.prepare_chunk(KEYS, b"content")
    with pytest.raises(RuntimeError, match="unflushed"), store.writer(KEYS) as writer:
        writer.add(chunk.chunk_id, chunk.sealed)
    assert backend.blobs == {}


def test_a_failed_pack_write_returns_no_locations_and_may_be_retried() -> None:
    class FailingOnce(MemoryBackend):
        failures = 1

        def put(self, name: str, data: bytes) -> None:
            if self.failures:
                self.failures -= 1
                raise OSError("disk full")
            super().put(name, data)

    backend = FailingOnce()
    store = small_store(backend)
    chunk = store.prepare_chunk(KEYS, b"content")
    writer = store.writer(KEYS)
    writer.add(chunk.chunk_id, chunk.sealed)
    with pytest.raises(OSError):
        writer.flush()
    assert backend.blobs == {}
    writer.add(chunk.chunk_id, chunk.sealed)
    [stored] = writer.flush()
    assert store.read(KEYS, chunk.chunk_id, stored.location) == b"content"


def test_a_chunk_sent_by_a_client_must_match_its_id_and_size() -> None:
    store = small_store()
    good = store.prepare_chunk(KEYS, b"from the client")
    assert isinstance(good, PreparedChunk)
    again = store.prepare_chunk(KEYS, b"from the client", expected_id=good.chunk_id)
    assert again.chunk_id == good.chunk_id
    assert again.sealed != good.sealed  # a fresh nonce every time
    with pytest.raises(InvalidInput, match="does not match"):
        store.prepare_chunk(KEYS, b"something else", expected_id=good.chunk_id)
    with pytest.raises(InvalidInput, match="at most"):
        store.prepare_chunk(KEYS, bytes(SMALL.max_size + 1))
    assert "from the client" not in repr(good)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.binary(max_size=5000), st.booleans()), max_size=30),
    st.sampled_from([2048, 16 * 1024]),
)
def test_chunks_sealed_into_the_pack_read_back_like_added_ones(
    chunks: list[tuple[bytes, bool]], pack_size: int
) -> None:
    """`seal` (a sync upload: sealed straight into the pack) and `add` (sealed beforehand) fill
    the same packs, read back by location and rebuilt from their trailers alike."""
    backend = MemoryBackend()
    store = small_store(backend, pack_size=pack_size)
    index: dict[str, StoredChunk] = {}
    with store.writer(KEYS) as writer:
        for data, sealed_by_the_writer in chunks:
            cid = keyed_id(KEYS.chunk_id_key, data)
            stored = (
                writer.seal(cid, data)
                if sealed_by_the_writer
                else writer.add(cid, store.prepare_chunk(KEYS, data).sealed)
            )
            index.update((s.chunk_id, s) for s in stored)
        index.update((s.chunk_id, s) for s in writer.flush())

    for data, _ in chunks:
        cid = keyed_id(KEYS.chunk_id_key, data)
        assert store.read(KEYS, cid, index[cid].location) == data
        assert index[cid].plain_size == len(data)
    rebuilt = {s.chunk_id: s for p in store.pack_ids() for s in store.pack_index(KEYS, p)}
    assert rebuilt == index
    assert all(len(blob) <= max(pack_size, 5000) + 128 for blob in backend.blobs.values())


def test_a_batch_at_hand_goes_into_one_pack_even_past_the_target_size() -> None:
    sizes = [3000, 4000, 4000, 4000, 1200]  # sealed with their entries: over a 16 KiB target
    data = [random.Random(size + i).randbytes(size) for i, size in enumerate(sizes)]
    for batch, packs in (([], 2), (sizes, 1)):
        backend = MemoryBackend()
        store = small_store(backend, pack_size=16 * 1024)
        with store.writer(KEYS, batch=batch) as writer:
            for chunk in data:
                writer.seal(keyed_id(KEYS.chunk_id_key, chunk), chunk)
            writer.flush()
        assert len(backend.blobs) == packs
    assert sum(sizes) < 16 * 1024 < sum(sizes) + len(sizes) * 72


def test_a_small_upload_does_not_allocate_a_whole_pack() -> None:
    """A 4 KiB file's writer holds a buffer near its size, not the 16 MiB of a full pack
    (zeroing one cost more than the rest of storing a small file); a large upload still fills
    packs of the target size."""
    backend = MemoryBackend()
    store = ChunkStore(backend, pack_target_size=16 * 1024 * 1024, sizes=ChunkSizes.only(SMALL))
    data = random.Random(5).randbytes(4096)
    tracemalloc.start()
    try:
        with store.writer(KEYS) as writer:
            writer.seal(keyed_id(KEYS.chunk_id_key, data), data)
            _, peak = tracemalloc.get_traced_memory()
            (stored,) = writer.flush()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024
    assert store.read(KEYS, stored.chunk_id, stored.location) == data

    backend = MemoryBackend()
    store = small_store(backend, pack_size=512 * 1024)
    manifest, index = upload(store, random.Random(6).randbytes(2_000_000))
    assert download(store, manifest, index) == random.Random(6).randbytes(2_000_000)
    assert max(len(blob) for blob in backend.blobs.values()) > 256 * 1024
