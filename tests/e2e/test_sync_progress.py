"""A pass says up front how many files and bytes it will move, and counts them as they go."""

from __future__ import annotations

import os
from pathlib import Path

from sfs.client.sync.engine import SyncEngine
from tests.e2e.test_sync_two_clients import write


class Recorder:
    def __init__(self) -> None:
        self.totals: list[tuple[int, int]] = []
        self.files = 0
        self.size = 0
        self.ended = 0

    def begin(self, files: int, size: int) -> None:
        self.totals.append((files, size))
        self.files = self.size = 0

    def advance(self, *, files: int = 0, size: int = 0) -> None:
        self.files += files
        self.size += size

    def end(self) -> None:
        self.ended += 1


def test_progress_counts_every_file_and_byte_of_the_plan(
    pair: tuple[SyncEngine, SyncEngine],
) -> None:
    a, b = pair
    a.progress, b.progress = Recorder(), Recorder()
    bodies = {"one.bin": os.urandom(700_000), "two.txt": b"two", "Sub/three.bin": b"3" * 5000}
    for name, body in bodies.items():
        write(a.root / name, body)
    write(a.root / "Sub" / "again.bin", bodies["one.bin"])  # deduplicated, still counted
    total = sum(map(len, bodies.values())) + len(bodies["one.bin"])

    a.sync_once()
    b.sync_once()

    for recorder in (a.progress, b.progress):
        assert isinstance(recorder, Recorder)
        assert recorder.totals == [(4, total)] and recorder.ended == 1
        assert (recorder.files, recorder.size) == (4, total)
    a.sync_once()  # nothing to do: an empty plan, still begun and ended
    assert isinstance(a.progress, Recorder) and a.progress.totals[-1] == (0, 0)
    assert Path(b.root / "Sub" / "again.bin").read_bytes() == bodies["one.bin"]
