"""One sync pass: read both sides, plan with `reconcile`, carry the plan out, record the result.

Writes to the folder are atomic (a temporary file in the same folder, made durable, then
renamed) and never replace a file that changed since it was scanned; such a file waits for the
next pass, where it shows up as changed on both sides and both versions are kept.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import hashlib
import json
import socket
import uuid
from collections.abc import Callable, Iterator, MutableMapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from sfs.client.api import ApiError, Chunking, ManifestEntry
from sfs.client.sync.folder_fs import FolderFS
from sfs.client.sync.ignore import STATE_FOLDER, TEMP_PREFIX, Ignorer
from sfs.client.sync.index import LocalIndex
from sfs.client.sync.reconcile import (
    FILE,
    FOLDER,
    Action,
    BaseEntry,
    Do,
    LocalEntry,
    RemoteEntry,
    conflicted_copy_name,
    local_changed,
    plan,
)
from sfs.client.sync.remote import FileManifest, SyncApi
from sfs.client.sync.remote_tree import RemoteTree, as_remote
from sfs.client.sync.scanner import Scan, scan
from sfs.protocol.chunk_ids import chunk_id
from sfs.protocol.chunking import iter_chunks

FRAME_OVERHEAD = 36  # id and length before each chunk in a batch
RUNS_FROM = 64  # chunks: below this the manifest is sent whole
BATCH_BYTES = 6 * 1024 * 1024  # under the server's 8 MiB per chunk batch
BATCH_CHUNKS = 2000
COMMIT_BATCH = 1000
FOLDER_BATCH = 1000
FETCH_BATCH = 256
SMALL_DOWNLOAD = 1024 * 1024  # files up to this size are fetched in groups
DOWNLOAD_GROUP = 1000
DOWNLOAD_GROUP_BYTES = 16 * 1024 * 1024
SENT_MEMORY = 20_000  # chunk ids known to be on the server, remembered within a pass
READ_BLOCK = 1024 * 1024

Event = dict[str, Any]


class FileChanged(Exception):
    """The file changed while it was read; it is retried in the next pass."""


class BoundElsewhere(Exception):
    """The folder's index records another server or space: syncing it here would read every
    difference as a change to make, and delete or duplicate files."""


class DiskFull(OSError):
    """The local disk is full: the downloads left in this pass are not even tried."""

    def __init__(self) -> None:
        super().__init__(errno.ENOSPC, "the local disk is full; free some space")


class PassProgress(Protocol):
    """How far a pass is: files and bytes to move, known once the pass has planned."""

    def begin(self, files: int, size: int) -> None: ...
    def advance(self, *, files: int = 0, size: int = 0) -> None: ...
    def end(self) -> None: ...


class NoProgress:
    def begin(self, files: int, size: int) -> None:
        pass

    def advance(self, *, files: int = 0, size: int = 0) -> None:
        pass

    def end(self) -> None:
        pass


@dataclass
class Report:
    uploaded: int = 0
    downloaded: int = 0
    deleted_remote: int = 0
    deleted_local: int = 0
    moved: int = 0
    folders: int = 0
    conflicts: int = 0
    bytes_sent: int = 0  # chunk content
    bytes_sent_total: int = 0  # everything uploaded: chunks, framing, questions, manifests
    bytes_received: int = 0
    bytes_resumed: int = 0  # of downloads, found already written by an interrupted pass
    chunks_reused: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def absorb(self, later: Report) -> None:
        """Add a later pass's figures to this one's."""
        for name, value in vars(later).items():
            mine = getattr(self, name)
            setattr(self, name, mine + value)

    @property
    def changed_anything(self) -> bool:
        return any(
            (self.uploaded, self.downloaded, self.deleted_remote, self.deleted_local),
        ) or bool(self.moved or self.folders or self.conflicts)


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
    edit in a big file costs a few entries, not the whole chunk list again."""
    ids = [entry.chunk_id for entry in upload.manifest]
    if upload.base_version is None or len(ids) < RUNS_FROM or not upload.base_chunks:
        return [{"chunk_id": e.chunk_id, "size": e.size} for e in upload.manifest]
    items: list[dict[str, Any]] = []
    position = 0
    matcher = difflib.SequenceMatcher(None, upload.base_chunks, ids, autojunk=False)
    for base_start, start, count in matcher.get_matching_blocks():
        items.extend(
            {"chunk_id": e.chunk_id, "size": e.size} for e in upload.manifest[position:start]
        )
        if count:
            items.append({"from_base": base_start, "count": count})
        position = start + count
    return items


def content_digest(chunk_ids: list[str]) -> str:
    """The server's ETag for a manifest: equal content, equal digest."""
    digest = hashlib.sha256()
    for chunk in chunk_ids:
        digest.update(chunk.encode() + b"\n")
    return digest.hexdigest()


class SyncEngine:
    def __init__(
        self,
        root: Path,
        api: SyncApi,
        *,
        device: str | None = None,
        on_event: Callable[[Event], None] | None = None,
        fs: FolderFS | None = None,
        progress: PassProgress | None = None,
    ) -> None:
        self.root = root.resolve()
        self.api = api
        self.fs = fs or FolderFS()
        self.progress = progress or NoProgress()
        self.device = device or socket.gethostname()
        self.index = LocalIndex(self.root / STATE_FOLDER / "index.db")
        self._on_event = on_event or (lambda _event: None)
        self._chunking: Chunking | None = None
        # Chunks waiting to be sent in the current pass, and those sent (or known) already.
        self._outbox: list[tuple[str, bytes]] = []
        self._outbox_bytes = 0
        self._sent: set[str] = set()
        self._disk_full = False
        self._partials: set[Path] = set()  # partial downloads kept to resume
        self._downloads: list[str] = []  # planned in this pass, done after the other actions
        self._leftovers: set[Path] = set()  # partial downloads the scan found
        self._again = False  # a folder moved whole: its content is reconciled by a second pass
        self._relist = False  # that second pass reads the server's full listing
        self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sfs-send")
        self._in_flight: Future[None] | None = None

    def close(self) -> None:
        self._sender.shutdown(wait=True)
        self.index.close()

    @property
    def cursor(self) -> int:
        return int(self.index.setting("cursor") or 0)

    # -- one pass -------------------------------------------------------------------------------

    def sync_once(self) -> Report:
        """One pass; after a folder moved as a whole, a second for what lies inside it."""
        self._again = False
        report = self._pass()
        if self._again:
            # The first pass left the moved folders' content alone, and the feed cannot replay
            # what happened in them onto the index's new paths: list the server afresh.
            self._relist = True
            try:
                report.absorb(self._pass())
            finally:
                self._relist = False
        return report

    def _pass(self) -> Report:
        self._check_binding()
        report = Report()
        self._outbox, self._outbox_bytes, self._sent = [], 0, set()
        self._disk_full, self._partials, self._downloads = False, set(), []
        self._chunking = self._chunking or self.api.chunking()
        folder = scan(self.root, Ignorer(self.root), self.fs)
        self._leftovers = set(folder.leftovers)
        report.warnings.extend(folder.warnings)
        self.index.clear_failures()
        cursor, server = self._server_state()
        base, remote_state = self._narrow(folder, server)
        held_back = self._leave_unreadable_alone(folder, base, remote_state)
        same: dict[str, bool] = {}
        hashed: dict[str, list[ManifestEntry]] = {}
        for path, remote in remote_state.items():
            local, known = folder.entries.get(path), base.get(path)
            if (
                local
                and local.kind == FILE
                and remote.kind == FILE
                and _both_changed(known, local, remote)
            ):
                try:
                    hashed[path] = self._chunk_file(path, folder, local)
                except (OSError, FileChanged):
                    continue
                same[path] = content_digest([c.chunk_id for c in hashed[path]]) == remote.etag
        moved_content = self._moved_by_content(base, folder, hashed)
        actions = plan(
            base, folder.entries, remote_state, same_content=same, moved_content=moved_content
        )
        self.progress.begin(*_transfer_size(actions, folder, remote_state))
        uploads: list[_PendingUpload] = []
        try:
            self._make_remote_folders(
                [a.path for a in actions if a.do is Do.MAKE_REMOTE_FOLDER], folder, report
            )
            for action in actions:
                carry_out = partial(
                    self._carry_out, action, folder, remote_state, hashed, uploads, report
                )
                self._attempt(action.path, report, carry_out)
                if len(uploads) >= COMMIT_BATCH:  # commit as it goes: memory stays flat and
                    self._commit_uploads(uploads, report)  # a crash keeps what was done
            self._commit_uploads(uploads, report)
            self._download_all(self._downloads, folder, remote_state, report)
        finally:
            if self._in_flight is not None:  # a pass cut short: let its last batch finish
                with contextlib.suppress(ApiError):
                    self._wait_for_sender()
            self.progress.end()
        for leftover in folder.leftovers:  # partial downloads this pass did not resume
            if leftover not in self._partials:
                with contextlib.suppress(OSError):  # tidying up; it is tried again next pass
                    self.fs.unlink(leftover)
        if not report.failed and not held_back:
            self.index.set_setting("cursor", str(cursor))
        for path, reason in folder.refused:  # local only: no reason to hold the cursor back
            self._failed(path, reason, report)
        return report

    def _moved_by_content(
        self, base: dict[str, BaseEntry], folder: Scan, hashed: dict[str, list[ManifestEntry]]
    ) -> dict[str, str]:
        """New files holding exactly the content of a file that vanished: moves that kept no
        inode (copied then deleted, or across file systems). Only new files of the size of a
        vanished one are hashed; their chunk lists are kept for the upload if it comes to that."""
        vanished: dict[int, list[str]] = {}
        inodes = set()
        for path, known in base.items():
            if known.kind == FILE and path not in folder.entries:
                vanished.setdefault(known.size, []).append(path)
                inodes.add(known.inode)
        found: dict[str, str] = {}
        if not vanished:
            return found
        for path, local in folder.entries.items():
            candidates = vanished.get(local.size)
            if path in base or local.kind != FILE or not candidates or local.inode in inodes:
                continue  # an inode match is the reconciler's already
            try:
                hashed[path] = hashed.get(path) or self._chunk_file(path, folder, local)
            except (OSError, FileChanged):
                continue
            digest = content_digest([c.chunk_id for c in hashed[path]])
            for old in candidates:
                if base[old].etag == digest:
                    found[path] = old
                    candidates.remove(old)
                    break
        return found

    def _check_binding(self) -> None:
        here = f"{self.api.base_url.rstrip('/')} space {self.api.space}"
        bound = self.index.setting("bound_to")
        if bound is None:
            self.index.set_setting("bound_to", here)
        elif bound != here:
            raise BoundElsewhere(
                f"{self.root} is kept in sync with {bound}, not {here}; "
                "sync another (empty) folder with this one"
            )

    def _leave_unreadable_alone(
        self, folder: Scan, base: dict[str, BaseEntry], remote: dict[str, RemoteEntry]
    ) -> bool:
        """What the scan could not read is unknown, not deleted: this pass plans nothing for it
        (else a folder the disk refused would be deleted on the server). True when a change on
        the server waits behind it, so the cursor must not move past that change."""
        if not folder.unreadable:
            return False
        held_back = False
        for path in [p for p in {*base, *remote} if folder.is_unreadable(p)]:
            known, there = base.pop(path, None), remote.pop(path, None)
            folder.entries.pop(path, None)
            agreed = (known.kind, known.etag) if known else None
            held_back = held_back or agreed != ((there.kind, there.etag) if there else None)
        return held_back

    def _server_state(self) -> tuple[int, RemoteTree | dict[str, RemoteEntry]]:
        """The server's tree and the cursor it is current at: on the first pass its full
        listing; after that the index with the change feed since the last pass applied, so a
        pass costs the changes, not the size of the space."""
        recorded = self.index.setting("cursor")  # "0" too: a pass over an empty space
        cursor = int(recorded or 0)
        if recorded is not None and not self._relist:
            tree = RemoteTree(self.index)
            try:
                more = True
                while more:
                    page = self.api.changes(cursor)
                    tree.apply_page(page.changes)
                    cursor, more = page.cursor, page.more
                return cursor, tree
            except ApiError as problem:
                if problem.status != 409:  # 409: the cursor is ahead of a restored server
                    raise
        snapshot = self.api.snapshot()
        return snapshot.cursor, dict(snapshot.entries)

    def _narrow(
        self, folder: Scan, server: RemoteTree | dict[str, RemoteEntry]
    ) -> tuple[dict[str, BaseEntry], dict[str, RemoteEntry]]:
        """Keep only the paths that may need work: changed here (new, gone, or another size,
        mtime or inode) or changed on the server. Paths the same on both sides are dropped from
        the scan too, so a rescan of 100,000 unchanged files holds little more than the scan."""
        if not isinstance(server, RemoteTree):  # a full listing: every record counts
            return self.index.entries(), server
        touched = server.touched()
        base: dict[str, BaseEntry] = {}
        for path, known in self.index.each_entry():
            local = folder.entries.get(path)
            if path in touched or local is None or local_changed(known, local):
                base[path] = known
            else:
                del folder.entries[path]  # the same here and there: nothing to do
        remote: dict[str, RemoteEntry] = {}
        for path in {*touched, *base, *folder.entries}:
            if path in touched or path not in base:
                there = server.get(path)
            else:
                there = as_remote(base[path])  # as recorded: the feed did not touch it
            if there is not None:
                remote[path] = there
        return base, remote

    def _carry_out(
        self,
        action: Action,
        folder: Scan,
        remote: MutableMapping[str, RemoteEntry],
        hashed: dict[str, list[ManifestEntry]],
        uploads: list[_PendingUpload],
        report: Report,
    ) -> None:
        path = action.path
        local = folder.entries.get(path)
        if action.do is Do.UPLOAD:
            assert local is not None
            base_chunks = [c for c, _ in self.index.chunks_of(path)] if action.base_version else []
            # The replaced version's chunks are on the server: no need to ask about them.
            self._sent.update(base_chunks)
            manifest = self._send_chunks(hashed.get(path), path, folder, local, report)
            uploads.append(
                _PendingUpload(
                    path, manifest, local, action.base_version, _mtime(local), base_chunks
                )
            )
        elif action.do is Do.DOWNLOAD:
            self._downloads.append(path)  # all of them after the loop, small ones in groups
        elif action.do is Do.MAKE_REMOTE_FOLDER:
            pass  # all of them at once, before the other actions
        elif action.do is Do.MAKE_LOCAL_FOLDER:
            target = self._disk(path, folder)
            self.fs.make_folder(target)
            self.index.put(
                path, _base(self._stat(target, FOLDER), None, None, remote[path].node_id)
            )
            report.folders += 1
        elif action.do is Do.DELETE_REMOTE:
            self._delete_remote(path)
            self.index.forget(path)
            report.deleted_remote += 1
            self._event("deleted_remote", path)
        elif action.do is Do.DELETE_LOCAL:
            self._delete_local(path, folder)
            self.index.forget(path)
            report.deleted_local += 1
            self._event("deleted_local", path)
        elif action.do is Do.MOVE_REMOTE:
            assert action.target is not None
            self.api.move(path, action.target)
            if folder.entries[action.target].kind == FOLDER:
                self.index.move_tree(path, action.target)
                self._again = True  # what is inside is reconciled under its new path
                self._event("moved", path, to=action.target)
            else:
                self._moved(path, action.target, folder.entries[action.target])
            report.moved += 1
        elif action.do is Do.MOVE_LOCAL:
            assert action.target is not None
            target = self.root / action.target.lstrip("/")
            self._rename_here(self._disk(path, folder), target, action.target)
            self._moved(path, action.target, self._stat(target, FILE))
            report.moved += 1
        elif action.do is Do.CONFLICT:
            self._keep_both(path, folder, remote, hashed, uploads, report)
        elif action.do is Do.FORGET:
            self.index.forget(path)
        elif action.do is Do.ADOPT:
            self._adopt(path, folder, remote[path], hashed)

    # -- uploads --------------------------------------------------------------------------------

    def _cut(self, disk: Path) -> Iterator[tuple[str, bytes]]:
        """A local file's chunks and their ids, in order, read a block at a time."""
        chunking = self._chunking
        assert chunking is not None
        with self.fs.open_read(disk) as handle:
            for piece in iter_chunks(_blocks(handle), chunking.params, seed=chunking.seed):
                yield chunk_id(chunking.chunk_id_key, piece), piece

    def _chunk_file(self, path: str, folder: Scan, local: LocalEntry) -> list[ManifestEntry]:
        """Cut and hash a local file (memory flat); FileChanged if it changes meanwhile."""
        disk = self._disk(path, folder)
        manifest = [ManifestEntry(piece_id, len(piece)) for piece_id, piece in self._cut(disk)]
        if self._stat(disk, FILE) != local:
            raise FileChanged(f"{path} changed while it was read")
        return manifest

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
        disk = self._disk(path, folder)
        for piece_id, piece in self._cut(disk):
            read.append(ManifestEntry(piece_id, len(piece)))
            if piece_id in self._sent:
                self.progress.advance(size=len(piece))
                continue
            self._outbox.append((piece_id, piece))
            self._outbox_bytes += len(piece)
            if self._outbox_bytes >= BATCH_BYTES or len(self._outbox) >= BATCH_CHUNKS:
                self._flush_chunks(report)
        # The chunks already queued are harmless (content-addressed); the commit is not made.
        if hashed is not None and read != hashed:
            raise FileChanged(f"{path} changed while it was sent")
        if self._stat(disk, FILE) != local:
            raise FileChanged(f"{path} changed while it was read")
        return read

    def _flush_chunks(self, report: Report) -> None:
        """Send the queued chunks the server lacks: one question, one batch."""
        if not self._outbox:
            return
        # Sent or failed, the queue is done with: a failed batch's files fail their commits.
        queued, self._outbox, self._outbox_bytes = self._outbox, [], 0
        unique = dict(queued)
        missing = self.api.missing_chunks(unique)
        report.bytes_sent_total += len(json.dumps({"chunk_ids": list(unique)}))
        batch = [(cid, data) for cid, data in unique.items() if cid in missing]
        report.chunks_reused += len(unique) - len(batch)
        if batch:
            # Sent by the sender thread while this one reads and cuts what comes next; one batch
            # in flight at most, so memory holds two batches and errors surface a batch later.
            self._wait_for_sender()
            self._in_flight = self._sender.submit(self.api.put_chunks, batch)
            content = sum(len(data) for _, data in batch)
            report.bytes_sent += content
            report.bytes_sent_total += content + FRAME_OVERHEAD * len(batch)
        if len(self._sent) > SENT_MEMORY:  # a cache, not a record: the server knows them now
            self._sent.clear()
        self._sent.update(unique)
        self.progress.advance(size=sum(len(data) for _, data in queued))

    def _wait_for_sender(self) -> None:
        """Until the batch in flight is stored; its failure is raised here."""
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            in_flight.result()

    def _commit_uploads(self, uploads: list[_PendingUpload], report: Report) -> None:
        """Send what is queued, then commit the uploads waiting for it; the list is emptied."""
        try:
            self._flush_chunks(report)
            self._wait_for_sender()  # a commit needs its chunks stored
            self._commit_batches(uploads, report)
        except ApiError as problem:
            if _ends_the_pass(problem):
                raise
            for upload in uploads:  # none of these is known to be committed: next pass
                self._failed(upload.path, _reason(problem), report)
        finally:
            uploads.clear()

    def _commit_batches(self, uploads: list[_PendingUpload], report: Report) -> None:
        for start in range(0, len(uploads), COMMIT_BATCH):
            group = uploads[start : start + COMMIT_BATCH]
            commits = [
                {
                    "path": u.path,
                    "manifest": manifest_items(u),
                    "modified_at": u.modified_at.isoformat(),
                    "base_version": u.base_version,
                    "device_name": self.device,
                }
                for u in group
            ]
            report.bytes_sent_total += len(json.dumps({"commits": commits}))
            outcomes = self.api.commit_batch(commits)
            with self.index.batch():
                for upload, outcome in zip(group, outcomes, strict=True):
                    if outcome.node is None:
                        reason = outcome.error.args[0] if outcome.error else "refused"
                        self._failed(upload.path, reason, report)
                        continue
                    node = outcome.node
                    self.index.put(
                        upload.path,
                        _base(upload.local, node.version, node.etag, uuid.UUID(node.id)),
                        [(e.chunk_id, e.size) for e in upload.manifest],
                    )
                    report.uploaded += 1
                    self.progress.advance(files=1)
                    self._event("uploaded", upload.path, size=upload.local.size)

    def _make_remote_folders(self, paths: list[str], folder: Scan, report: Report) -> None:
        """New local folders, made on the server in a few calls (a tree has hundreds)."""
        for start in range(0, len(paths), FOLDER_BATCH):
            group = paths[start : start + FOLDER_BATCH]
            try:
                outcomes = self.api.create_folders(group)
            except ApiError as problem:
                if _ends_the_pass(problem):
                    raise
                for path in group:
                    self._failed(path, _reason(problem), report)
                continue
            with self.index.batch():
                for path, outcome in zip(group, outcomes, strict=True):
                    if outcome.node is None:
                        reason = outcome.error.args[0] if outcome.error else "refused"
                        self._failed(path, reason, report)
                        continue
                    local = folder.entries[path]
                    self.index.put(path, _base(local, None, None, uuid.UUID(outcome.node.id)))
                    report.folders += 1

    def _delete_remote(self, path: str) -> None:
        try:
            self.api.delete(path)
        except ApiError as exc:
            if exc.status != 404:
                raise

    # -- downloads ------------------------------------------------------------------------------

    def _download_all(
        self, paths: list[str], folder: Scan, remote: dict[str, RemoteEntry], report: Report
    ) -> None:
        """The pass's downloads: big files one by one (streamed, resumable), small ones in
        groups, a couple of round trips per group instead of two per file."""
        for path in paths:
            if remote[path].size > SMALL_DOWNLOAD:
                self._attempt(
                    path, report, partial(self._download, path, folder, remote[path], report)
                )
        group: list[str] = []
        group_bytes = 0
        for path in paths:
            if remote[path].size > SMALL_DOWNLOAD:
                continue
            group.append(path)
            group_bytes += remote[path].size
            if len(group) >= DOWNLOAD_GROUP or group_bytes >= DOWNLOAD_GROUP_BYTES:
                self._download_group(group, folder, remote, report)
                group, group_bytes = [], 0
        if group:
            self._download_group(group, folder, remote, report)

    def _download_group(
        self, paths: list[str], folder: Scan, remote: dict[str, RemoteEntry], report: Report
    ) -> None:
        try:
            if self._disk_full:
                raise DiskFull
            manifests = self.api.manifests([(remote[p].node_id, remote[p].version) for p in paths])
            found = self._gather(manifests, report)
        except (ApiError, OSError) as problem:
            if isinstance(problem, ApiError) and _ends_the_pass(problem):
                raise
            for path in paths:
                self._failed(path, _reason(problem), report)
            return
        with self.index.batch():  # one index commit for the group, not one per file
            self._place_group(paths, manifests, found, folder, remote, report)

    def _place_group(
        self,
        paths: list[str],
        manifests: list[FileManifest | ApiError],
        found: dict[str, bytes],
        folder: Scan,
        remote: dict[str, RemoteEntry],
        report: Report,
    ) -> None:
        written: list[tuple[str, FileManifest, Path]] = []

        def write(path: str, manifest: FileManifest) -> None:
            pieces = partial(self._from, found)
            temporary = self._write_temporary(path, folder, manifest, report, pieces, durable=False)
            written.append((path, manifest, temporary))

        for path, manifest in zip(paths, manifests, strict=True):
            if isinstance(manifest, ApiError):
                self._failed(path, manifest.message, report)
                continue
            self._attempt(path, report, partial(write, path, manifest))
        try:
            # One flush to disk for the whole group (a sync per file costs more than the rest
            # of a small file's download), and only then are the files renamed into place.
            self.fs.flush_all()
        except OSError as problem:
            for path, _, temporary in written:
                self._failed(path, _reason(problem), report)
                with contextlib.suppress(OSError):
                    self.fs.unlink(temporary)
            return
        for path, manifest, temporary in written:
            put = partial(
                self._put_in_place, path, folder, remote[path], manifest, temporary, report
            )
            self._attempt(path, report, put)

    def _gather(self, manifests: list[FileManifest | ApiError], report: Report) -> dict[str, bytes]:
        """Every chunk a group of small files needs: from the folder where it still holds them,
        the rest fetched in a few batches."""
        chunking = self._chunking
        assert chunking is not None
        found: dict[str, bytes] = {}
        missing: dict[str, None] = {}
        for manifest in manifests:
            if isinstance(manifest, ApiError):
                continue
            for entry in manifest.chunks:
                if entry.chunk_id in found or entry.chunk_id in missing:
                    continue
                here = self._local_chunk(entry, chunking.chunk_id_key)
                if here is None:
                    missing[entry.chunk_id] = None
                else:
                    found[entry.chunk_id] = here
                    report.chunks_reused += 1
        wanted = list(missing)
        for start in range(0, len(wanted), FETCH_BATCH):
            fetched = self.api.fetch_chunks(wanted[start : start + FETCH_BATCH])
            report.bytes_received += sum(len(v) for v in fetched.values())
            found.update(fetched)
        return found

    def _from(self, found: dict[str, bytes], entries: list[ManifestEntry]) -> Iterator[bytes]:
        for entry in entries:
            self.progress.advance(size=entry.size)
            yield found[entry.chunk_id]

    def _attempt(self, path: str, report: Report, work: Callable[[], None]) -> None:
        """One path's work: its failure is reported and retried next pass, unless it ends the
        pass for every path (the server unreachable, the device refused)."""
        try:
            work()
        except (ApiError, OSError, FileChanged) as problem:
            if isinstance(problem, ApiError) and _ends_the_pass(problem):
                raise
            self._failed(path, _reason(problem), report)

    def _download(self, path: str, folder: Scan, remote: RemoteEntry, report: Report) -> None:
        if self._disk_full:
            raise DiskFull
        node, version, chunks = self.api.manifest(path)
        manifest = FileManifest(
            remote.node_id, version, node.size, node.modified_at, node.etag or "", chunks
        )
        self._place(
            path, folder, remote, manifest, report, lambda rest: self._assemble(rest, report)
        )

    def _place(
        self,
        path: str,
        folder: Scan,
        remote: RemoteEntry,
        fetched: FileManifest,
        report: Report,
        pieces: Callable[[list[ManifestEntry]], Iterator[bytes]],
    ) -> None:
        """Write a file version into the folder: atomically, never over a file changed since
        the scan, resuming a partial download of the same version."""
        temporary = self._write_temporary(path, folder, fetched, report, pieces, durable=True)
        self._put_in_place(path, folder, remote, fetched, temporary, report)

    def _write_temporary(
        self,
        path: str,
        folder: Scan,
        fetched: FileManifest,
        report: Report,
        pieces: Callable[[list[ManifestEntry]], Iterator[bytes]],
        *,
        durable: bool,
    ) -> Path:
        if self._disk_full:
            raise DiskFull
        manifest = fetched.chunks
        target = self._disk(path, folder)
        self.fs.make_folder(target.parent)
        # Named after the content: a download cut short (crash, lost network) resumes from the
        # chunks it had written, as long as the server's version is still the same.
        temporary = target.with_name(f"{TEMP_PREFIX}{_partial_name(path, fetched.etag)}")
        self._partials.add(temporary)
        kept_chunks = kept = 0
        if temporary in self._leftovers:
            kept_chunks, kept = self._resumable(temporary, manifest)
            report.bytes_resumed += kept
            self.progress.advance(size=kept)
        try:
            self.fs.write_file(
                temporary,
                pieces(manifest[kept_chunks:]),
                mtime=fetched.modified_at.timestamp(),
                keep=kept,
                durable=durable,
            )
        except ApiError:
            raise  # the server or the network failed: the partial stays, to resume next pass
        except BaseException as problem:
            with contextlib.suppress(OSError):  # tidying up must not hide the real failure
                self.fs.unlink(temporary)
            if isinstance(problem, OSError) and problem.errno == errno.ENOSPC:
                self._disk_full = True
                raise DiskFull from problem
            raise
        return temporary

    def _put_in_place(
        self,
        path: str,
        folder: Scan,
        remote: RemoteEntry,
        fetched: FileManifest,
        temporary: Path,
        report: Report,
    ) -> None:
        target = self._disk(path, folder)
        try:
            # Never replace a file that changed since the scan: it is kept for the next pass.
            now = self._stat(target, FILE) if self.fs.exists(target) else None
            if now != folder.entries.get(path):
                raise FileChanged(f"{path} changed here while it was downloaded")
            self.fs.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):  # tidying up must not hide the real failure
                self.fs.unlink(temporary)
            raise
        self.index.put(
            path,
            _base(self._stat(target, FILE), fetched.version, fetched.etag, remote.node_id),
            [(e.chunk_id, e.size) for e in fetched.chunks],
        )
        report.downloaded += 1
        self.progress.advance(files=1)
        self._event("downloaded", path, size=fetched.size)

    def _resumable(self, partial: Path, manifest: list[ManifestEntry]) -> tuple[int, int]:
        """How many leading chunks of `manifest` an interrupted download already wrote whole
        (each read back and checked against its id), and their bytes."""
        chunking = self._chunking
        assert chunking is not None
        count = offset = 0
        try:
            with self.fs.open_read(partial) as handle:
                for entry in manifest:
                    data = handle.read(entry.size)
                    if len(data) < entry.size or chunk_id(chunking.chunk_id_key, data) != (
                        entry.chunk_id
                    ):
                        break
                    count, offset = count + 1, offset + entry.size
        except FileNotFoundError:
            return 0, 0
        return count, offset

    def _assemble(self, manifest: list[ManifestEntry], report: Report) -> Iterator[bytes]:
        """The file's chunks in order: from files already here when they still hold them,
        else fetched from the server in batches."""
        chunking = self._chunking
        assert chunking is not None
        for start in range(0, len(manifest), FETCH_BATCH):
            group = manifest[start : start + FETCH_BATCH]
            found: dict[str, bytes] = {}
            for entry in group:
                local = self._local_chunk(entry, chunking.chunk_id_key)
                if local is not None:
                    found[entry.chunk_id] = local
                    report.chunks_reused += 1
            wanted = [e.chunk_id for e in group if e.chunk_id not in found]
            if wanted:
                fetched = self.api.fetch_chunks(list(dict.fromkeys(wanted)))
                report.bytes_received += sum(len(v) for v in fetched.values())
                found.update(fetched)
            for entry in group:
                self.progress.advance(size=entry.size)
                yield found[entry.chunk_id]

    def _local_chunk(self, entry: ManifestEntry, key: bytes) -> bytes | None:
        for path, offset, size in self.index.chunk_sources(entry.chunk_id):
            try:
                with self.fs.open_read(self.root / path.lstrip("/")) as handle:
                    handle.seek(offset)
                    data = handle.read(size)
            except OSError:
                continue
            # The file may have changed since: only bytes that still hash to the id are used.
            if chunk_id(key, data) == entry.chunk_id:
                return data
        return None

    # -- the rest -------------------------------------------------------------------------------

    def _keep_both(
        self,
        path: str,
        folder: Scan,
        remote: MutableMapping[str, RemoteEntry],
        hashed: dict[str, list[ManifestEntry]],
        uploads: list[_PendingUpload],
        report: Report,
    ) -> None:
        """Both sides changed: the local one becomes a conflicted copy (uploaded too), and the
        server's takes the original name."""
        disk = self._disk(path, folder)
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H%M%S")
        copy_name = conflicted_copy_name(disk.name, stamp=stamp, device=self.device)
        copy_disk = disk.with_name(copy_name)
        self.fs.rename(disk, copy_disk)
        copy_path = path.rsplit("/", 1)[0] + "/" + copy_name
        local = folder.entries[path]
        moved = Scan(entries={copy_path: self._stat(copy_disk, local.kind)})
        if local.kind == FILE:
            manifest = self._send_chunks(
                hashed.get(path), copy_path, moved, moved.entries[copy_path], report
            )
            uploads.append(
                _PendingUpload(copy_path, manifest, moved.entries[copy_path], None, _mtime(local))
            )
        self.index.forget(path)
        folder.entries.pop(path, None)
        there = remote[path]
        if there.kind == FOLDER:
            self.fs.make_folder(disk)
            self.index.put(path, _base(self._stat(disk, FOLDER), None, None, there.node_id))
        else:
            self._download(path, folder, there, report)
        report.conflicts += 1
        self._event("conflict", path, kept_as=copy_path)

    def _adopt(
        self, path: str, folder: Scan, remote: RemoteEntry, hashed: dict[str, list[ManifestEntry]]
    ) -> None:
        local = folder.entries[path]
        chunks = [(e.chunk_id, e.size) for e in hashed.get(path, [])]
        self.index.put(path, _base(local, remote.version, remote.etag, remote.node_id), chunks)

    def _delete_local(self, path: str, folder: Scan) -> None:
        disk = self._disk(path, folder)
        if folder.entries[path].kind == FOLDER:
            self.fs.remove_tree(disk)
        else:
            if self._stat(disk, FILE) != folder.entries[path]:
                raise FileChanged(f"{path} changed here; it is kept")
            self.fs.unlink(disk)

    def _moved(self, old: str, new: str, local: LocalEntry) -> None:
        entry = self.index.entry(old)
        assert entry is not None
        chunks = self.index.chunks_of(old)
        self.index.forget(old)
        self.index.put(new, _base(local, entry.version, entry.etag, entry.node_id), chunks)
        self._event("moved", old, to=new)

    def _rename_here(self, source: Path, target: Path, shown: str) -> None:
        """A move made on the server, done in the folder. On a case-insensitive disk a
        case-only rename finds its own file at the target: it goes through a temporary name."""
        if self.fs.exists(target):
            if not self.fs.same_file(source, target):
                raise FileChanged(f"{shown} appeared here meanwhile")
            if source.name == target.name:
                return
            step = source.with_name(f"{TEMP_PREFIX}{uuid.uuid4().hex}")
            self.fs.rename(source, step)
            self.fs.rename(step, target)
            return
        self.fs.make_folder(target.parent)
        self.fs.rename(source, target)

    def _stat(self, disk: Path, kind: str) -> LocalEntry:
        info = self.fs.stat(disk)
        if kind == FOLDER:
            return LocalEntry(FOLDER, 0, 0, info.st_ino)
        return LocalEntry(FILE, info.st_size, info.st_mtime_ns, info.st_ino)

    def _disk(self, path: str, folder: Scan) -> Path:
        return self.root / folder.disk_names.get(path, path.lstrip("/"))

    def _failed(self, path: str, reason: str, report: Report) -> None:
        report.failed.append((path, reason))
        self.index.fail(path, reason, datetime.now(UTC).isoformat(timespec="seconds"))
        self._event("failed", path, reason=reason)

    def _event(self, kind: str, path: str, **details: Any) -> None:
        self._on_event({"event": kind, "path": path, **details})


def _transfer_size(
    actions: list[Action], folder: Scan, remote_state: dict[str, RemoteEntry]
) -> tuple[int, int]:
    """Files and bytes the plan moves: uploads count the local size, downloads the server's; a
    conflict both (the local copy goes up, the server's version comes down)."""
    files = size = 0
    for action in actions:
        local, remote = folder.entries.get(action.path), remote_state.get(action.path)
        if action.do in (Do.UPLOAD, Do.CONFLICT) and local is not None and local.kind == FILE:
            files, size = files + 1, size + local.size
        if action.do in (Do.DOWNLOAD, Do.CONFLICT) and remote is not None and remote.kind == FILE:
            files, size = files + 1, size + remote.size
    return files, size


def _partial_name(path: str, etag: str | None) -> str:
    return hashlib.sha256(f"{path}\n{etag}".encode()).hexdigest()[:32]


def _both_changed(base: BaseEntry | None, local: LocalEntry, remote: RemoteEntry) -> bool:
    if base is None:
        return True
    local_same = (base.size, base.mtime_ns, base.inode) == (local.size, local.mtime_ns, local.inode)
    return not local_same and base.etag != remote.etag


def _base(
    local: LocalEntry, version: int | None, etag: str | None, node_id: uuid.UUID | None
) -> BaseEntry:
    return BaseEntry(local.kind, local.size, local.mtime_ns, local.inode, version, etag, node_id)


def _mtime(local: LocalEntry) -> datetime:
    return datetime.fromtimestamp(local.mtime_ns / 1e9, UTC)


def _blocks(handle: Any) -> Iterator[bytes]:
    while block := handle.read(READ_BLOCK):
        yield block


def _ends_the_pass(problem: ApiError) -> bool:
    """A revoked device or an unreachable server fails every path alike: the pass stops and
    says so once (and tries again later) instead of failing thousands of paths one by one."""
    return problem.status == 401 or problem.unreachable


def _reason(problem: Exception) -> str:
    if isinstance(problem, OSError) and problem.strerror:
        # "Permission denied", not "13"; the path is already in the report.
        return problem.strerror[:1].upper() + problem.strerror[1:]
    return str(problem.args[0]) if problem.args else type(problem).__name__
