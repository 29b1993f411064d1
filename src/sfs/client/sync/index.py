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
    node_id TEXT,
    chunks TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS failures (
    path TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class LocalIndex:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many writes in one transaction (one fsync, not one per file)."""
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def entries(self) -> dict[str, BaseEntry]:
        rows = self._db.execute(
            "SELECT path, kind, size, mtime_ns, inode, version, etag, node_id FROM entries"
        )
        return {
            path: BaseEntry(
                kind=kind,
                size=size,
                mtime_ns=mtime_ns,
                inode=inode,
                version=version,
                etag=etag,
                node_id=uuid.UUID(node_id) if node_id else None,
            )
            for path, kind, size, mtime_ns, inode, version, etag, node_id in rows
        }

    def chunks_of(self, path: str) -> list[tuple[str, int]]:
        row = self._db.execute("SELECT chunks FROM entries WHERE path = ?", (path,)).fetchone()
        return [(str(item[0]), int(item[1])) for item in json.loads(row[0])] if row else []

    def chunk_sources(self) -> dict[str, tuple[str, int, int]]:
        """chunk id → (path, offset, size) of a file in the folder that held it at last sync."""
        sources: dict[str, tuple[str, int, int]] = {}
        for path, chunks in self._db.execute(
            "SELECT path, chunks FROM entries WHERE kind = 'file'"
        ):
            offset = 0
            for chunk_id, size in json.loads(chunks):
                sources.setdefault(chunk_id, (path, offset, size))
                offset += size
        return sources

    def put(self, path: str, entry: BaseEntry, chunks: list[tuple[str, int]] | None = None) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                path,
                entry.kind,
                entry.size,
                entry.mtime_ns,
                entry.inode,
                entry.version,
                entry.etag,
                str(entry.node_id) if entry.node_id else None,
                json.dumps(chunks or []),
            ),
        )
        self._db.execute("DELETE FROM failures WHERE path = ?", (path,))

    def forget(self, path: str) -> None:
        """Drop a path and everything under it."""
        self._db.execute(
            "DELETE FROM entries WHERE path = ? OR substr(path, 1, ?) = ?",
            (path, len(path) + 1, path + "/"),
        )

    def rename(self, old: str, new: str) -> None:
        self._db.execute("UPDATE entries SET path = ? WHERE path = ?", (new, old))

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
