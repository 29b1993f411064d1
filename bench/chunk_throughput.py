"""Chunk + hash + encrypt (+ pack to disk) throughput, next to a plain `cp` of the same file.

Run: .venv/bin/python -m bench.chunk_throughput [--size-mib 512] [--dir DIR]

Generates a file of random bytes in DIR (default: a temp folder), then measures on the same disk:
- baseline: `cp FILE COPY` followed by `sync` (what the disk and page cache allow);
- prepare: FastCDC + keyed BLAKE3 + AES-256-GCM, streaming from the file (`ChunkStore.prepare`);
- store: the same, plus writing 16 MiB packs into a `LocalBackend` (fsync per pack).
Each is reported in MB/s and as a ratio to `cp`.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sfs.blobs.chunk_store import ChunkStore
from sfs.blobs.local import LocalBackend
from sfs.crypto.keys import OrganisationKeys
from sfs.ports import SystemRandomness

MiB = 1024 * 1024


def timed(action: Callable[[], None]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--dir", type=Path, default=None)
    arguments = parser.parse_args()
    size = arguments.size_mib * MiB
    keys = OrganisationKeys.generate(SystemRandomness())

    with tempfile.TemporaryDirectory(dir=arguments.dir) as folder:
        work = Path(folder)
        source = work / "source"
        rng = random.Random(1)
        with source.open("wb") as handle:
            for _ in range(arguments.size_mib):
                handle.write(rng.randbytes(MiB))
        subprocess.run(["sync"], check=True)

        def copy() -> None:
            subprocess.run(["cp", str(source), str(work / "copy")], check=True)
            subprocess.run(["sync"], check=True)

        store = ChunkStore(LocalBackend(work / "blobs"))

        def prepare() -> None:
            with source.open("rb") as handle:
                for _ in store.prepare(keys, handle):
                    pass

        def prepare_and_store() -> None:
            with source.open("rb") as handle, store.writer(keys) as writer:
                for chunk in store.prepare(keys, handle):
                    writer.add(chunk.chunk_id, chunk.sealed)
                writer.flush()

        baseline = timed(copy)
        results = {
            "cp + sync (baseline)": baseline,
            "chunk + hash + encrypt": timed(prepare),
            "... + write packs (fsync)": timed(prepare_and_store),
        }
        print(f"file: {arguments.size_mib} MiB of random bytes in {work}")
        for label, seconds in results.items():
            rate = size / seconds / 1e6
            print(f"  {label:28} {rate:8.1f} MB/s   {baseline / seconds:5.2f}x of cp")


if __name__ == "__main__":
    main()
