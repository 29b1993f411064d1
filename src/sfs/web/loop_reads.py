"""Whether a short read of the database may run on the event loop rather than in a worker
thread.

A trip to the worker-thread pool and back costs about as much CPU as the few indexed queries a
small request makes (web/api/listing_shortcut.py measured 0.8 against 1.3 ms a listing). On the
loop, though, every other request of the process waits for the read. So only on SQLite (a local
file read in microseconds, not a network round trip), only for reads (in WAL mode a reader never
waits for a writer; a write may wait for SQLite's lock), and only while a connection is idle in
the pool, so the loop never waits for one a worker thread holds.
"""

from __future__ import annotations

from sqlalchemy.pool import QueuePool

from sfs.metadata.db import Database


class LoopReads:
    def __init__(self, database: Database) -> None:
        engine = database.engine
        self._pool = engine.pool if engine.dialect.name == "sqlite" else None

    def fit(self) -> bool:
        """Whether a read may run on the event loop now."""
        pool = self._pool
        return isinstance(pool, QueuePool) and pool.checkedin() > 0
