"""The change feed of a space: journal entries after a cursor, paged, and a wait for the next one.

Correctness never depends on notifications: a waiter re-reads the journal at least every
`RECHECK_SECONDS`, so a missed signal (another instance, a restart) only costs latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import anyio.to_thread
from sqlalchemy import select

from sfs.domain.actor import Actor
from sfs.domain.errors import Conflict, InvalidInput
from sfs.i18n import N_
from sfs.metadata.db import Database
from sfs.metadata.file_models import JournalEntry, Version
from sfs.services.files.spaces import visible_space

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
        if cursor < 0 or not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(
                N_(
                    "The cursor must be 0 or more and the page 1 to %(MAX_PAGE)s.",
                    MAX_PAGE=MAX_PAGE,
                )
            )
        with self._database.transaction() as session:
            space = visible_space(session, actor, space_id)
            if cursor > space.journal_seq:
                raise Conflict(
                    N_(
                        (
                            "The cursor %(cursor)s is ahead of this space (%(journal_seq)s): start "
                            "again from 0."
                        ),
                        cursor=cursor,
                        journal_seq=space.journal_seq,
                    )
                )
            rows = session.execute(
                select(JournalEntry, Version.number, Version.content_digest)
                .outerjoin(Version, Version.id == JournalEntry.version_id)
                .where(JournalEntry.space_id == space_id, JournalEntry.seq > cursor)
                .order_by(JournalEntry.seq)
                .limit(limit + 1)
            ).all()
        changes = [_change(*row) for row in rows[:limit]]
        return ChangesPage(
            changes=changes,
            cursor=changes[-1].seq if changes else cursor,
            more=len(rows) > limit,
        )

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
        while True:
            seen = self._signal.generation(space_id)
            page = await anyio.to_thread.run_sync(
                lambda: self.since(actor, space_id=space_id, cursor=cursor, limit=limit)
            )
            remaining = deadline - self._monotonic()
            if page.changes or remaining <= 0:
                return page
            await self._signal.wait_async(space_id, seen, min(remaining, RECHECK_SECONDS))


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
