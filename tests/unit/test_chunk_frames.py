"""A chunk batch is cut into the same chunks however its bytes are split into blocks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sfs.protocol.chunk_frames import LENGTH_BYTES, FrameReader, framed_blocks


def framed(chunks: list[tuple[bytes, bytes]]) -> bytes:
    return b"".join(i + len(d).to_bytes(LENGTH_BYTES, "big") + d for i, d in chunks)


CHUNKS = st.lists(st.tuples(st.binary(min_size=32, max_size=32), st.binary(max_size=300)))


def blocks(body: bytes, cuts: list[int]) -> list[bytes]:
    """`body` split at these places (taken modulo its length), as a server receives it."""
    edges = sorted({0, len(body), *(c % (len(body) + 1) for c in cuts)})
    return [body[start:end] for start, end in pairwise(edges)]


@given(chunks=CHUNKS, cuts=st.lists(st.integers(min_value=0, max_value=20_000)))
def test_a_batch_split_anywhere_gives_the_same_chunks(
    chunks: list[tuple[bytes, bytes]], cuts: list[int]
) -> None:
    reader = FrameReader()
    got: list[tuple[str, bytes]] = []
    for block in blocks(framed(chunks), cuts):
        got += reader.feed(block)
    reader.finish()
    assert got == [(i.hex(), d) for i, d in chunks]


@pytest.mark.parametrize(
    ("cut", "message"), [(10, "inside a chunk header"), (40, "inside a chunk\\.")]
)
def test_a_batch_cut_short_is_refused_and_the_whole_chunks_before_the_cut_are_kept(
    cut: int, message: str
) -> None:
    first = (bytes(32), b"whole")
    body = framed([first, (b"\x01" * 32, b"cut off here")])
    reader = FrameReader()
    got = reader.feed(body[: len(framed([first])) + cut])
    assert got == [(bytes(32).hex(), b"whole")]
    with pytest.raises(ValueError, match=message):
        reader.finish()


@given(chunks=CHUNKS, cuts=st.lists(st.integers(min_value=0, max_value=20_000)))
def test_views_give_the_same_chunks_and_a_chunk_whole_in_its_block_is_not_copied(
    chunks: list[tuple[bytes, bytes]], cuts: list[int]
) -> None:
    body = framed(chunks)
    split = blocks(body, cuts)
    reader = FrameReader()
    got: list[tuple[str, bytes]] = []
    for block in split:
        for chunk_id, content in reader.feed_views(block):
            if isinstance(content, memoryview):
                assert content.obj is block  # a view of the block, not a copy
            got.append((chunk_id, bytes(content)))
    reader.finish()
    assert got == [(i.hex(), d) for i, d in chunks]
    if len(split) == 1 and chunks:  # the batch in one block: every chunk a view
        assert all(isinstance(c, memoryview) for _, c in FrameReader().feed_views(body))


def _writer(content: bytes) -> Callable[[memoryview], None]:
    def write(space: memoryview) -> None:
        space[:] = content

    return write


@given(chunks=CHUNKS, block_size=st.integers(min_value=1, max_value=1_000))
def test_chunks_framed_in_blocks_read_back_as_the_same_chunks(
    chunks: list[tuple[bytes, bytes]], block_size: int
) -> None:
    made = list(framed_blocks(((i.hex(), len(d), _writer(d)) for i, d in chunks), block_size))
    assert b"".join(made) == framed(chunks)
    # A block holds whole frames and is no larger than its size unless one frame is.
    assert all(len(b) <= block_size or len(FrameReader().feed(bytes(b))) == 1 for b in made)


def test_framed_blocks_are_handed_out_as_they_fill_not_once_all_are_read() -> None:
    pulled: list[int] = []

    def chunks() -> Iterator[tuple[str, int, Callable[[memoryview], None]]]:
        for n in range(10):
            pulled.append(n)
            yield f"{n:064x}", 60, _writer(bytes([n]) * 60)

    blocks = framed_blocks(chunks(), 200)
    first = next(blocks)
    assert FrameReader().feed(bytes(first)) == [(f"{n:064x}", bytes([n]) * 60) for n in (0, 1)]
    assert pulled == [0, 1, 2]  # the third chunk did not fit: read, then waits for the next block


def test_a_chunk_that_fails_to_be_written_stops_the_stream_before_its_block() -> None:
    def damaged(space: memoryview) -> None:
        space[:] = b"\xff" * len(space)  # what a failed decryption may leave behind
        raise ValueError("corrupt")

    chunks = [("a" * 64, 10, _writer(b"x" * 10)), ("b" * 64, 10, damaged)]
    blocks = framed_blocks(iter(chunks), 1000)
    with pytest.raises(ValueError, match="corrupt"):
        next(blocks)  # the block that held the good chunk is never handed out either
