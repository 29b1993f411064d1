"""The database handle: one engine, and a unit of work per service call."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from sfs.private_files import keep_sqlite_private


def engine_url(database_url: str) -> str:
    """Accept plain postgresql:// URLs and pick the psycopg 3 driver for them."""
    if database_url.startswith("postgresql://"):
        return "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    return database_url


# Requests run on a pool of up to 40 threads: with the default 5 (+10) connections, a burst of
# concurrent requests opened and closed connections (and, on SQLite, set their pragmas) over and
# over, a fifth of the server's time in a listing benchmark.
_POOL: dict[str, Any] = {"pool_size": 20, "max_overflow": 20}


def create_database_engine(database_url: str, **options: Any) -> Engine:
    url = engine_url(database_url)
    if url.startswith("sqlite"):
        file = make_url(url).database
        if file and file != ":memory:" and not file.startswith("file:"):
            keep_sqlite_private(Path(file))  # its WAL holds file names and the audit log
            options = {**_POOL, **options}
        engine = create_engine(url, connect_args={"timeout": 30}, **options)
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True, **{**_POOL, **options})


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


CommitHook = Callable[[dict[str, Any]], None]
PreCommitHook = Callable[[Session], None]


class Database:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._commit_hooks: list[CommitHook] = []
        self._pre_commit_hooks: list[PreCommitHook] = []
        event.listen(self._sessions, "before_commit", self._before_commit)
        event.listen(self._sessions, "after_commit", self._after_commit)
        event.listen(self._sessions, "after_soft_rollback", self._after_rollback)

    def on_commit(self, hook: CommitHook) -> None:
        """Call `hook` with the unit of work's `session.info` once its commit has succeeded.

        Services note facts there (such as which spaces' journals grew) for hooks that must only
        see committed changes.
        """
        self._commit_hooks.append(hook)

    def before_commit(self, hook: PreCommitHook) -> None:
        """Call `hook` with the session just before its unit of work commits: what it writes
        (a PostgreSQL NOTIFY) commits, or rolls back, with the rest."""
        self._pre_commit_hooks.append(hook)

    def _before_commit(self, session: Session) -> None:
        for hook in self._pre_commit_hooks:
            hook(session)

    def note_changes_to(self, tables: Collection[str], key: str, *, inserts: bool = False) -> None:
        """Set `session.info[key]` in every unit of work that changes rows of `tables`, through
        the ORM or an UPDATE or DELETE statement (and with `inserts`, adds rows to them), so
        that an `on_commit` hook learns of it."""
        names = frozenset(tables)

        def flushed(session: Session, _context: Any) -> None:
            # After a flush the new, dirty and deleted sets still show what it wrote; "dirty"
            # counts any attribute set, even to the value it had, so ask whether a value changed.
            for row in session.new if inserts else ():
                if getattr(row, "__tablename__", None) in names:
                    session.info[key] = True
                    return
            for row in session.deleted:
                if getattr(row, "__tablename__", None) in names:
                    session.info[key] = True
                    return
            for row in session.dirty:
                if getattr(row, "__tablename__", None) in names and session.is_modified(row):
                    session.info[key] = True
                    return

        def executed(state: ORMExecuteState) -> None:
            if (state.is_update or state.is_delete or (inserts and state.is_insert)) and getattr(
                getattr(state.statement, "table", None), "name", None
            ) in names:
                state.session.info[key] = True

        event.listen(self._sessions, "after_flush", flushed)
        event.listen(self._sessions, "do_orm_execute", executed)

    def _after_commit(self, session: Session) -> None:
        info = dict(session.info)
        session.info.clear()
        if info:
            for hook in self._commit_hooks:
                hook(info)

    def _after_rollback(self, session: Session, previous: Any) -> None:
        if not previous.nested:  # a rolled-back savepoint leaves the rest of the work standing
            session.info.clear()

    @classmethod
    def from_url(cls, database_url: str) -> Database:
        return cls(create_database_engine(database_url))

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits when the block ends normally, rolls back on any error."""
        with self._sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
