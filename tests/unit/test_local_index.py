"""The client's local index: entries, where each chunk sits, and the upgrade from the JSON form."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

import pytest

from sfs.client.sync.index import LocalIndex
from sfs.client.sync.reconcile import BaseEntry

NODE = uuid.uuid4()


def entry(size: int) -> BaseEntry:
    return BaseEntry("file", size, 1, 2, 1, "etag", NODE)


def test_held_chunks_are_those_some_recorded_file_held(tmp_path: Path) -> None:
    index = LocalIndex(tmp_path / "index.db")
    index.put("/a.bin", entry(30), [("c1", 10), ("c2", 20)])
    index.put("/Docs/b.bin", entry(25), [("c2", 20), ("c3", 5)])
    asked = ["c2", "nowhere", "c3", *(f"x{n}" for n in range(1200))]  # more than one query
    assert index.held_chunks(asked) == {"c2", "c3"}
    assert index.held_chunks([]) == set()
    index.put("/a.bin", entry(30), [("c4", 30)])
    assert index.held_chunks(["c1", "c2", "c4"]) == {"c2", "c4"}


def test_chunks_are_found_by_id_and_listed_in_file_order(tmp_path: Path) -> None:
    index = LocalIndex(tmp_path / "index.db")
    index.put("/a.bin", entry(30), [("c1", 10), ("c2", 20)])
    index.put("/Docs/b.bin", entry(25), [("c2", 20), ("c3", 5)])

    assert index.chunks_of("/a.bin") == [("c1", 10), ("c2", 20)]
    assert sorted(index.chunk_sources("c2")) == [("/Docs/b.bin", 0, 20), ("/a.bin", 10, 20)]
    assert index.chunk_sources("unknown") == []
    index.put("/a.bin", entry(5), [("c3", 5)])  # a new version replaces the old chunk list
    assert index.chunk_sources("c1") == []
    index.forget("/Docs")  # a folder and all under it
    assert index.chunk_sources("c2") == [] and index.entry("/Docs/b.bin") is None
    assert index.entry("/a.bin") == entry(5)
    index.close()


def test_an_index_of_the_first_format_is_upgraded_in_place(tmp_path: Path) -> None:
    old = sqlite3.connect(tmp_path / "index.db")
    old.executescript(
        "CREATE TABLE entries (path TEXT PRIMARY KEY, kind TEXT NOT NULL, size INTEGER NOT NULL,"
        " mtime_ns INTEGER NOT NULL, inode INTEGER NOT NULL, version INTEGER, etag TEXT,"
        " node_id TEXT, chunks TEXT NOT NULL DEFAULT '[]');"
    )
    old.execute(
        "INSERT INTO entries VALUES ('/a.bin', 'file', 30, 1, 2, 1, 'etag', ?, ?)",
        (str(NODE), json.dumps([["c1", 10], ["c2", 20]])),
    )
    old.commit()
    old.close()

    index = LocalIndex(tmp_path / "index.db")

    assert index.entries() == {"/a.bin": entry(30)}
    assert index.chunks_of("/a.bin") == [("c1", 10), ("c2", 20)]
    assert index.chunk_sources("c2") == [("/a.bin", 10, 20)]
    index.close()
    assert LocalIndex(tmp_path / "index.db").chunks_of("/a.bin") == [("c1", 10), ("c2", 20)]


def test_a_put_that_fails_part_way_leaves_the_old_entry_and_chunks(tmp_path: Path) -> None:
    index = LocalIndex(tmp_path / "index.db")
    index.put("/a.bin", entry(30), [("c1", 10), ("c2", 20)])
    broken: list[tuple[str, int]] = [("c3", 10), ("c4", None)]  # type: ignore[list-item]
    with pytest.raises(TypeError):  # a size that is no number: the put stops half-way
        index.put("/a.bin", entry(20), broken)
    assert index.entry("/a.bin") == entry(30)
    assert index.chunks_of("/a.bin") == [("c1", 10), ("c2", 20)]
    with index.batch():  # a put inside a batch is part of it
        index.put("/b.bin", entry(5), [("c5", 5)])
    assert index.chunks_of("/b.bin") == [("c5", 5)]
    index.close()
