"""Partial downloads: where a download is written before it takes its place, and how a download
cut short is resumed.

A file version is written to a temporary file beside its target, named after its path and
content, so that a download cut short (a crash, a lost network) is found by the next pass's
scan and resumed from the chunks it had written whole, as long as the server's version is still
the same; the partials a pass did not resume are deleted at its end. A full disk is noticed
here too, once, and the downloads left in the pass are not even tried. The downloads use this;
it knows nothing of where the chunks come from.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

from sfs.client.api import ApiError, ManifestEntry
from sfs.client.sync.errors import DiskFull
from sfs.client.sync.ignore import TEMP_PREFIX
from sfs.client.sync.remote import FileManifest
from sfs.client.sync.report import Report
from sfs.client.sync.scanner import Scan
from sfs.client.sync.workspace import Workspace
from sfs.protocol.chunk_ids import chunk_id
from sfs.protocol.limits import clamp_timestamp


class Partials:
    def __init__(self, workspace: Workspace) -> None:
        self._ws = workspace
        self.disk_full = False
        self._partials: set[Path] = set()  # partial downloads kept to resume
        self._leftovers: set[Path] = set()  # partial downloads the scan found

    def start_pass(self, leftovers: list[Path]) -> None:
        self.disk_full, self._partials = False, set()
        self._leftovers = set(leftovers)

    def write(
        self,
        path: str,
        folder: Scan,
        fetched: FileManifest,
        report: Report,
        pieces: Callable[[list[ManifestEntry]], Iterator[bytes]],
        *,
        durable: bool,
    ) -> Path:
        """Write a file version to its temporary file, resuming a partial download of the same
        version, and return that file; DiskFull when the disk is (or was found) full."""
        if self.disk_full:
            raise DiskFull
        fs = self._ws.fs
        manifest = fetched.chunks
        target = self._ws.disk(path, folder)
        fs.make_folder(target.parent)
        # Named after the content: a download cut short (crash, lost network) resumes from the
        # chunks it had written, as long as the server's version is still the same.
        temporary = target.with_name(f"{TEMP_PREFIX}{_partial_name(path, fetched.etag)}")
        self._partials.add(temporary)
        kept_chunks = kept = 0
        if temporary in self._leftovers:
            kept_chunks, kept = self._resumable(temporary, manifest)
            report.bytes_resumed += kept
            self._ws.progress.advance(size=kept)
        try:
            fs.write_file(
                temporary,
                pieces(manifest[kept_chunks:]),
                # Whatever the server holds, a time every file system here can keep.
                mtime=clamp_timestamp(fetched.modified_at.timestamp()),
                keep=kept,
                durable=durable,
            )
        except ApiError:
            raise  # the server or the network failed: the partial stays, to resume next pass
        except BaseException as problem:
            with contextlib.suppress(OSError):  # tidying up must not hide the real failure
                fs.unlink(temporary)
            if isinstance(problem, OSError) and problem.errno == errno.ENOSPC:
                self.disk_full = True
                raise DiskFull from problem
            raise
        return temporary

    def _resumable(self, partial: Path, manifest: list[ManifestEntry]) -> tuple[int, int]:
        """How many leading chunks of `manifest` an interrupted download already wrote whole
        (each read back and checked against its id), and their bytes."""
        chunking = self._ws.chunking
        assert chunking is not None
        count = offset = 0
        try:
            with self._ws.fs.open_read(partial) as handle:
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

    def tidy(self, leftovers: list[Path]) -> None:
        """Delete the partial downloads the scan found and this pass did not resume."""
        for leftover in leftovers:
            if leftover not in self._partials:
                with contextlib.suppress(OSError):  # tidying up; it is tried again next pass
                    self._ws.fs.unlink(leftover)


def _partial_name(path: str, etag: str | None) -> str:
    return hashlib.sha256(f"{path}\n{etag}".encode()).hexdigest()[:32]
