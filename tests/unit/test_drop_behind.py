"""A big download's written bytes are handed to the disk and dropped from memory as it goes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sfs.client import drop_behind
from sfs.client.drop_behind import REACH, WINDOW
from sfs.client.sync.folder_fs import FolderFS

MiB = 1024 * 1024


def test_every_window_written_is_advised_once_written_and_never_beyond(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    advised: list[tuple[int, int]] = []
    path = tmp_path / "big.bin"

    def advise(descriptor: int, offset: int, length: int, advice: int) -> None:
        assert advice == os.POSIX_FADV_DONTNEED
        assert offset + length <= os.fstat(descriptor).st_size  # only bytes written so far
        advised.append((offset, offset + length))

    monkeypatch.setattr(drop_behind, "_ADVISE", advise)
    pieces = [bytes([n]) * (MiB + 17) for n in range(40)]
    FolderFS().write_file(path, pieces, mtime=1_000_000_000)
    assert path.read_bytes() == b"".join(pieces)
    # Every byte but the last window's is advised, each more than once: a later call drops
    # what an earlier one handed to the disk.
    whole = len(pieces) * (MiB + 17)
    covered = [0] * (whole // MiB + 1)
    for start, end in advised:
        assert end - start <= REACH
        for mib in range(start // MiB, end // MiB):
            covered[mib] += 1
    assert advised[-1][1] > whole - WINDOW
    assert all(times >= 2 for times in covered[: (whole - REACH) // MiB])


def test_a_file_system_that_refuses_the_advice_is_written_all_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(descriptor: int, offset: int, length: int, advice: int) -> None:
        raise OSError(95, "Operation not supported")

    monkeypatch.setattr(drop_behind, "_ADVISE", refuse)
    pieces = [os.urandom(MiB) for _ in range(20)]
    FolderFS().write_file(tmp_path / "big.bin", pieces, mtime=1_000_000_000, keep=0)
    assert (tmp_path / "big.bin").read_bytes() == b"".join(pieces)
