"""How big a second device's news of an edit is, per manifest encoding.

Run: .venv/bin/python -m bench.manifest_encodings [--size-mib 256] [--insert-kib 1024]

A file of random bytes is cut with the real chunker (FastCDC, the server's parameters, a random
key), then `--insert-kib` of random bytes are inserted at an unaligned offset in the middle and
it is cut again. Printed: the bytes a device holding the first version receives to learn the
second one's chunk list, per encoding — the whole list as JSON (what `GET /manifest` answers),
the same gzip-compressed (zlib level 6), the list as runs of the old one in the commit's JSON
form (and gzipped), and the binary delta of `sfs.protocol.manifest_delta` (and gzipped). Ratios
against the binary delta of the same run. Response heads are left out (about 200 B each).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime

from sfs.protocol.chunk_ids import chunk_id, derive_seed
from sfs.protocol.chunking import iter_chunks
from sfs.protocol.manifest_delta import Copy, ManifestDelta, content_digest, diff, encode

MiB = 1024 * 1024
BLOCK = 4 * MiB


def blocks(seed: int, size: int, insert_at: int | None, insert: bytes) -> Iterator[bytes]:
    """The file's bytes (the same for a seed), with `insert` at `insert_at` when given."""
    source = random.Random(seed)
    position = 0
    while position < size:
        block = source.randbytes(min(BLOCK, size - position))
        if insert_at is not None and position <= insert_at < position + len(block):
            cut = insert_at - position
            block = block[:cut] + insert + block[cut:]
        position += BLOCK
        yield block


def manifest(key: bytes, pieces: Iterator[bytes]) -> list[tuple[str, int]]:
    seed = derive_seed(key)
    return [(chunk_id(key, piece), len(piece)) for piece in iter_chunks(pieces, seed=seed)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--insert-kib", type=int, default=1024)
    args = parser.parse_args()
    key, seed, size = os.urandom(32), random.randrange(1 << 30), args.size_mib * MiB
    insert = os.urandom(args.insert_kib * 1024)
    old = manifest(key, blocks(seed, size, None, b""))
    new = manifest(key, blocks(seed, size, size // 2 + 12_345, insert))
    operations = diff([c for c, _ in old], new)
    delta = ManifestDelta(
        version=2,
        size=sum(n for _, n in new),
        modified_at=datetime.now(UTC),
        digest=content_digest([c for c, _ in new]),
        base_count=len(old),
        count=len(new),
        operations=operations,
    )
    whole = json.dumps({"chunks": [{"chunk_id": c, "size": n} for c, n in new]}).encode()
    runs = json.dumps(
        [
            {"from_base": op.start, "count": op.count}
            if isinstance(op, Copy)
            else {"chunk_id": op[0], "size": op[1]}
            for op in operations
        ]
    ).encode()
    binary = encode(delta)
    fresh = sum(1 for op in operations if not isinstance(op, Copy))
    print(
        f"{args.size_mib} MiB file, {len(new)} chunks; {args.insert_kib} KiB inserted mid-file:"
        f" {fresh} new chunks, {len(operations) - fresh} runs of the old list"
    )
    for label, size_of in [
        ("whole list, JSON (GET /manifest)", len(whole)),
        ("whole list, JSON, gzip", len(zlib.compress(whole, 6))),
        ("runs + new chunks, JSON", len(runs)),
        ("runs + new chunks, JSON, gzip", len(zlib.compress(runs, 6))),
        ("binary delta (manifest-delta)", len(binary)),
        ("binary delta, gzip", len(zlib.compress(binary, 6))),
    ]:
        print(f"  {label:36} {size_of:>11,} B   ratio {size_of / len(binary):8.2f}")


if __name__ == "__main__":
    main()
