"""A file over 4 GiB (sizes and offsets past 32 bits) goes up and comes down whole. The file is
sparse, so the test costs reading it, not storing 4 GiB of random data."""

from __future__ import annotations

import os

from sfs.client.sync.engine import SyncEngine
from sfs.protocol.chunking import CHUNK_SIZES

FOUR_GIB = 4 * 1024**3
SIZE = FOUR_GIB + 3 * 1024 * 1024
MARKS = {0: b"start of the disk image", FOUR_GIB + 1_234_567: b"past the 32-bit boundary"}


def test_a_file_over_4_gib_syncs_both_ways(pair: tuple[SyncEngine, SyncEngine]) -> None:
    a, b = pair
    image = a.root / "disk.img"
    with open(image, "wb") as handle:
        handle.truncate(SIZE)
        for offset, mark in MARKS.items():
            handle.seek(offset)
            handle.write(mark)

    sent = a.sync_once()
    received = b.sync_once()

    assert (sent.uploaded, sent.failed) == (1, [])
    # Zeros deduplicate: the run of zeros, the chunks holding the marks and the tail, a handful
    # of chunks as big as a file of this size is cut in.
    assert sent.bytes_sent <= 5 * CHUNK_SIZES.for_size(SIZE).max_size
    assert (received.downloaded, received.failed) == (1, [])
    copy = b.root / "disk.img"
    assert copy.stat().st_size == SIZE
    with open(copy, "rb") as handle:
        for offset, mark in MARKS.items():
            handle.seek(offset)
            assert handle.read(len(mark)) == mark
    assert b.index.chunks_of("/disk.img") == a.index.chunks_of("/disk.img")
    assert a.api.stat("/disk.img").size == SIZE
    os.remove(copy)  # 4 GiB of real zeros on b's side: give the space back at once
