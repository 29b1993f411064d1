"""A chunk batch is cut into the same chunks however its bytes are split into blocks."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sfs.protocol.chunk_frames import LENGTH_BYTES, FrameReader


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
