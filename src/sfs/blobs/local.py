"""Blobs as files under one folder: the embedded default.

A blob `packs/3fa2…` lives at `ROOT/packs/3f/3fa2…`: the first two characters of the last segment
fan names out over subfolders, so no folder holds more than ~1/256 of the blobs (random pack ids
spread evenly). Writes are atomic and durable: a temporary dot-file in the destination folder,
fsync, rename over the name, fsync the folder. A crash leaves at most an invisible `.tmp-*` file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from sfs.blobs.backend import BlobNotFound, check_name, check_range
from sfs.private_files import FOLDER_MODE, make_private_folder

_TEMPORARY_PREFIX = ".tmp-"


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalBackend:
    def __init__(self, root: Path) -> None:
        self.root = root
        make_private_folder(root)  # 0700: what lies below is no one else's to list or read

    def _path(self, name: str) -> Path:
        parent, _, base = check_name(name).rpartition("/")
        fan = (base + "__")[:2]
        return self.root / parent / fan / base if parent else self.root / fan / base

    def _make_folders(self, folder: Path) -> None:
        missing: list[Path] = []
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        for created in reversed(missing):
            created.mkdir(mode=FOLDER_MODE, exist_ok=True)
            # A new folder is durable only once its parent's entry is.
            _fsync_folder(created.parent)

    def put(self, name: str, data: bytes | bytearray) -> None:
        path = self._path(name)
        self._make_folders(path.parent)
        # mkstemp creates the file 0600, whatever the umask.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=_TEMPORARY_PREFIX)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _fsync_folder(path.parent)

    def get(self, name: str, offset: int = 0, length: int | None = None) -> bytes:
        check_range(offset, length)
        try:
            with self._path(name).open("rb") as handle:
                handle.seek(offset)
                return handle.read() if length is None else handle.read(length)
        except FileNotFoundError:
            raise BlobNotFound(name) from None

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def size(self, name: str) -> int:
        try:
            return self._path(name).stat().st_size
        except FileNotFoundError:
            raise BlobNotFound(name) from None

    def modified(self, name: str) -> datetime:
        try:
            return datetime.fromtimestamp(self._path(name).stat().st_mtime, UTC)
        except FileNotFoundError:
            raise BlobNotFound(name) from None

    def list(self, prefix: str = "") -> Iterator[str]:
        # Walk only the folder the prefix's complete segments name.
        start = prefix.rpartition("/")[0]
        top = self.root / start if start else self.root
        for folder, subfolders, files in os.walk(top):
            subfolders[:] = [sub for sub in subfolders if not sub.startswith(".")]
            relative = Path(folder).relative_to(self.root)
            if relative == Path("."):
                continue  # blobs live one level below a fan-out folder, never at the root
            for file_name in files:
                if file_name.startswith(".") or relative.name != (file_name + "__")[:2]:
                    continue  # temporary files of writes in progress (or of a crash)
                parent = relative.parent
                name = file_name if parent == Path(".") else f"{parent.as_posix()}/{file_name}"
                if name.startswith(prefix):
                    yield name
