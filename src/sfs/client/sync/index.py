"""The local index: what the folder and the server agreed on at the last sync, per path.

SQLite in the folder's `.sfs/` (never synced). It lets a rescan hash only what changed
(size, mtime and inode unchanged means the content is), and lets a download take chunks the
folder already holds instead of fetching them.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sfs.client.sync.reconcile import BaseEntry

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    path TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    version INTEGER,
    etag TEXT,
    node_id TEXT
);
CREATE TABLE IF NOT EXISTS failures (
    path TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Where each chunk of each synced file sits, so a download takes chunks the folder holds with
-- one indexed lookup each, instead of holding every chunk of the folder in memory.
CREATE TABLE IF NOT EXISTS chunks (
    path TEXT NOT NULL,
    "offset" INTEGER NOT NULL,
    chunk_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (path, "offset")
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS chunks_by_id ON chunks (chunk_id);
"""


class LocalIndex:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.executescript(_SCHEMA)
        self._upgrade()

    def _upgrade(self) -> None:
        """Version 0 kept each file's chunk list as JSON in `entries`; move it to `chunks`."""
        columns = [row[1] for row in self._db.execute("PRAGMA table_info(entries)")]
        if "chunks" not in columns:
            return
        with self.batch():
            for path, listed in list(self._db.execute("SELECT path, chunks FROM entries")):
                self._put_chunks(path, [(str(c), int(n)) for c, n in json.loads(listed)])
            self._db.execute("ALTER TABLE entries DROP COLUMN chunks")

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many writes in one transaction (one fsync, not one per file). Inside another batch,
        part of that one."""
        if self._db.in_transaction:
            yield
            return
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def entries(self) -> dict[str, BaseEntry]:
        return dict(self.each_entry())

    def each_entry(self) -> Iterator[tuple[str, BaseEntry]]:
        """Every record, read a row at a time (a pass keeps only those that need work)."""
        for row in self._db.execute(f"SELECT path, {_FIELDS} FROM entries"):  # noqa: S608
            yield row[0], _entry_of(row[1:])

    def entries_of(self, paths: list[str]) -> dict[str, BaseEntry]:
        """The records of these paths (those recorded), a few hundred per query."""
        found: dict[str, BaseEntry] = {}
        for start in range(0, len(paths), 500):
            group = paths[start : start + 500]
            marks = ", ".join("?" * len(group))  # placeholders only: the paths are parameters
            query = f"SELECT path, {_FIELDS} FROM entries WHERE path IN ({marks})"  # noqa: S608
            for row in self._db.execute(query, group):
                found[row[0]] = _entry_of(row[1:])
        return found

    def paths_under(self, top: str) -> list[str]:
        """`top` and every recorded path below it."""
        rows = self._db.execute(
            "SELECT path FROM entries WHERE path = ? OR substr(path, 1, ?) = ?",
            (top, len(top) + 1, top.rstrip("/") + "/"),
        )
        return [str(path) for (path,) in rows]

    def entry(self, path: str) -> BaseEntry | None:
        query = f"SELECT {_FIELDS} FROM entries WHERE path = ?"  # noqa: S608
        row = self._db.execute(query, (path,)).fetchone()
        return None if row is None else _entry_of(row)

    def chunks_of(self, path: str) -> list[tuple[str, int]]:
        rows = self._db.execute(
            'SELECT chunk_id, size FROM chunks WHERE path = ? ORDER BY "offset"', (path,)
        )
        return [(str(chunk), int(size)) for chunk, size in rows]

    def held_chunks(self, chunk_ids: list[str]) -> set[str]:
        """Which of these chunks some file in the folder held at its last sync, a few hundred
        ids per query: a download of a new big file asks for ~44,000 per GiB, nearly all of
        them held nowhere, and one query each cost its client ~0.3 s of CPU per GiB."""
        held: set[str] = set()
        for start in range(0, len(chunk_ids), 500):
            group = chunk_ids[start : start + 500]
            marks = ", ".join("?" * len(group))  # placeholders only: the ids are parameters
            query = f"SELECT DISTINCT chunk_id FROM chunks WHERE chunk_id IN ({marks})"  # noqa: S608
            held.update(str(chunk) for (chunk,) in self._db.execute(query, group))
        return held

    def chunk_sources(self, chunk_id: str, limit: int = 3) -> list[tuple[str, int, int]]:
        """(path, offset, size) of files in the folder that held the chunk at their last sync."""
        rows = self._db.execute(
            'SELECT path, "offset", size FROM chunks WHERE chunk_id = ? LIMIT ?', (chunk_id, limit)
        )
        return [(str(path), int(offset), int(size)) for path, offset, size in rows]

    def put(self, path: str, entry: BaseEntry, chunks: list[tuple[str, int]] | None = None) -> None:
        # One transaction: the entry never without its chunks, and a big file's thousands of
        # chunk rows in one commit rather than one each (0.55 s of CPU per 22,000 rows).
        with self.batch():
            self._put(path, entry, chunks or [])

    def _put(self, path: str, entry: BaseEntry, chunks: list[tuple[str, int]]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                path,
                entry.kind,
                entry.size,
                entry.mtime_ns,
                entry.inode,
                entry.version,
                entry.etag,
                str(entry.node_id) if entry.node_id else None,
            ),
        )
        self._put_chunks(path, chunks)
        self._db.execute("DELETE FROM failures WHERE path = ?", (path,))

    def _put_chunks(self, path: str, chunks: list[tuple[str, int]]) -> None:
        self._db.execute("DELETE FROM chunks WHERE path = ?", (path,))
        rows, offset = [], 0
        for chunk, size in chunks:
            rows.append((path, offset, chunk, size))
            offset += size
        self._db.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?)", rows)

    def forget(self, path: str) -> None:
        """Drop a path and everything under it."""
        for table in ("entries", "chunks"):
            self._db.execute(
                f"DELETE FROM {table} WHERE path = ? OR substr(path, 1, ?) = ?",  # noqa: S608
                (path, len(path) + 1, path + "/"),
            )

    def move_tree(self, old: str, new: str) -> None:
        """A folder moved whole: it and everything recorded under it take the new path."""
        with self.batch():
            for table in ("entries", "chunks"):
                self._db.execute(
                    f"UPDATE {table} SET path = ? || substr(path, ?)"  # noqa: S608
                    " WHERE path = ? OR substr(path, 1, ?) = ?",
                    (new, len(old) + 1, old, len(old) + 1, old + "/"),
                )

    def fail(self, path: str, reason: str, at: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO failures VALUES (?, ?, ?)", (path, reason, at))

    def clear_failures(self) -> None:
        """Each pass records afresh what failed: a failure fixed or gone meanwhile is not kept."""
        self._db.execute("DELETE FROM failures")

    def failures(self) -> list[tuple[str, str, str]]:
        return list(self._db.execute("SELECT path, reason, at FROM failures ORDER BY path"))

    def setting(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_setting(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (key, value))


_FIELDS = "kind, size, mtime_ns, inode, version, etag, node_id"


def _entry_of(row: tuple[Any, ...]) -> BaseEntry:
    kind, size, mtime_ns, inode, version, etag, node_id = row
    return BaseEntry(
        kind, size, mtime_ns, inode, version, etag, uuid.UUID(node_id) if node_id else None
    )
