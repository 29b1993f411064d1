"""The change feed of a space: journal entries after a cursor, paged, and a wait for the next one.

Correctness never depends on notifications: a waiter re-reads the journal at least every
`RECHECK_SECONDS`, so a missed signal (another instance, a restart) only costs latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

import anyio.to_thread
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from sfs.domain.actor import Actor
from sfs.domain.errors import Conflict, InvalidInput
from sfs.domain.space_scope import SpaceScope
from sfs.metadata.db import Database
from sfs.metadata.file_models import JournalEntry, Version
from sfs.services.files.spaces import visible_space
from sfs.services.sharing.share_grants import path_ids

MAX_PAGE = 5000
MAX_WAIT_SECONDS = 60.0
RECHECK_SECONDS = 2.0


@dataclass(frozen=True)
class Change:
    seq: int
    operation: str  # create | update | move | delete
    kind: str  # file | folder
    node_id: uuid.UUID
    path: str
    old_path: str | None
    version_id: uuid.UUID | None
    size: int
    occurred_at: datetime
    # Of the version a create or update brought: what a client needs to know the file's state
    # from the feed alone, without listing the space again.
    version: int | None = None
    content_digest: str | None = None


@dataclass(frozen=True)
class ChangesPage:
    changes: list[Change]
    cursor: int  # pass back to continue after these
    more: bool  # another page is waiting right now


class ChangeSignal:
    """Wakes waiters in this process when a space's journal grows (after the commit).

    Long polls wait as coroutines (a worker thread each would run out at a few dozen clients),
    on asyncio events that `notify`, called from any thread, sets on their loop.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation: dict[uuid.UUID, int] = {}
        self._async_waiters: dict[
            uuid.UUID, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]
        ] = {}

    def notify(self, space_ids: set[uuid.UUID]) -> None:
        with self._lock:
            for space_id in space_ids:
                self._generation[space_id] = self._generation.get(space_id, 0) + 1
                for loop, event in self._async_waiters.get(space_id, set()):
                    loop.call_soon_threadsafe(event.set)

    async def wait_async(self, space_id: uuid.UUID, seen: int, timeout: float) -> None:
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            if self._generation.get(space_id, 0) != seen:
                return
            self._async_waiters.setdefault(space_id, set()).add(waiter)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter[1].wait(), timeout)
        finally:
            with self._lock:
                waiting = self._async_waiters.get(space_id, set())
                waiting.discard(waiter)
                if not waiting:
                    self._async_waiters.pop(space_id, None)

    def generation(self, space_id: uuid.UUID) -> int:
        with self._lock:
            return self._generation.get(space_id, 0)


class ChangeFeed:
    def __init__(
        self,
        database: Database,
        signal: ChangeSignal,
        *,
        monotonic: Callable[[], float],
    ) -> None:
        self._database = database
        self._signal = signal
        self._monotonic = monotonic

    def since(
        self, actor: Actor, *, space_id: uuid.UUID, cursor: int, limit: int = 1000
    ) -> ChangesPage:
        return self._since(actor, space_id=space_id, cursor=cursor, limit=limit)[0]

    def _since(
        self, actor: Actor, *, space_id: uuid.UUID, cursor: int, limit: int
    ) -> tuple[ChangesPage, uuid.UUID]:
        """The page, and the id of the space whose journal it reads (for waiting on it)."""
        if cursor < 0 or not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"The cursor must be 0 or more and the page 1 to {MAX_PAGE}.")
        with self._database.transaction() as session:
            space = visible_space(session, actor, space_id)
            if cursor > space.journal_seq:
                raise Conflict(
                    f"The cursor {cursor} is ahead of this space ({space.journal_seq}): "
                    "start again from 0."
                )
            query = (
                select(JournalEntry, Version.number, Version.content_digest)
                .outerjoin(Version, Version.id == JournalEntry.version_id)
                .where(
                    JournalEntry.space_id == space.id,
                    JournalEntry.seq > max(cursor, space.feed_start),
                )
                .order_by(JournalEntry.seq)
                .limit(limit + 1)
            )
            if space.is_share:
                _refuse_if_root_moved(session, space, after=max(cursor, space.feed_start))
                query = query.where(_touches(space.root_path))
            rows = session.execute(query).all()
        more = len(rows) > limit
        changes = [_change(*row) for row in rows[:limit]]
        seen = changes[-1].seq if changes else cursor
        if space.is_share:
            # Only what lies inside the shared node, with paths relative to it; the cursor still
            # moves past what was left out, so a page is never asked for again.
            changes = [c for c in (_within(space, change) for change in changes) if c is not None]
            if not more:
                seen = max(seen, space.journal_seq, cursor)
        page = ChangesPage(changes=changes, cursor=seen, more=more)
        return page, space.id

    async def wait_async(
        self,
        actor: Actor,
        *,
        space_id: uuid.UUID,
        cursor: int,
        timeout: float,
        limit: int = 1000,
    ) -> ChangesPage:
        """Like `since`, but when nothing is new, wait up to `timeout` seconds for a change.

        Reads run in worker threads; the waiting itself holds none (long polls are many).
        """
        timeout = min(max(timeout, 0.0), MAX_WAIT_SECONDS)
        deadline = self._monotonic() + timeout
        journal = space_id  # a share's journal is its space's: wait on that one
        while True:
            seen = self._signal.generation(journal)
            page, journal_now = await anyio.to_thread.run_sync(
                functools.partial(self._since, actor, space_id=space_id, cursor=cursor, limit=limit)
            )
            if journal_now != journal:
                journal = journal_now
                continue  # the generation read above was another key's
            remaining = deadline - self._monotonic()
            if page.changes or remaining <= 0:
                return page
            cursor = page.cursor  # a share's feed moves past entries outside it
            await self._signal.wait_async(journal, seen, min(remaining, RECHECK_SECONDS))


def _refuse_if_root_moved(session: Session, scope: SpaceScope, *, after: int) -> None:
    """A share's feed names paths below its root as it is now: when the shared folder (or a
    folder above it) was moved or renamed since `after`, older entries carry the old names, so
    the client must list the share again (the sync client does so on this 409)."""
    moved = session.scalar(
        select(JournalEntry.seq)
        .where(
            JournalEntry.space_id == scope.id,
            JournalEntry.seq > after,
            JournalEntry.operation == "move",
            JournalEntry.node_id.in_(path_ids(session, scope.root_node_id)),
        )
        .limit(1)
    )
    if moved is not None:
        raise Conflict(
            "The shared folder was moved or renamed since this cursor: list it again "
            "(its snapshot) and continue from the snapshot's cursor."
        )


def _touches(root_path: str) -> ColumnElement[bool]:
    """Entries at or below `root_path`, before or after a move (refined by `_within`: LIKE
    ignores case on SQLite)."""
    below = root_path + "/"
    return or_(
        JournalEntry.path == root_path,
        JournalEntry.path.startswith(below, autoescape=True),
        JournalEntry.old_path.startswith(below, autoescape=True),
    )


def _within(scope: SpaceScope, change: Change) -> Change | None:
    """The change as seen from inside a share: a move across its edge becomes a create (moved
    in) or a delete (moved out); changes outside it, and to its root itself, are left out."""
    path, old_path = scope.scope_path(change.path), scope.scope_path(change.old_path)
    if path == "/" or (path is None and old_path in (None, "/")):
        return None
    if path is None:
        return replace(change, operation="delete", path=old_path or "/", old_path=None)
    if change.operation == "move" and old_path in (None, "/"):
        return replace(change, operation="create", path=path, old_path=None)
    return replace(change, path=path, old_path=old_path)


def _change(row: JournalEntry, version: int | None, digest: str | None) -> Change:
    return Change(
        seq=row.seq,
        operation=row.operation,
        kind=row.kind,
        node_id=row.node_id,
        path=row.path,
        old_path=row.old_path,
        version_id=row.version_id,
        size=row.size,
        occurred_at=row.occurred_at,
        version=version,
        content_digest=digest,
    )
