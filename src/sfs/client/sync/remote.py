"""The server as the sync engine sees it: the REST client plus the calls only sync needs."""

from __future__ import annotations

import uuid
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sfs.client.api import ApiClient, ApiError, ManifestEntry, RemoteNode
from sfs.client.sync.errors import ends_the_pass
from sfs.client.sync.reconcile import RemoteEntry
from sfs.protocol.devices import SYNCED_SPACE_HEADER
from sfs.protocol.manifest_delta import ManifestDelta, decode


@dataclass(frozen=True)
class Snapshot:
    cursor: int
    entries: MutableMapping[str, RemoteEntry]


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of a space's journal, as the sync engine applies it."""

    operation: str  # create | update | move | delete
    kind: str
    node_id: uuid.UUID
    path: str
    old_path: str | None
    size: int
    version: int | None
    etag: str | None


@dataclass(frozen=True)
class FileManifest:
    """A file version to fetch: its chunks in order, and what to record once it is written."""

    node_id: uuid.UUID
    version: int
    size: int
    modified_at: datetime
    etag: str
    chunks: list[ManifestEntry]


@dataclass(frozen=True)
class ChangesPage:
    changes: list[Change]
    cursor: int
    more: bool


@dataclass(frozen=True)
class CommitOutcome:
    path: str
    node: RemoteNode | None
    error: ApiError | None


@dataclass(frozen=True)
class RemoteSpace:
    id: uuid.UUID
    name: str
    kind: str


class SyncApi(ApiClient):
    def spaces(self) -> list[RemoteSpace]:
        """The spaces this device's user may sync, My Files first."""
        return [
            RemoteSpace(uuid.UUID(str(raw["id"])), str(raw["name"]), str(raw["kind"]))
            for raw in self._json("GET", "/spaces")
        ]

    def use_space(self, name: str | None) -> RemoteSpace:
        """Point this client at a space by name (My Files when None), by its id from now on:
        'me' would name another space if another user logged in on this device."""
        spaces = self.spaces()
        wanted = [s for s in spaces if (s.name == name if name else s.kind == "personal")]
        if not wanted:
            names = ", ".join(repr(s.name) for s in spaces)
            raise ApiError(
                f"no space named {name!r} here; you can sync: {names}",
                status=404,
                code="not_found",
            )
        self.space = str(wanted[0].id)
        # Named on every call, for the server's Devices page ("synced folders").
        self._http.headers[SYNCED_SPACE_HEADER] = quote(wanted[0].name[:100], safe=" ")
        return wanted[0]

    def snapshot(self) -> Snapshot:
        data = self._object("GET", self._space("/snapshot"))
        entries: dict[str, RemoteEntry] = {}
        for raw in data["nodes"]:
            node = RemoteNode.of(raw)
            entries[node.path] = RemoteEntry(
                kind=node.kind,
                size=node.size,
                version=node.version,
                etag=node.etag,
                node_id=uuid.UUID(str(raw["id"])),
            )
        return Snapshot(cursor=int(data["cursor"]), entries=entries)

    def changes(self, cursor: int, *, limit: int = 5000) -> ChangesPage:
        """The space's journal after `cursor`, a page at a time (409 when the cursor is ahead
        of the space: a server restored from an older backup)."""
        data = self._object(
            "GET", self._space("/changes"), params={"cursor": cursor, "limit": limit}
        )
        return ChangesPage(
            changes=[
                Change(
                    operation=str(raw["operation"]),
                    kind=str(raw["kind"]),
                    node_id=uuid.UUID(str(raw["node_id"])),
                    path=str(raw["path"]),
                    old_path=raw.get("old_path"),
                    size=int(raw["size"]),
                    version=raw.get("version"),
                    etag=raw.get("content_digest"),
                )
                for raw in data["changes"]
            ],
            cursor=int(data["cursor"]),
            more=bool(data["more"]),
        )

    def manifest(self, path: str) -> tuple[RemoteNode, int, list[ManifestEntry]]:
        data = self._object("GET", self._space("/manifest"), params={"path": path})
        try:
            chunks = [ManifestEntry(str(c["chunk_id"]), int(c["size"])) for c in data["chunks"]]
            return RemoteNode.of(data["node"]), int(data["version"]), chunks
        except (KeyError, TypeError, ValueError) as problem:
            raise _unreadable(problem) from None

    def manifests(
        self, wanted: Sequence[tuple[uuid.UUID, int | None]]
    ) -> list[FileManifest | ApiError]:
        """Many files' chunk lists in one call, by node id and version."""
        body = {"files": [{"node_id": str(node), "version": number} for node, number in wanted]}
        data = self._object("POST", self._space("/manifests"), json=body)
        results: list[FileManifest | ApiError] = []
        for raw in data["results"]:
            error = raw.get("error")
            if error:
                results.append(ApiError(error["message"], status=404, code=error["code"]))
                continue
            try:
                results.append(
                    FileManifest(
                        node_id=uuid.UUID(str(raw["node_id"])),
                        version=int(raw["version"]),
                        size=int(raw["size"]),
                        modified_at=datetime.fromisoformat(raw["modified_at"]),
                        etag=str(raw["content_digest"]),
                        chunks=[
                            ManifestEntry(str(c["chunk_id"]), int(c["size"])) for c in raw["chunks"]
                        ],
                    )
                )
            except (KeyError, TypeError, ValueError) as problem:  # that file alone fails
                results.append(_unreadable(problem))
        return results

    def manifest_delta(
        self, node_id: uuid.UUID, *, base_node_id: uuid.UUID, base_version: int
    ) -> ManifestDelta:
        """A file's current chunk list told against a version this device holds."""
        params = {"node_id": str(node_id), "base_node_id": str(base_node_id)}
        response = self._call(
            "GET", self._space("/manifest-delta"), params={**params, "base_version": base_version}
        )
        try:
            return decode(response.content)
        except ValueError as problem:
            raise _unreadable(problem) from None

    def commit_batch(self, commits: Sequence[dict[str, Any]]) -> list[CommitOutcome]:
        data = self._object("POST", self._space("/commit-batch"), json={"commits": list(commits)})
        return [_outcome(result) for result in data["results"]]

    def commit_one(self, commit: dict[str, Any]) -> CommitOutcome:
        """A commit on its own (a manifest too big for a batch): refused alone, like in one."""
        path = str(commit["path"])
        try:
            node = RemoteNode.of(self._object("POST", self._space("/commit"), json=commit))
        except ApiError as problem:
            if ends_the_pass(problem):
                raise
            return CommitOutcome(path=path, node=None, error=problem)
        return CommitOutcome(path=path, node=node, error=None)

    def create_folders(self, paths: Sequence[str]) -> list[CommitOutcome]:
        """Many folders in one call; one that exists already is answered as it is."""
        data = self._object("POST", self._space("/folders/batch"), json={"paths": list(paths)})
        return [_outcome(result) for result in data["results"]]

    def wait_for_changes(self, cursor: int, *, wait: float) -> int:
        """Long poll: the newest cursor once something changed after `cursor` (or it timed out)."""
        data = self._object(
            "GET",
            self._space("/changes"),
            params={"cursor": cursor, "wait": wait, "limit": 1},
            timeout=wait + 30,
        )
        return int(data["cursor"])


def _unreadable(problem: Exception) -> ApiError:
    """A file's description the client cannot use: that file fails, not the pass."""
    return ApiError(
        f"the server described this file in a way the client cannot read ({problem!r})",
        status=502,
        code="bad_response",
    )


def _outcome(result: dict[str, Any]) -> CommitOutcome:
    error = result.get("error")
    return CommitOutcome(
        path=str(result["path"]),
        node=RemoteNode.of(result["node"]) if result.get("node") else None,
        error=ApiError(error["message"], status=409, code=error["code"]) if error else None,
    )
