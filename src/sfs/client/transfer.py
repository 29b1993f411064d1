"""Upload and download of whole files, with progress callbacks.

Upload is a delta: the file is cut and hashed locally exactly as the server would cut it (the
organisation's chunking parameters and chunk-id key), the server is asked which chunks it lacks,
only those are sent, and one commit makes the new version from the manifest and the version it
replaces. Memory stays flat: the file is read twice (hash, then send) rather than held.

Download streams into a temp file beside the destination, fsyncs and renames it into place, so
the destination holds the old file or the whole new one, never a part.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sfs.client.api import ApiClient, ApiError, Chunking, ManifestEntry, RemoteNode
from sfs.protocol.chunk_ids import chunk_id
from sfs.protocol.chunking import iter_chunks
from sfs.protocol.limits import clamp_timestamp

# Chunk uploads in flight at once.
UPLOAD_WORKERS = 8


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


def manifest_of(source: Path, chunking: Chunking, progress: Progress) -> list[ManifestEntry]:
    """The chunks the server would cut `source` into: ids and sizes, in order."""
    manifest: list[ManifestEntry] = []
    with source.open("rb") as stream:
        for data in iter_chunks(stream, chunking.params, seed=chunking.seed):
            manifest.append(ManifestEntry(chunk_id(chunking.chunk_id_key, data), len(data)))
            progress.advance(len(data))
    return manifest


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

    shown.start(f"Hashing {source.name}", before.st_size)
    manifest = manifest_of(source, chunking, shown)
    shown.finish()
    missing = api.missing_chunks(entry.chunk_id for entry in manifest)
    to_send = {e.chunk_id: e.size for e in manifest if e.chunk_id in missing}

    chunks_sent = bytes_sent = 0
    if to_send:
        shown.start(f"Uploading {source.name}", sum(to_send.values()))
        with source.open("rb") as stream:
            chunks = iter_chunks(stream, chunking.params, seed=chunking.seed)
            for sent in _put_chunks(api, chunking, manifest, chunks, to_send, source):
                chunks_sent += 1
                bytes_sent += sent
                shown.advance(sent)
        shown.finish()
        if to_send:
            raise _changed_while_read(source)

    after = os.stat(source)
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
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
        size=sum(e.size for e in manifest),
        chunks=len(manifest),
        chunks_sent=chunks_sent,
        bytes_sent=bytes_sent,
    )


def _put_chunks(
    api: ApiClient,
    chunking: Chunking,
    manifest: list[ManifestEntry],
    chunks: Iterator[bytes],
    to_send: dict[str, int],
    source: Path,
) -> Iterator[int]:
    """Send the chunks in `to_send` (removing each), several at a time; yield each one's size.

    Each PUT costs the server a round of storage work, so a few run side by side; at most
    `2 * UPLOAD_WORKERS` chunks are held in memory at once.
    """
    with ThreadPoolExecutor(max_workers=UPLOAD_WORKERS, thread_name_prefix="sfs-put") as pool:
        pending: set[Future[int]] = set()
        try:
            for entry, data in zip(manifest, chunks, strict=False):
                if entry.chunk_id not in to_send:
                    continue
                if chunk_id(chunking.chunk_id_key, data) != entry.chunk_id:
                    raise _changed_while_read(source)
                del to_send[entry.chunk_id]
                pending.add(pool.submit(_put_chunk, api, entry.chunk_id, data))
                if len(pending) >= 2 * UPLOAD_WORKERS:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    yield from (future.result() for future in done)
                if not to_send:
                    break
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (future.result() for future in done)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _put_chunk(api: ApiClient, chunk: str, data: bytes) -> int:
    api.put_chunk(chunk, data)
    return len(data)


def download_file(
    api: ApiClient,
    remote: str,
    destination: Path,
    *,
    version: int | None = None,
    progress: Progress | None = None,
) -> DownloadResult:
    """Write `remote` (or one of its versions) to `destination`, atomically."""
    shown = progress or NoProgress()
    node = api.stat(remote)
    if node.is_folder:
        raise TransferError(f"{node.path} is a folder; give a file")
    size, modified_at = node.size, node.modified_at
    if version is not None:
        chosen = next((v for v in api.versions(remote) if v.number == version), None)
        if chosen is None:
            raise TransferError(f"{node.path} has no version {version}")
        size, modified_at = chosen.size, chosen.modified_at

    folder = destination.parent
    handle, temp_name = tempfile.mkstemp(
        prefix=f".{destination.name}.", suffix=".sfs-part", dir=folder
    )
    try:
        written = 0
        with os.fdopen(handle, "wb") as temp:
            with api.open_content(remote, version=version) as download:
                shown.start(f"Downloading {node.name}", size)
                for block in download.blocks:
                    temp.write(block)
                    written += len(block)
                    shown.advance(len(block))
                shown.finish()
            if written != size:
                raise TransferError(
                    f"the download of {node.path} ended after {written} of {size} bytes"
                )
            temp.flush()
            os.fsync(temp.fileno())
        os.chmod(temp_name, 0o666 & ~_umask())
        # Whatever the server holds, the file gets a time every file system here can keep.
        stamp = clamp_timestamp(modified_at.timestamp())
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
