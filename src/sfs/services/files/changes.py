"""The change feed of a space: journal entries after a cursor, paged, and a wait for the next one.

A commit wakes the waiters of its spaces at once: in this process through `ChangeSignal`, on
other instances through the `ChangeBroadcast` port (sfs.broadcast), whose listener calls
`ChangeSignal.deliver`. Correctness never depends on either: a waiter re-reads the journal at
least every `recheck_seconds` (SFS_CHANGE_RECHECK_SECONDS), so a lost message only costs latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
import uuid
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import datetime

import anyio.to_thread
from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from sfs.domain.actor import Actor
from sfs.domain.errors import Conflict, InvalidInput
from sfs.domain.space_scope import SpaceScope
from sfs.i18n import N_
from sfs.metadata.db import Database
from sfs.metadata.file_models import JournalEntry, Space, Version
from sfs.services.files.spaces import visible_space
from sfs.services.sharing.share_grants import path_ids

MAX_PAGE = 5000
MAX_WAIT_SECONDS = 60.0
RECHECK_SECONDS = 30.0
# How often a waiting long poll asks whether its credential still holds (revoked, wiped): one
# primary-key lookup per waiter, so 1,000 idle clients cost 100 small queries a second; a
# revoked idle client hears of it within this many seconds.
CREDENTIAL_RECHECK_SECONDS = 10.0
# How far a restore moves every journal on: more changes than any space makes between a backup
# and the restore, so every cursor handed out in between lies below the new floor.
RESTORE_GAP = 2**32


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
        self.draining = False

    def notify(self, space_ids: AbstractSet[uuid.UUID]) -> None:
        with self._lock:
            for space_id in space_ids:
                self._generation[space_id] = self._generation.get(space_id, 0) + 1
                for loop, event in self._async_waiters.get(space_id, set()):
                    loop.call_soon_threadsafe(event.set)

    def deliver(self, space_ids: AbstractSet[uuid.UUID] | None) -> None:
        """From the broadcast listener: these spaces changed elsewhere (None: perhaps any)."""
        if space_ids is None:
            self._wake_everyone()
        else:
            self.notify(space_ids)

    def drain(self) -> None:
        """The process is stopping: every waiter answers now, and nobody waits any more."""
        self.draining = True
        self._wake_everyone()

    @property
    def waiting(self) -> int:
        with self._lock:
            return sum(len(waiters) for waiters in self._async_waiters.values())

    def _wake_everyone(self) -> None:
        with self._lock:
            for space_id, waiters in self._async_waiters.items():
                self._generation[space_id] = self._generation.get(space_id, 0) + 1
                for loop, event in waiters:
                    loop.call_soon_threadsafe(event.set)

    async def wait_async(self, space_id: uuid.UUID, seen: int, timeout: float) -> None:
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            if self.draining or self._generation.get(space_id, 0) != seen:
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
        recheck_seconds: float = RECHECK_SECONDS,
    ) -> None:
        self._database = database
        self._signal = signal
        self._monotonic = monotonic
        self._recheck_seconds = recheck_seconds

    def since(
        self, actor: Actor, *, space_id: uuid.UUID, cursor: int, limit: int = 1000
    ) -> ChangesPage:
        return self._since(actor, space_id=space_id, cursor=cursor, limit=limit)[0]

    def _since(
        self, actor: Actor, *, space_id: uuid.UUID, cursor: int, limit: int
    ) -> tuple[ChangesPage, uuid.UUID]:
        """The page, and the id of the space whose journal it reads (for waiting on it)."""
        if cursor < 0 or not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(
                N_(
                    "The cursor must be 0 or more and the page 1 to %(MAX_PAGE)s.",
                    MAX_PAGE=MAX_PAGE,
                )
            )
        with self._database.transaction() as session:
            space = visible_space(session, actor, space_id)
            if cursor > space.journal_seq or cursor < space.journal_floor:
                raise Conflict(
                    N_(
                        "The cursor %(cursor)s is not one this space's journal answers (it holds "
                        "%(floor)s to %(seq)s: the server was restored from a backup?): list the "
                        "space afresh and go on from that cursor.",
                        cursor=cursor,
                        floor=space.journal_floor,
                        seq=space.journal_seq,
                    )
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
        still_allowed: Callable[[], object] | None = None,
    ) -> ChangesPage:
        """Like `since`, but when nothing is new, wait up to `timeout` seconds for a change.

        Reads run in worker threads; the waiting itself holds none (long polls are many).
        While the process drains (SIGTERM) it answers at once, with no changes when there are
        none: the client's "nothing new, ask again", which it then asks of another instance.
        `still_allowed` is asked again every CREDENTIAL_RECHECK_SECONDS and raises when the
        caller's credential was revoked or wiped meanwhile: an idle client hears of it within
        seconds, not at the end of its long poll.
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
            if page.changes or remaining <= 0 or self._signal.draining:
                return page
            cursor = page.cursor  # a share's feed moves past entries outside it
            recheck_at = self._monotonic() + min(remaining, self._recheck_seconds)
            while True:
                # The credential is asked after more often than the journal is re-read: a
                # primary-key lookup, while the journal waits for a wake-up or the safety net.
                wait = recheck_at - self._monotonic()
                if still_allowed is not None:
                    wait = min(wait, CREDENTIAL_RECHECK_SECONDS)
                await self._signal.wait_async(journal, seen, max(wait, 0.0))
                if still_allowed is not None:
                    await anyio.to_thread.run_sync(still_allowed)
                if (
                    self._signal.generation(journal) != seen
                    or self._signal.draining
                    or self._monotonic() >= recheck_at
                ):
                    break


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


def restart_journals(database: Database) -> int:
    """After the database went back in time (a restore), make every sync cursor handed out
    since the backup unanswerable: each journal moves on by `RESTORE_GAP` and refuses cursors
    below it, so clients list their spaces afresh instead of trusting a history the server lost
    (or, worse, one it will write again under the same numbers). Returns the spaces moved on."""
    with database.transaction() as session:
        moved = session.execute(
            update(Space).values(
                journal_seq=Space.journal_seq + RESTORE_GAP,
                journal_floor=Space.journal_seq + RESTORE_GAP,
            )
        )
        return int(moved.rowcount)  # type: ignore[attr-defined]
