"""The server's tree without listing it: what the last pass agreed on (the index), with the
change feed since applied on top.

A pass after the first costs the changes since the last one, not the size of the space: no full
listing from the server, and in memory only what the feed touched. Changes that bring a path to
what the index records already (the feed replaying this client's own uploads) leave no trace.
"""

from __future__ import annotations

import uuid
from typing import Protocol

from sfs.client.sync.reconcile import FILE, BaseEntry, RemoteEntry, is_within
from sfs.client.sync.remote import Change


class Records(Protocol):
    """What the tree reads of the index: one record, and the paths below a folder."""

    def entry(self, path: str) -> BaseEntry | None: ...
    def entries_of(self, paths: list[str]) -> dict[str, BaseEntry]: ...
    def paths_under(self, top: str) -> list[str]: ...


_UNKNOWN_NODE = uuid.UUID(int=0)  # a record from before node ids were kept: matches no move


def as_remote(agreed: BaseEntry) -> RemoteEntry:
    """What the server held at a path when the index recorded it."""
    node = agreed.node_id or _UNKNOWN_NODE
    if agreed.kind == FILE:
        return RemoteEntry(FILE, agreed.size, agreed.version, agreed.etag, node)
    return RemoteEntry(agreed.kind, 0, None, None, node)


class RemoteTree:
    def __init__(self, records: Records) -> None:
        self._records = records
        self._changed: dict[str, RemoteEntry] = {}  # differs from the record, or is new
        self._gone: set[str] = set()  # recorded, but no longer on the server
        self._looked_up: dict[str, BaseEntry | None] = {}  # records of the page being applied

    def apply_page(self, changes: list[Change]) -> None:
        """A page of the feed, with the records it touches read in a few queries, not one per
        change (a client's first rescan replays all of its own uploads)."""
        paths = [c.path for c in changes if c.operation in ("create", "update")]
        found = self._records.entries_of(paths)
        self._looked_up = {path: found.get(path) for path in paths}
        try:
            for change in changes:
                self.apply(change)
        finally:
            self._looked_up = {}

    def touched(self) -> set[str]:
        """The paths where the server may differ from the index."""
        return {*self._changed, *self._gone}

    def get(self, path: str) -> RemoteEntry | None:
        if path in self._changed:
            return self._changed[path]
        if path in self._gone:
            return None
        agreed = self._record(path)
        return as_remote(agreed) if agreed is not None else None

    def apply(self, change: Change) -> None:
        if change.operation in ("create", "update"):
            is_file = change.kind == FILE
            self._put(
                change.path,
                RemoteEntry(
                    change.kind,
                    change.size if is_file else 0,
                    change.version if is_file else None,
                    change.etag if is_file else None,
                    change.node_id,
                ),
            )
        elif change.operation == "delete":
            for path in self._self_and_below(change.path):
                self._remove(path)
        elif change.operation == "move" and change.old_path is not None:
            moving = [(path, self.get(path)) for path in self._self_and_below(change.old_path)]
            for path, _ in moving:
                self._remove(path)
            for path, entry in moving:
                if entry is not None:
                    self._put(change.path + path[len(change.old_path) :], entry)
        else:
            raise ValueError(f"a change this client does not know: {change.operation!r}")

    def _record(self, path: str) -> BaseEntry | None:
        if path in self._looked_up:
            return self._looked_up[path]
        return self._records.entry(path)

    def _put(self, path: str, entry: RemoteEntry) -> None:
        self._gone.discard(path)
        agreed = self._record(path)
        if agreed is not None and as_remote(agreed) == entry:
            self._changed.pop(path, None)  # as recorded: nothing to do there
        else:
            self._changed[path] = entry

    def _remove(self, path: str) -> None:
        self._changed.pop(path, None)
        if self._record(path) is not None:
            self._gone.add(path)

    def _self_and_below(self, top: str) -> list[str]:
        recorded = [p for p in self._records.paths_under(top) if p not in self._gone]
        new = [p for p in self._changed if is_within(p, top)]
        return list(dict.fromkeys([*recorded, *new]))
