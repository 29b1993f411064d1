"""The server's tree rebuilt from the index's records and the change feed, without a listing."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from sfs.client.sync.index import LocalIndex
from sfs.client.sync.reconcile import FILE, FOLDER, BaseEntry, RemoteEntry
from sfs.client.sync.remote import Change
from sfs.client.sync.remote_tree import RemoteTree

IDS = {name: uuid.uuid4() for name in ("docs", "x", "sub", "y", "new", "docs2")}


@pytest.fixture
def index(tmp_path: Path) -> LocalIndex:
    records = LocalIndex(tmp_path / "index.db")
    records.put("/Docs", BaseEntry(FOLDER, 0, 0, 1, None, None, IDS["docs"]))
    records.put("/Docs/x.txt", BaseEntry(FILE, 5, 9, 2, 3, "ex", IDS["x"]))
    records.put("/Docs/Sub", BaseEntry(FOLDER, 0, 0, 3, None, None, IDS["sub"]))
    records.put("/Docs/Sub/y.txt", BaseEntry(FILE, 7, 9, 4, 1, "ey", IDS["y"]))
    records.put("/Docs2", BaseEntry(FOLDER, 0, 0, 5, None, None, IDS["docs2"]))  # shared prefix
    return records


def change(operation: str, kind: str, node: str, path: str, **more: object) -> Change:
    fields: dict[str, object] = {"old_path": None, "size": 0, "version": None, "etag": None}
    fields.update(more)
    return Change(operation, kind, IDS[node], path, **fields)  # type: ignore[arg-type]


def test_untouched_paths_read_through_as_the_index_recorded_them(index: LocalIndex) -> None:
    tree = RemoteTree(index)
    assert tree.get("/Docs/x.txt") == RemoteEntry(FILE, 5, 3, "ex", IDS["x"])
    assert tree.get("/Docs") == RemoteEntry(FOLDER, 0, None, None, IDS["docs"])
    assert tree.get("/nowhere") is None and tree.touched() == set()


def test_creates_updates_moves_and_deletes_apply_in_order(index: LocalIndex) -> None:
    tree = RemoteTree(index)
    tree.apply(change("update", FILE, "x", "/Docs/x.txt", size=6, version=4, etag="ex2"))
    tree.apply(change("create", FILE, "new", "/Docs/new.txt", size=1, version=1, etag="en"))
    tree.apply(change("move", FOLDER, "docs", "/Archive/Docs", old_path="/Docs"))
    tree.apply(change("delete", FOLDER, "sub", "/Archive/Docs/Sub"))

    assert tree.get("/Archive/Docs/x.txt") == RemoteEntry(FILE, 6, 4, "ex2", IDS["x"])
    assert tree.get("/Archive/Docs/new.txt") == RemoteEntry(FILE, 1, 1, "en", IDS["new"])
    assert tree.get("/Archive/Docs") == RemoteEntry(FOLDER, 0, None, None, IDS["docs"])
    for gone in ("/Docs", "/Docs/x.txt", "/Docs/Sub/y.txt", "/Archive/Docs/Sub/y.txt"):
        assert tree.get(gone) is None
    assert tree.get("/Docs2") == RemoteEntry(FOLDER, 0, None, None, IDS["docs2"])
    assert "/Docs2" not in tree.touched()


def test_the_feed_replaying_what_the_index_holds_leaves_nothing_touched(
    index: LocalIndex,
) -> None:
    tree = RemoteTree(index)
    tree.apply(change("update", FILE, "x", "/Docs/x.txt", size=6, version=4, etag="ex2"))
    tree.apply(change("update", FILE, "x", "/Docs/x.txt", size=5, version=3, etag="ex"))
    tree.apply(change("create", FOLDER, "sub", "/Docs/Sub"))
    assert tree.touched() == set()  # this client's own uploads, seen again: no work
