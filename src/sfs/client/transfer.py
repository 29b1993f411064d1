"""Upload and download of whole files (`sfs put`, `sfs get`), with progress callbacks, through
the sync engine's own transfer path.

Upload: the file is read once, cut and hashed exactly as the server would cut it (the
organisation's chunking parameters and chunk-id key); its chunks go through the sync client's
`ChunkSender` (a "which are missing?" question, then one framed batch of the missing ones, a
batch in flight while the next is read), and one commit makes the new version from the
manifest and the version it replaces. Chunks the server holds (an unchanged file, a put cut
short and tried again) are never sent twice.

Download: the version's manifest, then its chunks in order through the sync client's
`chunks_in_order` (batches, one fetched ahead), streamed into a temp file beside the
destination, fsynced and renamed into place, so the destination holds the old file or the whole
new one, never a part.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from sfs.client.api import ApiClient, ApiError, ManifestEntry, RemoteNode
from sfs.client.drop_behind import DropBehind
from sfs.client.sync.fetcher import chunks_in_order
from sfs.client.sync.remote import FileManifest, SyncApi
from sfs.client.sync.report import Report
from sfs.client.sync.sender import ChunkSender
from sfs.protocol.chunk_ids import chunk_id
from sfs.protocol.chunking import iter_chunks
from sfs.protocol.limits import clamp_timestamp

READ_BLOCK = 1024 * 1024


class Progress(Protocol):
    """Told about each phase of a transfer and each piece of it done."""

    def start(self, description: str, total: int | None) -> None: ...

    def advance(self, amount: int) -> None: ...

    def finish(self) -> None: ...


class NoProgress:
    def start(self, description: str, total: int | None) -> None:
        pass

    def advance(self, amount: int) -> None:
        pass

    def finish(self) -> None:
        pass


class _BytesDone:
    """A sync pass's progress (`PassProgress`) told to a transfer's `Progress`: bytes only."""

    def __init__(self, shown: Progress) -> None:
        self._shown = shown

    def begin(self, files: int, size: int) -> None:
        pass

    def advance(self, *, files: int = 0, size: int = 0) -> None:
        if size:
            self._shown.advance(size)

    def end(self) -> None:
        pass


@dataclass(frozen=True)
class _Sending:
    """Where one upload's chunks go (`ChunkSender`'s side)."""

    api: ApiClient
    progress: _BytesDone


class TransferError(Exception):
    """A transfer could not be done for a reason on this side; the message says why."""


class RemoteChanged(TransferError):
    """The remote file got a new version after this upload began; nothing was committed."""


@dataclass(frozen=True, slots=True)
class UploadResult:
    node: RemoteNode
    size: int
    chunks: int
    chunks_sent: int
    bytes_sent: int


@dataclass(frozen=True, slots=True)
class DownloadResult:
    node: RemoteNode
    path: Path
    size: int


def upload_file(
    api: ApiClient,
    source: Path,
    remote: str,
    *,
    device_name: str | None = None,
    progress: Progress | None = None,
) -> UploadResult:
    """Make `source` the new version of `remote` (or a new file), sending only missing chunks.

    When `remote` exists, its current version is the base; if someone else commits in between,
    the server answers 409 and nothing changes.
    """
    shown = progress or NoProgress()
    before = os.stat(source)
    existing = api.stat_or_none(remote)
    if existing is not None and existing.is_folder:
        raise TransferError(f"{existing.path} is a folder on the server")
    base_version = existing.version if existing is not None else None
    chunking = api.chunking()

    report = Report()
    sender = ChunkSender(_Sending(api, _BytesDone(shown)))
    sender.start_pass(chunking)
    manifest: list[ManifestEntry] = []
    shown.start(f"Uploading {source.name}", before.st_size)
    try:
        with source.open("rb") as stream:
            params = chunking.sizes.for_size(before.st_size)
            for piece in iter_chunks(_blocks(stream), params, seed=chunking.seed):
                piece_id = chunk_id(chunking.chunk_id_key, piece)
                manifest.append(ManifestEntry(piece_id, len(piece)))
                sender.queue(piece_id, piece, report)
        sender.flush(report)
        sender.wait()  # the commit needs its chunks stored
    finally:
        sender.end_pass()
    shown.finish()

    after = os.stat(source)
    size = sum(e.size for e in manifest)
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or (
        size != before.st_size
    ):
        raise _changed_while_read(source)
    try:
        node = api.commit(
            remote,
            manifest,
            modified_at=datetime.fromtimestamp(clamp_timestamp(before.st_mtime), UTC),
            base_version=base_version,
            device_name=device_name,
        )
    except ApiError as exc:
        if exc.status == 409:
            _raise_if_changed_meanwhile(api, remote, base_version)
        raise
    return UploadResult(
        node=node,
        size=size,
        chunks=len(manifest),
        chunks_sent=report.chunks_sent,
        bytes_sent=report.bytes_sent,
    )


def file_version(api: SyncApi, remote: str, version: int | None) -> tuple[RemoteNode, FileManifest]:
    """A file and the manifest of its current version (or of `version`): TransferError for a
    folder or a version it does not have."""
    node = api.stat(remote)
    if node.is_folder:
        raise TransferError(f"{node.path} is a folder; give a file")
    (found,) = api.manifests([(uuid.UUID(node.id), version)])
    if isinstance(found, ApiError):
        if version is not None and found.code == "not_found":
            raise TransferError(f"{node.path} has no version {version}")
        raise found
    return node, found


def version_content(api: SyncApi, manifest: FileManifest, progress: Progress) -> Iterator[bytes]:
    """A version's bytes in order, as the sync client fetches them."""
    return chunks_in_order(api, manifest.chunks, Report(), _BytesDone(progress))


def download_file(
    api: SyncApi,
    remote: str,
    destination: Path,
    *,
    version: int | None = None,
    progress: Progress | None = None,
) -> DownloadResult:
    """Write `remote` (or one of its versions) to `destination`, atomically."""
    shown = progress or NoProgress()
    node, manifest = file_version(api, remote, version)

    folder = destination.parent
    handle, temp_name = tempfile.mkstemp(
        prefix=f".{destination.name}.", suffix=".sfs-part", dir=folder
    )
    try:
        written = 0
        with os.fdopen(handle, "wb") as temp:
            shown.start(f"Downloading {node.name}", manifest.size)
            behind = DropBehind(temp.fileno())
            for block in version_content(api, manifest, shown):
                temp.write(block)
                written += len(block)
                behind.wrote(len(block))
            shown.finish()
            if written != manifest.size:
                raise TransferError(
                    f"the download of {node.path} ended after {written} of {manifest.size} bytes"
                )
            temp.flush()
            os.fsync(temp.fileno())
        os.chmod(temp_name, 0o666 & ~_umask())
        # Whatever the server holds, the file gets a time every file system here can keep.
        stamp = clamp_timestamp(manifest.modified_at.timestamp())
        os.utime(temp_name, (stamp, stamp))
        os.replace(temp_name, destination)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    _fsync_folder(folder)
    return DownloadResult(node=node, path=destination, size=written)


def _raise_if_changed_meanwhile(api: ApiClient, remote: str, base_version: int | None) -> None:
    # The server answers 409 for a stale base and for name clashes alike: tell them apart.
    current = api.stat_or_none(remote)
    if current is not None and not current.is_folder and current.version != base_version:
        raise RemoteChanged(
            f"{current.path} changed on the server while you uploaded (now version "
            f"{current.version}); get it, merge your change and put it again"
        )


def _changed_while_read(source: Path) -> TransferError:
    return TransferError(f"{source} changed while it was being uploaded; nothing was committed")


def _blocks(stream: BinaryIO) -> Iterator[bytes]:
    while block := stream.read(READ_BLOCK):
        yield block


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
