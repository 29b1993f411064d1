"""A big file's new chunk list learnt as a delta against the version the folder holds.

A device that synced version A of a 1 GiB file and must fetch version B asks the server for B
told against A (`sfs.protocol.manifest_delta`): runs of A's chunks and the few new ones,
instead of B's whole list (~93 bytes of JSON per chunk, 4 MB per GiB). The list is rebuilt
from the chunks the index recorded for A, and must add up to B's count, size and digest; when
it does not (the index and the server disagree about A), or there is no version here to start
from, or the server cannot tell deltas (an older one), the caller fetches the whole list.
"""

from __future__ import annotations

from sfs.client.api import ApiError, ManifestEntry
from sfs.client.sync.errors import ends_the_pass
from sfs.client.sync.reconcile import FILE, RemoteEntry
from sfs.client.sync.remote import FileManifest
from sfs.client.sync.workspace import Workspace
from sfs.protocol.manifest_delta import apply


class DeltaManifests:
    def __init__(self, workspace: Workspace) -> None:
        self._ws = workspace
        self._server_tells_deltas = True

    def fetch(self, path: str, remote: RemoteEntry) -> FileManifest | None:
        """The file's current manifest from a delta against the version recorded for `path`,
        or None when the whole list must be fetched instead."""
        held = self._ws.index.entry(path)
        if (
            not self._server_tells_deltas
            or held is None
            or held.kind != FILE
            or held.version is None
            or held.node_id is None
        ):
            return None
        base = self._ws.index.chunks_of(path)
        if not base:
            return None  # an empty file: nothing to start from
        try:
            delta = self._ws.api.manifest_delta(
                remote.node_id, base_node_id=held.node_id, base_version=held.version
            )
        except ApiError as problem:
            if ends_the_pass(problem):
                raise
            if problem.status in (404, 405) and problem.code != "not_found":
                self._server_tells_deltas = False  # no such call here: an older server
            return None
        try:
            entries = apply(delta, base)
        except ValueError:
            return None
        return FileManifest(
            node_id=remote.node_id,
            version=delta.version,
            size=delta.size,
            modified_at=delta.modified_at,
            etag=delta.digest,
            chunks=[ManifestEntry(chunk, size) for chunk, size in entries],
        )
