"""Bytes a sync would send after an edit, per chunking parameter set, next to rsync's delta.

Run: .venv/bin/python -m bench.delta_sizes [--size-mib 100] [--positions 3]

For a file of random bytes (random content is the worst case: nothing repeats) and three edits
— (a) a 4 KiB in-place overwrite, (b) a 1 MiB insertion, (c) a 1 MiB append — it counts what a
sync would send: the new chunks' bytes plus the manifest (32-byte id and 8 bytes of sizes per
chunk). The baseline is `rsync --stats --no-whole-file` between two local folders, measured in
the same run (its delta algorithm; "Total bytes sent" and "Literal data"). Edits (a) and (b) are
made at `--positions` places around the middle; the worst is reported.

Goals (issue 5): (a) new chunks <= 128 KiB (Syncthing's smallest block) plus the manifest;
(b) at most 2x rsync's total bytes sent.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sfs.protocol.chunk_ids import chunk_id, derive_seed
from sfs.protocol.chunking import CHUNK_PARAMS, CHUNK_SIZES, ChunkParams, iter_chunks

KiB = 1024
MiB = 1024 * KiB
MANIFEST_BYTES_PER_CHUNK = 32 + 8
KEY = bytes(range(32))

CANDIDATES = {
    "16/16/96 KiB (chosen)": CHUNK_PARAMS,
    "12/24/96 KiB": ChunkParams(12 * KiB, 24 * KiB, 96 * KiB),
    "16/32/128 KiB": ChunkParams(16 * KiB, 32 * KiB, 128 * KiB),
    "256 KiB/1/4 MiB (DESIGN)": ChunkParams(256 * KiB, 1 * MiB, 4 * MiB),
    # The bigger files' tiers (`CHUNK_SIZES`): meant for files of 256 MiB and 1 GiB or more.
    **{
        f"{t.params.min_size // KiB}/{t.params.avg_size // KiB}/{t.params.max_size // KiB} KiB "
        f"(from {t.from_size // MiB} MiB)": t.params
        for t in CHUNK_SIZES.tiers[1:]
    },
}


@dataclass
class Chunked:
    sizes: dict[str, int]
    count: int

    @property
    def manifest_bytes(self) -> int:
        return self.count * MANIFEST_BYTES_PER_CHUNK


def chunk_file(path: Path, params: ChunkParams) -> Chunked:
    sizes: dict[str, int] = {}
    count = 0
    with path.open("rb") as handle:
        for chunk in iter_chunks(handle, params, seed=derive_seed(KEY)):
            sizes[chunk_id(KEY, chunk)] = len(chunk)
            count += 1
    return Chunked(sizes, count)


def write_random(path: Path, size: int, rng: random.Random) -> None:
    with path.open("wb") as handle:
        for start in range(0, size, MiB):
            handle.write(rng.randbytes(min(MiB, size - start)))


def copy_with_edit(source: Path, target: Path, edit: Callable[[bytes, int], bytes]) -> None:
    """Copy `source` to `target` block by block, letting `edit` rewrite each (block, offset)."""
    with source.open("rb") as reader, target.open("wb") as writer:
        offset = 0
        while block := reader.read(MiB):
            writer.write(edit(block, offset))
            offset += len(block)


def rsync_delta(original: Path, edited: Path, work: Path) -> tuple[int, int]:
    """(total bytes sent, literal data) for rsync bringing `original` up to `edited`."""
    source, destination = work / "src", work / "dst"
    for folder in (source, destination):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
    shutil.copyfile(edited, source / "file")
    shutil.copyfile(original, destination / "file")
    result = subprocess.run(
        ["rsync", "--stats", "--no-whole-file", "--ignore-times", str(source / "file"),
         str(destination / "file")],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    sent = re.search(r"Total bytes sent: ([\d,]+)", result.stdout)
    literal = re.search(r"Literal data: ([\d,]+)", result.stdout)
    assert sent and literal, result.stdout
    return int(sent.group(1).replace(",", "")), int(literal.group(1).replace(",", ""))


Edit = Callable[[bytes, int], bytes]


def edits(size: int, positions: int, rng: random.Random) -> Iterator[tuple[str, Edit]]:
    patch = rng.randbytes(4 * KiB)
    insertion = rng.randbytes(1 * MiB)
    # Spread evenly over the middle 80% of the file, off any power-of-two alignment.
    step = (size * 8 // 10) // max(1, positions - 1)
    places = [size // 10 + step * i + 12_345 for i in range(positions)]

    for place in places:

        def overwrite(block: bytes, offset: int, place: int = place) -> bytes:
            if offset <= place < offset + len(block):
                at = place - offset
                return (block[:at] + patch + block[at + len(patch) :])[: len(block)]
            return block

        yield f"(a) 4 KiB overwrite @ {place / MiB:.1f} MiB", overwrite

    for place in places:

        def insert(block: bytes, offset: int, place: int = place) -> bytes:
            if offset <= place < offset + len(block):
                at = place - offset
                return block[:at] + insertion + block[at:]
            return block

        yield f"(b) 1 MiB insertion @ {place / MiB:.1f} MiB", insert

    def append(block: bytes, offset: int) -> bytes:
        return block + insertion if offset + len(block) == size else block

    yield "(c) 1 MiB append", append


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=100)
    parser.add_argument("--positions", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: a temp)")
    arguments = parser.parse_args()
    size = arguments.size_mib * MiB
    rng = random.Random(20261125)

    with tempfile.TemporaryDirectory(dir=arguments.dir) as folder:
        work = Path(folder)
        original, edited = work / "original", work / "edited"
        write_random(original, size, rng)
        before = {name: chunk_file(original, params) for name, params in CANDIDATES.items()}
        print(f"file: {arguments.size_mib} MiB of random bytes")
        for name, chunked in before.items():
            mean = size / chunked.count / KiB
            print(f"  {name:26} {chunked.count:6} chunks, mean {mean:6.1f} KiB, "
                  f"manifest {chunked.manifest_bytes / KiB:6.1f} KiB")  # fmt: skip
        print()
        header = f"{'edit':34} {'rsync sent':>11} {'literal':>9}"
        print(header + "".join(f" | {name[:20]:>20}" for name in CANDIDATES))
        for label, edit in edits(size, arguments.positions, rng):
            copy_with_edit(original, edited, edit)
            sent, literal = rsync_delta(original, edited, work)
            row = f"{label:34} {sent / KiB:9.0f}Ki {literal / KiB:7.0f}Ki"
            for name, params in CANDIDATES.items():
                after = chunk_file(edited, params)
                new = sum(s for i, s in after.sizes.items() if i not in before[name].sizes)
                total = new + after.manifest_bytes
                row += f" | {new / KiB:6.0f}+{after.manifest_bytes / KiB:4.0f} {total / sent:5.2f}x"
            print(row)
        print()
        print("columns per parameter set: new chunk KiB + manifest KiB, and the total's ratio to")
        print("rsync's total bytes sent. Goals: (a) new chunks <= 128 KiB; (b) ratio <= 2.00x.")


if __name__ == "__main__":
    main()
