"""A fault-injecting folder for sync tests, after Syncthing's `lib/fs/errorfs`.

Operations on paths matching a pattern fail with a chosen errno (permission denied, disk full,
an I/O error), optionally after some bytes were written; or a file is changed by "another
program" while sync reads it. `heal()` takes every fault away, as freeing space or fixing
permissions would.
"""

from __future__ import annotations

import errno
import fnmatch
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, cast

from sfs.client.sync.folder_fs import FolderFS

OPERATIONS = {
    "listdir",
    "lstat",
    "stat",
    "open_read",
    "write_file",
    "replace",
    "rename",
    "unlink",
    "make_folder",
    "remove_tree",
}


@dataclass
class _Fault:
    operation: str
    pattern: str
    code: int
    after_bytes: int | None = None


class ErrorFS(FolderFS):
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._faults: list[_Fault] = []
        self._tamper: dict[str, Callable[[Path], None]] = {}
        self.refused: list[tuple[str, str]] = []  # (operation, relative path) that failed

    # -- setting faults up ----------------------------------------------------------------------

    def fail(
        self, operation: str, pattern: str, code: int, *, after_bytes: int | None = None
    ) -> None:
        """`pattern` is matched (fnmatch) against the path relative to the folder, 'a/b.txt'."""
        assert operation in OPERATIONS, operation
        self._faults.append(_Fault(operation, pattern, code, after_bytes))

    def change_while_read(self, pattern: str, change: Callable[[Path], None]) -> None:
        """Once, right after sync's first read of a matching file, `change(path)` runs."""
        self._tamper[pattern] = change

    def heal(self) -> None:
        self._faults.clear()
        self._tamper.clear()

    # -- the filesystem -------------------------------------------------------------------------

    def listdir(self, folder: Path) -> list[str]:
        self._check("listdir", folder)
        return super().listdir(folder)

    def lstat(self, path: Path) -> os.stat_result:
        self._check("lstat", path)
        return super().lstat(path)

    def stat(self, path: Path) -> os.stat_result:
        self._check("stat", path)
        return super().stat(path)

    def open_read(self, path: Path) -> BinaryIO:
        self._check("open_read", path)
        handle = super().open_read(path)
        relative = self._relative(path)
        for pattern in list(self._tamper):
            if fnmatch.fnmatchcase(relative, pattern):
                change = self._tamper.pop(pattern)
                return cast(BinaryIO, _ChangedAfterFirstRead(handle, change, path))
        return handle

    def write_file(
        self,
        path: Path,
        pieces: Iterable[bytes],
        *,
        mtime: float,
        keep: int = 0,
        durable: bool = True,
    ) -> None:
        fault = self._fault("write_file", path)
        if fault is not None and fault.after_bytes is not None:
            # A disk that fills up part way: some bytes land, then the write fails.
            pieces = self._cut_off(pieces, fault, path)
        else:
            self._check("write_file", path)
        super().write_file(path, pieces, mtime=mtime, keep=keep, durable=durable)

    def replace(self, source: Path, target: Path) -> None:
        self._check("replace", target)
        super().replace(source, target)

    def rename(self, source: Path, target: Path) -> None:
        self._check("rename", source)
        super().rename(source, target)

    def unlink(self, path: Path) -> None:
        self._check("unlink", path)
        super().unlink(path)

    def make_folder(self, path: Path) -> None:
        self._check("make_folder", path)
        super().make_folder(path)

    def remove_tree(self, path: Path) -> None:
        self._check("remove_tree", path)
        super().remove_tree(path)

    # -- inside ---------------------------------------------------------------------------------

    def _relative(self, path: Path) -> str:
        return Path(os.path.abspath(path)).relative_to(self.root).as_posix()

    def _fault(self, operation: str, path: Path) -> _Fault | None:
        relative = self._relative(path)
        for fault in self._faults:
            if fault.operation == operation and fnmatch.fnmatchcase(relative, fault.pattern):
                return fault
        return None

    def _check(self, operation: str, path: Path) -> None:
        fault = self._fault(operation, path)
        if fault is not None:
            self.refused.append((operation, self._relative(path)))
            raise OSError(fault.code, os.strerror(fault.code), str(path))

    def _cut_off(self, pieces: Iterable[bytes], fault: _Fault, path: Path) -> Iterator[bytes]:
        budget = fault.after_bytes or 0
        for piece in pieces:
            if len(piece) > budget:
                yield piece[:budget]
                self.refused.append(("write_file", self._relative(path)))
                raise OSError(fault.code, os.strerror(fault.code), str(path))
            budget -= len(piece)
            yield piece


class _ChangedAfterFirstRead:
    """A file handle that lets "another program" write to the file after the first read."""

    def __init__(self, handle: BinaryIO, change: Callable[[Path], None], path: Path) -> None:
        self._handle = handle
        self._change: Callable[[Path], None] | None = change
        self._path = path

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        if self._change is not None:
            change, self._change = self._change, None
            change(self._path)
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._handle.seek(offset, whence)

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> _ChangedAfterFirstRead:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


DISK_FULL = errno.ENOSPC
PERMISSION_DENIED = errno.EACCES
IO_ERROR = errno.EIO
