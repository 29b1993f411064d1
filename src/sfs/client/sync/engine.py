"""One sync pass: read both sides, plan with `reconcile`, carry the plan out, record the result.

Writes to the folder are atomic (a temporary file in the same folder, made durable, then
renamed) and never replace a file that changed since it was scanned; such a file waits for the
next pass, where it shows up as changed on both sides and both versions are kept.

This module is the coordinator, as Syncthing's model is around its scanner, puller and sender:
it reads both sides, plans, dispatches each action and records the outcome. The work on the way
is done elsewhere: `uploads` (with the chunk-batch thread in `sender`) makes local changes on
the server, `downloads` (with resumable partial downloads in `partials`) writes the server's
into the folder. What they all share is a `workspace` (the engine is one, handed to them), and
`errors` and `report` are what they raise and tell. None of those imports this module.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from sfs.client.api import ApiError, ManifestEntry
from sfs.client.local_paths import UnsafePath, checked_relative, local_path
from sfs.client.sync.downloads import Downloader
from sfs.client.sync.errors import BoundElsewhere, FileChanged
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
    base_after_restore,
    conflicted_copy_name,
    local_changed,
    plan,
)
from sfs.client.sync.remote import SyncApi
from sfs.client.sync.remote_tree import RemoteTree, as_remote
from sfs.client.sync.report import Event, NoProgress, PassProgress, Report
from sfs.client.sync.scanner import Scan, scan
from sfs.client.sync.uploads import COMMIT_BATCH, Uploader
from sfs.client.sync.workspace import Workspace, as_base, content_digest, mtime_of


class SyncEngine(Workspace):
    """Keeps a folder and a space identical, a pass at a time. It is the workspace its uploader
    and downloader are handed: they see the folder, the index and the server through it."""

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
        root = root.resolve()
        super().__init__(
            root,
            api,
            fs or FolderFS(),
            progress or NoProgress(),
            device or socket.gethostname(),
            LocalIndex(root / STATE_FOLDER / "index.db"),
            on_event or (lambda _event: None),
        )
        self._uploader = Uploader(self)
        self._downloader = Downloader(self)
        self._downloads: list[str] = []  # planned in this pass, done after the other actions
        self._again = False  # a folder moved whole: its content is reconciled by a second pass
        self._relist = False  # that second pass reads the server's full listing
        self._server_went_back = False  # the feed refused the cursor: a restored server
        self._feed_head: int | None = None  # where the last pass read the server's state up to

    def close(self) -> None:
        self._uploader.close()
        self.index.close()

    @property
    def cursor(self) -> int:
        return int(self.index.setting("cursor") or 0)

    @property
    def feed_head(self) -> int:
        """The cursor the last pass read the server's state up to, also when that pass did not
        record it (a path failed: the next full scan retries it): what a watcher of the feed
        waits for news after. Before any pass, the recorded cursor."""
        return self.cursor if self._feed_head is None else self._feed_head

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
        self.chunking = self.chunking or self.api.chunking()
        self._uploader.start_pass(self.chunking)
        self._downloads = []
        folder = scan(self.root, Ignorer(self.root), self.fs)
        self._downloader.start_pass(folder.leftovers)
        report.warnings.extend(folder.warnings)
        self.index.clear_failures()
        cursor, server = self._server_state()
        base, remote_state = self._narrow(folder, server)
        self._leave_refused_alone(folder, base, remote_state, report)
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
                    hashed[path] = self.chunk_file(path, folder, local)
                except (OSError, FileChanged):
                    continue
                same[path] = content_digest([c.chunk_id for c in hashed[path]]) == remote.etag
        moved_content = self._moved_by_content(base, folder, hashed)
        actions = plan(
            base, folder.entries, remote_state, same_content=same, moved_content=moved_content
        )
        self.progress.begin(*_transfer_size(actions, folder, remote_state))
        try:
            self._uploader.make_remote_folders(
                [a.path for a in actions if a.do is Do.MAKE_REMOTE_FOLDER], folder, report
            )
            for action in actions:
                carry_out = partial(self._carry_out, action, folder, remote_state, hashed, report)
                self.attempt(action.path, report, carry_out)
                if self._uploader.waiting >= COMMIT_BATCH:  # commit as it goes: memory stays
                    self._uploader.commit(report)  # flat and a crash keeps what was done
            self._uploader.commit(report)
            self._downloader.download_all(self._downloads, folder, remote_state, report)
        except KeyboardInterrupt:
            self._uploader.abandon()  # stopping: the batch in flight is not waited for
            raise
        finally:
            self._uploader.end_pass()  # a pass cut short: let its last batch finish
            self.progress.end()
        self._downloader.end_pass(folder.leftovers)  # partial downloads this pass did not resume
        if not report.failed and not held_back:
            self.index.set_setting("cursor", str(cursor))
        for path, reason in folder.refused:  # local only: no reason to hold the cursor back
            self.failed(path, reason, report)
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
                hashed[path] = hashed.get(path) or self.chunk_file(path, folder, local)
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

    def _leave_refused_alone(
        self,
        folder: Scan,
        base: dict[str, BaseEntry],
        remote: dict[str, RemoteEntry],
        report: Report,
    ) -> None:
        """Server paths that no folder could hold on every platform (a name from before the
        rule, planted in the server's database, or sent by a server not ours): they stay on the
        server, nothing is planned for them here, and each pass that sees them says why."""
        for path in list(remote):
            try:
                checked_relative(path)
            except UnsafePath as refused:
                del remote[path]
                base.pop(path, None)
                folder.entries.pop(path, None)
                report.warnings.append((path, str(refused)))

    def _server_state(self) -> tuple[int, RemoteTree | dict[str, RemoteEntry]]:
        """The server's tree and the cursor it is current at: on the first pass its full
        listing; after that the index with the change feed since the last pass applied, so a
        pass costs the changes, not the size of the space."""
        recorded = self.index.setting("cursor")  # "0" too: a pass over an empty space
        cursor = int(recorded or 0)
        self._server_went_back = False
        if recorded is not None and not self._relist:
            tree = RemoteTree(self.index)
            try:
                more = True
                while more:
                    page = self.api.changes(cursor)
                    tree.apply_page(page.changes)
                    cursor, more = page.cursor, page.more
                self._feed_head = cursor
                return cursor, tree
            except ApiError as problem:
                if problem.status != 409:  # 409: a cursor a restored server never handed out
                    raise
                self._server_went_back = True
        snapshot = self.api.snapshot()
        self._feed_head = snapshot.cursor
        return snapshot.cursor, dict(snapshot.entries)

    def _narrow(
        self, folder: Scan, server: RemoteTree | dict[str, RemoteEntry]
    ) -> tuple[dict[str, BaseEntry], dict[str, RemoteEntry]]:
        """Keep only the paths that may need work: changed here (new, gone, or another size,
        mtime or inode) or changed on the server. Paths the same on both sides are dropped from
        the scan too, so a rescan of 100,000 unchanged files holds little more than the scan."""
        if not isinstance(server, RemoteTree):  # a full listing: every record counts
            if self._server_went_back:
                return base_after_restore(self.index.entries(), folder.entries, server), server
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
        report: Report,
    ) -> None:
        path = action.path
        local = folder.entries.get(path)
        if action.do is Do.UPLOAD:
            assert local is not None
            self._uploader.upload(
                path, folder, local, action.base_version, hashed.get(path), report
            )
        elif action.do is Do.DOWNLOAD:
            self._downloads.append(path)  # all of them after the loop, small ones in groups
        elif action.do is Do.MAKE_REMOTE_FOLDER:
            pass  # all of them at once, before the other actions
        elif action.do is Do.MAKE_LOCAL_FOLDER:
            target = self.disk(path, folder)
            self.fs.make_folder(target)
            self.index.put(
                path, as_base(self.stat(target, FOLDER), None, None, remote[path].node_id)
            )
            report.folders += 1
        elif action.do is Do.DELETE_REMOTE:
            self._uploader.delete_remote(path)
            self.index.forget(path)
            report.deleted_remote += 1
            self.event("deleted_remote", path)
        elif action.do is Do.DELETE_LOCAL:
            self._delete_local(path, folder)
            self.index.forget(path)
            report.deleted_local += 1
            self.event("deleted_local", path)
        elif action.do is Do.MOVE_REMOTE:
            assert action.target is not None
            self.api.move(path, action.target)
            if folder.entries[action.target].kind == FOLDER:
                self.index.move_tree(path, action.target)
                self._again = True  # what is inside is reconciled under its new path
                self.event("moved", path, to=action.target, on="server")
            else:
                self._moved(path, action.target, folder.entries[action.target], on="server")
            report.moved += 1
        elif action.do is Do.MOVE_LOCAL:
            assert action.target is not None
            target = local_path(self.root, action.target)
            self._rename_here(self.disk(path, folder), target, action.target)
            self._moved(path, action.target, self.stat(target, FILE), on="here")
            report.moved += 1
        elif action.do is Do.CONFLICT:
            self._keep_both(path, folder, remote, hashed, report)
        elif action.do is Do.FORGET:
            self.index.forget(path)
        elif action.do is Do.ADOPT:
            self._adopt(path, folder, remote[path], hashed)

    # -- the rest -------------------------------------------------------------------------------

    def _keep_both(
        self,
        path: str,
        folder: Scan,
        remote: MutableMapping[str, RemoteEntry],
        hashed: dict[str, list[ManifestEntry]],
        report: Report,
    ) -> None:
        """Both sides changed: the local one becomes a conflicted copy (uploaded too), and the
        server's takes the original name."""
        disk = self.disk(path, folder)
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H%M%S")
        copy_name = conflicted_copy_name(disk.name, stamp=stamp, device=self.device)
        copy_path = path.rsplit("/", 1)[0] + "/" + copy_name
        checked_relative(copy_path)  # a device name may hold what no name may
        copy_disk = disk.with_name(copy_name)
        self.fs.rename(disk, copy_disk)
        local = folder.entries[path]
        moved = Scan(entries={copy_path: self.stat(copy_disk, local.kind)})
        if local.kind == FILE:
            self._uploader.upload(
                copy_path,
                moved,
                moved.entries[copy_path],
                None,
                hashed.get(path),
                report,
                modified_at=mtime_of(local),
            )
        self.index.forget(path)
        folder.entries.pop(path, None)
        there = remote[path]
        if there.kind == FOLDER:
            self.fs.make_folder(disk)
            self.index.put(path, as_base(self.stat(disk, FOLDER), None, None, there.node_id))
        else:
            self._downloader.download(path, folder, there, report)
        report.conflicts += 1
        self.event("conflict", path, kept_as=copy_path)

    def _adopt(
        self, path: str, folder: Scan, remote: RemoteEntry, hashed: dict[str, list[ManifestEntry]]
    ) -> None:
        local = folder.entries[path]
        chunks = [(e.chunk_id, e.size) for e in hashed.get(path, [])]
        self.index.put(path, as_base(local, remote.version, remote.etag, remote.node_id), chunks)

    def _delete_local(self, path: str, folder: Scan) -> None:
        disk = self.disk(path, folder)
        if folder.entries[path].kind == FOLDER:
            self.fs.remove_tree(disk)
        else:
            if self.stat(disk, FILE) != folder.entries[path]:
                raise FileChanged(f"{path} changed here; it is kept")
            self.fs.unlink(disk)

    def _moved(self, old: str, new: str, local: LocalEntry, *, on: str) -> None:
        """Record a move made `on` the server ("server") or in the folder ("here")."""
        entry = self.index.entry(old)
        assert entry is not None
        chunks = self.index.chunks_of(old)
        self.index.forget(old)
        self.index.put(new, as_base(local, entry.version, entry.etag, entry.node_id), chunks)
        self.event("moved", old, to=new, on=on)

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


def _both_changed(base: BaseEntry | None, local: LocalEntry, remote: RemoteEntry) -> bool:
    if base is None:
        return True
    local_same = (base.size, base.mtime_ns, base.inode) == (local.size, local.mtime_ns, local.inode)
    return not local_same and base.etag != remote.etag
