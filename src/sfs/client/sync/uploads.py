"""Uploads: local changes made on the server.

A changed file is cut once: its chunks go to the `sender` as they are read and its manifest
waits here for the commit that makes it the new version. Commits wait until their chunks are
stored and go a thousand to a call, recorded in the index in one transaction; new folders go
in batches too, deletions one by one. The engine decides what is uploaded and when the waiting
commits are made; what happens on the way to the server is this module's (and, for the chunks,
the sender's), apart from the downloads as Syncthing's sending side is from its puller.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sfs.client.api import ApiError, Chunking, ManifestEntry
from sfs.client.sync.errors import FileChanged, ends_the_pass, reason_of
from sfs.client.sync.reconcile import FILE, LocalEntry
from sfs.client.sync.report import Report
from sfs.client.sync.scanner import Scan
from sfs.client.sync.sender import ChunkSender
from sfs.client.sync.workspace import Workspace, as_base, mtime_of
from sfs.protocol.manifest_delta import Copy, diff

RUNS_FROM = 64  # chunks: below this the manifest is sent whole
COMMIT_BATCH = 1000
# JSON per commit-batch call: well under the server's cap (32 MiB), so 1,000 big files go in
# several calls; a single manifest larger than this goes alone to /commit (its cap is higher).
COMMIT_BATCH_BYTES = 16 * 1024 * 1024
FOLDER_BATCH = 1000


@dataclass
class _PendingUpload:
    path: str
    manifest: list[ManifestEntry]
    local: LocalEntry
    base_version: int | None
    modified_at: datetime
    base_chunks: list[str] = field(default_factory=list)  # the replaced version's chunk ids


def manifest_items(upload: _PendingUpload) -> list[dict[str, Any]]:
    """The manifest as sent: runs of the base version's chunks where the file kept them, so an
    edit in a big file costs a few entries, not the whole chunk list again. Found in one pass
    (`sfs.protocol.manifest_delta.diff`): difflib's matcher took 23 s of CPU for a 1 GiB file
    with a chunk changed every 50."""
    if upload.base_version is None or len(upload.manifest) < RUNS_FROM or not upload.base_chunks:
        return [{"chunk_id": e.chunk_id, "size": e.size} for e in upload.manifest]
    entries = [(e.chunk_id, e.size) for e in upload.manifest]
    return [
        {"from_base": item.start, "count": item.count}
        if isinstance(item, Copy)
        else {"chunk_id": item[0], "size": item[1]}
        for item in diff(upload.base_chunks, entries)
    ]


class Uploader:
    def __init__(self, workspace: Workspace) -> None:
        self._ws = workspace
        self._sender = ChunkSender(workspace)
        self._waiting: list[_PendingUpload] = []  # sent, not yet committed

    def close(self) -> None:
        self._sender.close()

    def start_pass(self, chunking: Chunking) -> None:
        self._sender.start_pass(chunking)
        self._waiting = []

    def end_pass(self) -> None:
        self._sender.end_pass()

    def abandon(self) -> None:
        self._sender.abandon()

    @property
    def waiting(self) -> int:
        """Uploads whose chunks are queued or sent, and whose commit is still to be made."""
        return len(self._waiting)

    def upload(
        self,
        path: str,
        folder: Scan,
        local: LocalEntry,
        base_version: int | None,
        hashed: list[ManifestEntry] | None,
        report: Report,
        *,
        modified_at: datetime | None = None,
    ) -> None:
        """Send a file's chunks; its commit waits for `commit`. The version replaces
        `base_version` (None: a new file) and is dated `modified_at`, the file's mtime unless
        told otherwise."""
        base_chunks = [c for c, _ in self._ws.index.chunks_of(path)] if base_version else []
        # The replaced version's chunks are on the server: no need to ask about them.
        self._sender.known(base_chunks)
        manifest = self._send_chunks(hashed, path, folder, local, report)
        if modified_at is None:
            modified_at = mtime_of(local)
        self._waiting.append(
            _PendingUpload(path, manifest, local, base_version, modified_at, base_chunks)
        )

    def _send_chunks(
        self,
        hashed: list[ManifestEntry] | None,
        path: str,
        folder: Scan,
        local: LocalEntry,
        report: Report,
    ) -> list[ManifestEntry]:
        """Cut the file and queue its chunks for sending, in one read; small files share
        batches (few round trips), a big file streams through in batches of its own. Only
        chunks the server lacks go. Returns the manifest; FileChanged if the file changed
        while it was read (or since it was `hashed`), so no torn version is committed."""
        read: list[ManifestEntry] = []
        disk = self._ws.disk(path, folder)
        for piece_id, piece in self._ws.cut(disk, local.size):
            read.append(ManifestEntry(piece_id, len(piece)))
            self._sender.queue(piece_id, piece, report)
        # The chunks already queued are harmless (content-addressed); the commit is not made.
        if hashed is not None and read != hashed:
            raise FileChanged(f"{path} changed while it was sent")
        if self._ws.stat(disk, FILE) != local:
            raise FileChanged(f"{path} changed while it was read")
        return read

    def commit(self, report: Report) -> None:
        """Send what is queued, then commit the uploads waiting for it; none is left waiting."""
        uploads = self._waiting
        try:
            self._sender.flush(report)
            self._sender.wait()  # a commit needs its chunks stored
            self._commit_batches(uploads, report)
        except ApiError as problem:
            if ends_the_pass(problem):
                raise
            for upload in uploads:  # none of these is known to be committed: next pass
                self._ws.failed(upload.path, reason_of(problem), report)
        finally:
            uploads.clear()

    def _commit_batches(self, uploads: list[_PendingUpload], report: Report) -> None:
        index = self._ws.index
        for group, commits, size in self._commit_groups(uploads):
            report.bytes_sent_total += size
            if size > COMMIT_BATCH_BYTES:  # one file with a manifest too big for a batch
                outcomes = [self._ws.api.commit_one(commits[0])]
            else:
                outcomes = self._ws.api.commit_batch(commits)
            with index.batch():
                for upload, outcome in zip(group, outcomes, strict=True):
                    if outcome.node is None:
                        reason = outcome.error.args[0] if outcome.error else "refused"
                        self._ws.failed(upload.path, reason, report)
                        continue
                    node = outcome.node
                    index.put(
                        upload.path,
                        as_base(upload.local, node.version, node.etag, uuid.UUID(node.id)),
                        [(e.chunk_id, e.size) for e in upload.manifest],
                    )
                    report.uploaded += 1
                    self._ws.progress.advance(files=1)
                    self._ws.event("uploaded", upload.path, size=upload.local.size)

    def _commit_groups(
        self, uploads: list[_PendingUpload]
    ) -> Iterator[tuple[list[_PendingUpload], list[dict[str, Any]], int]]:
        """Uploads in calls of at most COMMIT_BATCH files and COMMIT_BATCH_BYTES of JSON."""
        group: list[_PendingUpload] = []
        commits: list[dict[str, Any]] = []
        size = 0
        for upload in uploads:
            commit = {
                "path": upload.path,
                "manifest": manifest_items(upload),
                "modified_at": upload.modified_at.isoformat(),
                "base_version": upload.base_version,
                "device_name": self._ws.device,
            }
            length = len(json.dumps(commit)) + 2
            if group and (len(group) == COMMIT_BATCH or size + length > COMMIT_BATCH_BYTES):
                yield group, commits, size
                group, commits, size = [], [], 0
            group.append(upload)
            commits.append(commit)
            size += length
        if group:
            yield group, commits, size

    def make_remote_folders(self, paths: list[str], folder: Scan, report: Report) -> None:
        """New local folders, made on the server in a few calls (a tree has hundreds)."""
        index = self._ws.index
        for start in range(0, len(paths), FOLDER_BATCH):
            group = paths[start : start + FOLDER_BATCH]
            try:
                outcomes = self._ws.api.create_folders(group)
            except ApiError as problem:
                if ends_the_pass(problem):
                    raise
                for path in group:
                    self._ws.failed(path, reason_of(problem), report)
                continue
            with index.batch():
                for path, outcome in zip(group, outcomes, strict=True):
                    if outcome.node is None:
                        reason = outcome.error.args[0] if outcome.error else "refused"
                        self._ws.failed(path, reason, report)
                        continue
                    local = folder.entries[path]
                    index.put(path, as_base(local, None, None, uuid.UUID(outcome.node.id)))
                    report.folders += 1

    def delete_remote(self, path: str) -> None:
        try:
            self._ws.api.delete(path)
        except ApiError as exc:
            if exc.status != 404:
                raise
