"""The server's tree without listing it: what the last pass agreed on, with the change feed since
applied on top.

A pass after the first costs the changes since the last one, not the size of the space: no full
listing from the server, and no copy of every entry in the client's memory (unchanged entries
are read through from the index's records as they are asked for).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, MutableMapping

from sfs.client.sync.reconcile import FILE, BaseEntry, RemoteEntry
from sfs.client.sync.remote import Change

_UNKNOWN_NODE = uuid.UUID(int=0)  # an index from before node ids were kept


class RemoteTree(MutableMapping[str, RemoteEntry]):
    def __init__(self, agreed: Mapping[str, BaseEntry]) -> None:
        self._agreed = dict(agreed)  # a copy of references only: the pass pops from its own
        self._changed: dict[str, RemoteEntry] = {}

    def apply(self, change: Change) -> None:
        if change.operation in ("create", "update"):
            self[change.path] = RemoteEntry(
                change.kind,
                change.size if change.kind == FILE else 0,
                change.version if change.kind == FILE else None,
                change.etag if change.kind == FILE else None,
                change.node_id,
            )
        elif change.operation == "delete":
            for path in self._self_and_below(change.path):
                del self[path]
        elif change.operation == "move" and change.old_path is not None:
            moving = [(path, self[path]) for path in self._self_and_below(change.old_path)]
            for path, _ in moving:
                del self[path]
            for path, entry in moving:
                self[change.path + path[len(change.old_path) :]] = entry
        else:
            raise ValueError(f"a change this client does not know: {change.operation!r}")

    def _self_and_below(self, top: str) -> list[str]:
        below = top.rstrip("/") + "/"
        return [path for path in self if path == top or path.startswith(below)]

    def __getitem__(self, path: str) -> RemoteEntry:
        changed = self._changed.get(path)
        if changed is not None:
            return changed
        agreed = self._agreed[path]
        return RemoteEntry(
            agreed.kind,
            agreed.size if agreed.kind == FILE else 0,
            agreed.version if agreed.kind == FILE else None,
            agreed.etag if agreed.kind == FILE else None,
            agreed.node_id or _UNKNOWN_NODE,
        )

    def __setitem__(self, path: str, entry: RemoteEntry) -> None:
        self._agreed.pop(path, None)
        self._changed[path] = entry

    def __delitem__(self, path: str) -> None:
        found = self._agreed.pop(path, None) is not None
        if self._changed.pop(path, None) is None and not found:
            raise KeyError(path)

    def __iter__(self) -> Iterator[str]:
        yield from self._agreed
        yield from self._changed

    def __len__(self) -> int:
        return len(self._agreed) + len(self._changed)

    def __contains__(self, path: object) -> bool:
        return path in self._changed or path in self._agreed
