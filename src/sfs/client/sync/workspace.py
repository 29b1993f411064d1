"""What every part of a pass shares: the folder on disk, the index, the server, and how a path's
outcome is told.

The coordinator (`engine`), the uploads and the downloads each need the same few things: where a
path is on disk and what a stat of it says, a local file cut into chunks and hashed, one way to
run a path's work so that its failure fails that path only, and one way to tell an event. They
live here, in the way Syncthing's folder type carries what its scanner, puller and sender share,
so the three use them without importing one another.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sfs.client.api import ApiError, Chunking, ManifestEntry
from sfs.client.local_paths import UnsafePath, local_path
from sfs.client.sync.errors import FileChanged, ends_the_pass, reason_of
from sfs.client.sync.folder_fs import FolderFS
from sfs.client.sync.index import LocalIndex
from sfs.client.sync.reconcile import FILE, FOLDER, BaseEntry, LocalEntry
from sfs.client.sync.remote import SyncApi
from sfs.client.sync.report import Event, PassProgress, Report
from sfs.client.sync.scanner import Scan, mtime_ns
from sfs.protocol.chunk_ids import chunk_id
from sfs.protocol.chunking import iter_chunks

READ_BLOCK = 1024 * 1024


class Workspace:
    """One synced folder and what works on it. The engine is one (its attributes, which a caller
    may set, are these); its uploader and downloader are handed it and read them as they go."""

    def __init__(
        self,
        root: Path,
        api: SyncApi,
        fs: FolderFS,
        progress: PassProgress,
        device: str,
        index: LocalIndex,
        on_event: Callable[[Event], None],
    ) -> None:
        self.root = root
        self.api = api
        self.fs = fs
        self.progress = progress
        self.device = device
        self.index = index
        self._on_event = on_event
        self.chunking: Chunking | None = None  # the server's, asked for by the first pass

    def cut(self, disk: Path, size: int) -> Iterator[tuple[str, bytes]]:
        """A local file's chunks and their ids, in order, read a block at a time; cut as the
        server says a file of `size` bytes (the scan's) is cut. A file whose size changed
        since is refused by the caller's check of its stat after the read."""
        chunking = self.chunking
        assert chunking is not None
        with self.fs.open_read(disk) as handle:
            params = chunking.sizes.for_size(size)
            for piece in iter_chunks(_blocks(handle), params, seed=chunking.seed):
                yield chunk_id(chunking.chunk_id_key, piece), piece

    def chunk_file(self, path: str, folder: Scan, local: LocalEntry) -> list[ManifestEntry]:
        """Cut and hash a local file (memory flat); FileChanged if it changes meanwhile."""
        disk = self.disk(path, folder)
        manifest = [
            ManifestEntry(piece_id, len(piece)) for piece_id, piece in self.cut(disk, local.size)
        ]
        if self.stat(disk, FILE) != local:
            raise FileChanged(f"{path} changed while it was read")
        return manifest

    def attempt(self, path: str, report: Report, work: Callable[[], None]) -> None:
        """One path's work: its failure is reported and retried next pass, unless it ends the
        pass for every path (the server unreachable, the device refused)."""
        try:
            work()
        except (ApiError, OSError, FileChanged, UnsafePath) as problem:
            if isinstance(problem, ApiError) and ends_the_pass(problem):
                raise
            self.failed(path, reason_of(problem), report)

    def stat(self, disk: Path, kind: str) -> LocalEntry:
        info = self.fs.stat(disk)
        if kind == FOLDER:
            return LocalEntry(FOLDER, 0, 0, info.st_ino)
        return LocalEntry(FILE, info.st_size, mtime_ns(info), info.st_ino)

    def disk(self, path: str, folder: Scan) -> Path:
        """Where `path` is in the folder: its name on disk when the scan found it under another
        form (NFD); else proven inside the folder, or UnsafePath (`local_paths`)."""
        found = folder.disk_names.get(path)
        return self.root / found if found is not None else local_path(self.root, path)

    def failed(self, path: str, reason: str, report: Report) -> None:
        report.failed.append((path, reason))
        self.index.fail(path, reason, datetime.now(UTC).isoformat(timespec="seconds"))
        self.event("failed", path, reason=reason)

    def event(self, kind: str, path: str, **details: Any) -> None:
        self._on_event({"event": kind, "path": path, **details})


def content_digest(chunk_ids: list[str]) -> str:
    """The server's ETag for a manifest: equal content, equal digest."""
    digest = hashlib.sha256()
    for chunk in chunk_ids:
        digest.update(chunk.encode() + b"\n")
    return digest.hexdigest()


def as_base(
    local: LocalEntry, version: int | None, etag: str | None, node_id: uuid.UUID | None
) -> BaseEntry:
    """The index's record of a path both sides now agree on."""
    return BaseEntry(local.kind, local.size, local.mtime_ns, local.inode, version, etag, node_id)


def mtime_of(local: LocalEntry) -> datetime:
    """A local file's mtime, as the scan brought it into the window the server holds."""
    return datetime.fromtimestamp(local.mtime_ns / 1e9, UTC)


def _blocks(handle: Any) -> Iterator[bytes]:
    while block := handle.read(READ_BLOCK):
        yield block
