"""Content-defined chunking: lossless, streaming, and stable around an edit."""

from __future__ import annotations

import io
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfs.protocol.chunk_ids import chunk_id, derive_seed, is_chunk_id
from sfs.protocol.chunking import (
    CHUNK_PARAMS,
    CHUNK_SIZES,
    HUGE_FILE_SIZE,
    LARGE_FILE_SIZE,
    ChunkFeeder,
    ChunkParams,
    ChunkSizes,
    ChunkTier,
    iter_chunks,
)

# Small parameters so that hypothesis-sized inputs span many chunks.
SMALL = ChunkParams(min_size=256, avg_size=1024, max_size=4096)
KEY = bytes(range(32))


def random_bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


@given(st.binary(max_size=40_000), st.integers(min_value=1, max_value=5000))
def test_chunks_concatenate_to_the_input_whether_read_from_a_file_or_from_blocks(
    data: bytes, block_size: int
) -> None:
    from_file = list(iter_chunks(io.BytesIO(data), SMALL))
    blocks = [data[i : i + block_size] for i in range(0, len(data), block_size)]
    from_blocks = list(iter_chunks(iter(blocks), SMALL))

    assert b"".join(from_file) == data
    assert from_blocks == from_file
    assert all(len(chunk) <= SMALL.max_size for chunk in from_file)


def test_empty_input_gives_no_chunks_and_empty_blocks_are_skipped() -> None:
    assert list(iter_chunks(io.BytesIO(b""))) == []
    data = random_bytes(10_000, 1)
    assert b"".join(iter_chunks([b"", data[:10], b"", data[10:], b""], SMALL)) == data


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    insertion=st.binary(min_size=1, max_size=2000),
    at_fraction=st.floats(min_value=0.3, max_value=0.7),
)
def test_an_insertion_changes_only_the_chunks_near_it(
    seed: int, insertion: bytes, at_fraction: float
) -> None:
    data = random_bytes(200_000, seed)
    at = int(len(data) * at_fraction)
    edited = data[:at] + insertion + data[at:]
    before = list(iter_chunks(io.BytesIO(data), SMALL))
    after = list(iter_chunks(io.BytesIO(edited), SMALL))

    def ids_outside(chunks: list[bytes], low: int, high: int) -> set[str]:
        """Ids of chunks lying entirely before `low` or entirely after `high`. A cut is made
        on the byte after it too, so a chunk ending exactly at `low` may move with the edit."""
        ids, offset = set(), 0
        for chunk in chunks:
            if offset + len(chunk) < low or offset >= high:
                ids.add(chunk_id(KEY, chunk))
            offset += len(chunk)
        return ids

    after_ids = {chunk_id(KEY, chunk) for chunk in after}
    # Chunks before the edit and well after it keep their ids. The cut points fall back into
    # step within a few chunks (median ~1.3 KiB here, worst of 400 random trials 12 KiB).
    margin = 8 * SMALL.max_size
    assert ids_outside(before, at, at + margin) <= after_ids
    new_bytes = sum(len(c) for c in after if chunk_id(KEY, c) not in ids_outside(before, 0, 0))
    assert new_bytes <= len(insertion) + 2 * margin


def test_the_same_content_gives_the_same_chunks_and_a_seed_moves_the_boundaries() -> None:
    data = random_bytes(2_000_000, 7)
    plain = [len(c) for c in iter_chunks(io.BytesIO(data))]
    assert [len(c) for c in iter_chunks(io.BytesIO(data))] == plain
    seeded = [len(c) for c in iter_chunks(io.BytesIO(data), seed=derive_seed(KEY))]
    assert seeded != plain
    assert all(len_ <= CHUNK_PARAMS.max_size for len_ in seeded)


def test_chunk_ids_are_keyed_hex_digests() -> None:
    other_key = bytes(32)
    assert is_chunk_id(chunk_id(KEY, b"same content"))
    assert chunk_id(KEY, b"same content") == chunk_id(KEY, b"same content")
    assert chunk_id(KEY, b"same content") != chunk_id(other_key, b"same content")
    assert not is_chunk_id("A" * 64)
    assert not is_chunk_id("a" * 63)


@settings(max_examples=40, deadline=None)
@given(
    size=st.sampled_from([0, 1, 20_000, 200_000, 700_000, 2_500_000]),
    seed=st.integers(min_value=0, max_value=2**40),
    steps=st.lists(st.integers(min_value=1, max_value=3_000_000), min_size=1, max_size=8),
    segment=st.sampled_from([1, 300_000, 1 << 20]),
    repetitive=st.booleans(),
)
def test_pushed_bytes_are_cut_exactly_as_a_stream_is(
    size: int, seed: int, steps: list[int], segment: int, repetitive: bool
) -> None:
    """An upload fed block by block (a web door between awaits) dedups with everything else."""
    data = b"\0" * size if repetitive else random_bytes(size, seed % 1000)
    feeder = ChunkFeeder(seed=seed, segment_size=segment)
    pushed: list[bytes] = []
    position, turn = 0, 0
    while position < size:
        step = steps[turn % len(steps)]
        pushed += feeder.feed(data[position : position + step])
        position, turn = position + step, turn + 1
    pushed += feeder.finish()
    assert pushed == list(iter_chunks(io.BytesIO(data), seed=seed))


def test_a_file_is_cut_by_the_tier_its_size_falls_in() -> None:
    assert CHUNK_SIZES.for_size(None) == CHUNK_SIZES.for_size(0) == CHUNK_PARAMS
    assert CHUNK_SIZES.for_size(LARGE_FILE_SIZE - 1) == CHUNK_PARAMS
    large = CHUNK_SIZES.for_size(LARGE_FILE_SIZE)
    assert (large.min_size, large.avg_size, large.max_size) == (65536, 65536, 393216)
    assert CHUNK_SIZES.for_size(HUGE_FILE_SIZE - 1) == large
    huge = CHUNK_SIZES.for_size(HUGE_FILE_SIZE)
    assert (huge.min_size, huge.avg_size, huge.max_size) == (131072, 131072, 786432)
    assert CHUNK_SIZES.for_size(2**50) == huge and CHUNK_SIZES.max_size == 786432
    assert ChunkSizes.only(SMALL).for_size(2**50) == SMALL


@pytest.mark.parametrize("starts", [(), (1,), (0, 0), (0, 10, 5)])
def test_tiers_start_at_zero_and_grow(starts: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="tiers must start at size 0"):
        ChunkSizes(tuple(ChunkTier(start, SMALL) for start in starts))
