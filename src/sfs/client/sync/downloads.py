"""Downloads: server versions written into the folder.

Done after a pass's other actions, as Syncthing's puller works apart from its scanner and
sender: big files one by one (streamed, resumable), small ones in groups of up to a thousand,
a couple of round trips and one flush to disk per group. A chunk is taken from a file already
in the folder when that file still holds it, and fetched from the server otherwise. Every file
is written aside (see `partials`) and renamed into place only if the file there is still the one
the scan saw: a file changed meanwhile is kept, for the next pass to see as changed on both
sides.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

from sfs.client.api import ApiError, ManifestEntry
from sfs.client.local_paths import UnsafePath, local_path
from sfs.client.sync.errors import DiskFull, FileChanged, ends_the_pass, reason_of
from sfs.client.sync.fetcher import FETCH_BATCH, chunks_in_order
from sfs.client.sync.manifest_deltas import DeltaManifests
from sfs.client.sync.partials import Partials
from sfs.client.sync.reconcile import FILE, RemoteEntry
from sfs.client.sync.remote import FileManifest
from sfs.client.sync.report import Report
from sfs.client.sync.scanner import Scan
from sfs.client.sync.workspace import Workspace, as_base
from sfs.protocol.chunk_ids import chunk_id

SMALL_DOWNLOAD = 1024 * 1024  # files up to this size are fetched in groups
DOWNLOAD_GROUP = 1000
DOWNLOAD_GROUP_BYTES = 16 * 1024 * 1024


class Downloader:
    def __init__(self, workspace: Workspace) -> None:
        self._ws = workspace
        self._partials = Partials(workspace)
        self._deltas = DeltaManifests(workspace)

    def start_pass(self, leftovers: list[Path]) -> None:
        """A new pass, whose scan found these partial downloads."""
        self._partials.start_pass(leftovers)

    def end_pass(self, leftovers: list[Path]) -> None:
        """The partial downloads this pass did not resume are deleted."""
        self._partials.tidy(leftovers)

    def download_all(
        self, paths: list[str], folder: Scan, remote: dict[str, RemoteEntry], report: Report
    ) -> None:
        """The pass's downloads: big files one by one (streamed, resumable), small ones in
        groups, a couple of round trips per group instead of two per file."""
        for path in paths:
            if remote[path].size > SMALL_DOWNLOAD:
                self._ws.attempt(
                    path, report, partial(self.download, path, folder, remote[path], report)
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
            if self._partials.disk_full:
                raise DiskFull
            manifests = self._ws.api.manifests(
                [(remote[p].node_id, remote[p].version) for p in paths]
            )
            found = self._gather(manifests, report)
        except (ApiError, OSError) as problem:
            if isinstance(problem, ApiError) and ends_the_pass(problem):
                raise
            for path in paths:
                self._ws.failed(path, reason_of(problem), report)
            return
        with self._ws.index.batch():  # one index commit for the group, not one per file
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
            temporary = self._partials.write(path, folder, manifest, report, pieces, durable=False)
            written.append((path, manifest, temporary))

        for path, manifest in zip(paths, manifests, strict=True):
            if isinstance(manifest, ApiError):
                self._ws.failed(path, manifest.message, report)
                continue
            self._ws.attempt(path, report, partial(write, path, manifest))
        try:
            # One flush to disk for the whole group (a sync per file costs more than the rest
            # of a small file's download), and only then are the files renamed into place.
            self._ws.fs.flush_all()
        except OSError as problem:
            for path, _, temporary in written:
                self._ws.failed(path, reason_of(problem), report)
                with contextlib.suppress(OSError):
                    self._ws.fs.unlink(temporary)
            return
        for path, manifest, temporary in written:
            put = partial(
                self._put_in_place, path, folder, remote[path], manifest, temporary, report
            )
            self._ws.attempt(path, report, put)

    def _gather(self, manifests: list[FileManifest | ApiError], report: Report) -> dict[str, bytes]:
        """Every chunk a group of small files needs: from the folder where it still holds them,
        the rest fetched in a few batches."""
        chunking = self._ws.chunking
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
            fetched = self._ws.api.fetch_chunks(wanted[start : start + FETCH_BATCH])
            report.bytes_received += sum(len(v) for v in fetched.values())
            found.update(fetched)
        return found

    def _from(self, found: dict[str, bytes], entries: list[ManifestEntry]) -> Iterator[bytes]:
        for entry in entries:
            self._ws.progress.advance(size=entry.size)
            yield found[entry.chunk_id]

    def download(self, path: str, folder: Scan, remote: RemoteEntry, report: Report) -> None:
        """One file, streamed from the server (or from the folder) into place."""
        if self._partials.disk_full:
            raise DiskFull
        # A new version of a file held here: its chunk list as a delta against this one.
        manifest = self._deltas.fetch(path, remote)
        if manifest is None:
            node, version, chunks = self._ws.api.manifest(path)
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
        temporary = self._partials.write(path, folder, fetched, report, pieces, durable=True)
        self._put_in_place(path, folder, remote, fetched, temporary, report)

    def _put_in_place(
        self,
        path: str,
        folder: Scan,
        remote: RemoteEntry,
        fetched: FileManifest,
        temporary: Path,
        report: Report,
    ) -> None:
        fs = self._ws.fs
        target = self._ws.disk(path, folder)
        try:
            # Never replace a file that changed since the scan: it is kept for the next pass.
            now = self._ws.stat(target, FILE) if fs.exists(target) else None
            if now != folder.entries.get(path):
                raise FileChanged(f"{path} changed here while it was downloaded")
            fs.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):  # tidying up must not hide the real failure
                fs.unlink(temporary)
            raise
        self._ws.index.put(
            path,
            as_base(self._ws.stat(target, FILE), fetched.version, fetched.etag, remote.node_id),
            [(e.chunk_id, e.size) for e in fetched.chunks],
        )
        report.downloaded += 1
        self._ws.progress.advance(files=1)
        self._ws.event("downloaded", path, size=fetched.size)

    def _assemble(self, manifest: list[ManifestEntry], report: Report) -> Iterator[bytes]:
        """The file's chunks in order: from files already here when they still hold them,
        else fetched from the server in batches, one ahead (`fetcher`)."""
        chunking = self._ws.chunking
        assert chunking is not None
        key = chunking.chunk_id_key
        return chunks_in_order(
            self._ws.api, manifest, report, self._ws.progress, lambda g: self._local_chunks(g, key)
        )

    def _local_chunks(self, group: list[ManifestEntry], key: bytes) -> dict[str, bytes]:
        """The chunks of `group` that files here still hold, looked up only for the ids the
        index says some file held (one query for the group, not one per chunk)."""
        held = self._ws.index.held_chunks(list(dict.fromkeys(e.chunk_id for e in group)))
        found: dict[str, bytes] = {}
        for entry in group:
            if (
                entry.chunk_id in held
                and entry.chunk_id not in found
                and (data := self._local_chunk(entry, key)) is not None
            ):
                found[entry.chunk_id] = data
        return found

    def _local_chunk(self, entry: ManifestEntry, key: bytes) -> bytes | None:
        for path, offset, size in self._ws.index.chunk_sources(entry.chunk_id):
            try:
                source = local_path(self._ws.root, path)
            except UnsafePath:
                continue  # never read from outside the folder either
            try:
                with self._ws.fs.open_read(source) as handle:
                    handle.seek(offset)
                    data = handle.read(size)
            except OSError:
                continue
            # The file may have changed since: only bytes that still hash to the id are used.
            if chunk_id(key, data) == entry.chunk_id:
                return data
        return None
