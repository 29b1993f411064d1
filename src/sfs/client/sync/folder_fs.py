"""Every touch of the synced folder goes through one small interface.

The engine and the scanner never call `os` on the folder directly, so tests can put a
fault-injecting filesystem in between (as Syncthing's `errorfs` does) and prove what happens
when a disk refuses a folder, fills up, or a file changes while it is read.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from sfs.client.drop_behind import DropBehind


class FolderFS:
    """The real disk."""

    def listdir(self, folder: Path) -> list[str]:
        return os.listdir(folder)

    def lstat(self, path: Path) -> os.stat_result:
        return os.lstat(path)

    def stat(self, path: Path) -> os.stat_result:
        return os.stat(path)

    def exists(self, path: Path) -> bool:
        return os.path.lexists(path)

    def same_file(self, one: Path, other: Path) -> bool:
        return os.path.samefile(one, other)

    def open_read(self, path: Path) -> BinaryIO:
        return open(path, "rb")

    def write_file(
        self,
        path: Path,
        pieces: Iterable[bytes],
        *,
        mtime: float,
        keep: int = 0,
        durable: bool = True,
    ) -> None:
        """Write a file, durable (fsync) before anyone renames it into place unless the caller
        flushes many at once (`flush_all`); with `keep`, its first `keep` bytes (checked by the
        caller) stay and the rest is written after them."""
        with open(path, "r+b" if keep else "wb") as out:
            out.truncate(keep)
            out.seek(keep)
            behind = DropBehind(out.fileno(), keep)
            for piece in pieces:
                out.write(piece)
                behind.wrote(len(piece))
            out.flush()
            if durable:
                os.fsync(out.fileno())
        os.utime(path, (mtime, mtime))

    def flush_all(self) -> None:
        """Everything written so far onto the disk: one call for many files."""
        os.sync()

    def replace(self, source: Path, target: Path) -> None:
        os.replace(source, target)

    def rename(self, source: Path, target: Path) -> None:
        os.rename(source, target)

    def unlink(self, path: Path) -> None:
        path.unlink(missing_ok=True)

    def make_folder(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)

    def remove_tree(self, path: Path) -> None:
        shutil.rmtree(path)
