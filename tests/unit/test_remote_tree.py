"""The server's tree rebuilt from the index's records and the change feed, without a listing."""

from __future__ import annotations

import uuid

from sfs.client.sync.reconcile import FILE, FOLDER, BaseEntry, RemoteEntry
from sfs.client.sync.remote import Change
from sfs.client.sync.remote_tree import RemoteTree

IDS = {name: uuid.uuid4() for name in ("docs", "x", "sub", "y", "new")}


def agreed() -> dict[str, BaseEntry]:
    return {
        "/Docs": BaseEntry(FOLDER, 0, 0, 1, None, None, IDS["docs"]),
        "/Docs/x.txt": BaseEntry(FILE, 5, 9, 2, 3, "ex", IDS["x"]),
        "/Docs/Sub": BaseEntry(FOLDER, 0, 0, 3, None, None, IDS["sub"]),
        "/Docs/Sub/y.txt": BaseEntry(FILE, 7, 9, 4, 1, "ey", IDS["y"]),
        "/Docs2": BaseEntry(FOLDER, 0, 0, 5, None, None, uuid.uuid4()),  # a name sharing a prefix
    }


def change(operation: str, kind: str, node: str, path: str, **more: object) -> Change:
    fields: dict[str, object] = {"old_path": None, "size": 0, "version": None, "etag": None}
    fields.update(more)
    return Change(operation, kind, IDS[node], path, **fields)  # type: ignore[arg-type]


def test_unchanged_entries_read_through_as_the_server_has_them() -> None:
    tree = RemoteTree(agreed())
    assert tree["/Docs/x.txt"] == RemoteEntry(FILE, 5, 3, "ex", IDS["x"])
    assert tree["/Docs"] == RemoteEntry(FOLDER, 0, None, None, IDS["docs"])
    assert len(tree) == 5 and "/Docs/Sub" in tree and "/nowhere" not in tree


def test_creates_updates_moves_and_deletes_apply_in_order() -> None:
    tree = RemoteTree(agreed())
    tree.apply(change("update", FILE, "x", "/Docs/x.txt", size=6, version=4, etag="ex2"))
    tree.apply(change("create", FILE, "new", "/Docs/new.txt", size=1, version=1, etag="en"))
    tree.apply(change("move", FOLDER, "docs", "/Archive/Docs", old_path="/Docs"))
    tree.apply(change("delete", FOLDER, "sub", "/Archive/Docs/Sub"))

    assert sorted(tree) == [
        "/Archive/Docs",
        "/Archive/Docs/new.txt",
        "/Archive/Docs/x.txt",
        "/Docs2",
    ]
    assert tree["/Archive/Docs/x.txt"] == RemoteEntry(FILE, 6, 4, "ex2", IDS["x"])
    assert tree["/Archive/Docs/new.txt"].etag == "en"


def test_the_index_it_was_made_from_is_left_alone() -> None:
    records = agreed()
    tree = RemoteTree(records)
    tree.apply(change("delete", FOLDER, "docs", "/Docs"))
    assert sorted(tree) == ["/Docs2"] and len(records) == 5
