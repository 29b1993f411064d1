"""Single-file commits that arrive together for the same actor, space and client, made in one
transaction (group commit).

Every whole-file upload (a WebDAV or REST PUT, a portal upload) ends in a commit of its own: a
transaction that finds the space, takes its write lock and writes a handful of rows. A client
putting many small files at once (rclone copies 8 at a time) has several commits queued behind
each other for that lock; whichever gets its turn commits those waiting too, through the same
`commit_many` a sync client's batch goes through. Each entry still succeeds or fails on its own,
and is committed (or refused) before its caller returns; one alone is committed as before.

A small file's chunks may come unwritten (`Unwritten`): the batch then writes those of all its
commits into one pack before its transaction, so eight small files waiting together cost one
pack file and one fsync, not eight. Each is durable before its version is committed, as always.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sfs.blobs.chunk_store import PreparedChunk
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.errors import SfsError
from sfs.protocol.paths import BadName, name_key, split_path
from sfs.services.files.nodes import NodeView

# Enough to cover every upload a client has in flight; a batch stays one short transaction.
MAX_BATCH = 64

Outcome = NodeView | SfsError
Request = TypeVar("Request")
Chunk = TypeVar("Chunk")


@dataclass(frozen=True)
class Unwritten(Generic[Chunk]):
    """A commit's chunks, sealed but in no pack yet, and how to make chunks durable: `write`
    puts them in packs (fsync'd when it returns) and answers them as chunks to index. A batch
    calls one of its commits' `write` with the chunks of all: they are one actor's, so one
    organisation's, sealed under the same keys."""

    chunks: Sequence[PreparedChunk]
    write: Callable[[Sequence[PreparedChunk]], list[Chunk]]


@dataclass
class _Waiting(Generic[Request, Chunk]):
    request: Request
    path_key: str
    fresh_chunks: Sequence[Chunk]
    unwritten: Unwritten[Chunk] | None = None
    outcome: Outcome | None = None
    failure: BaseException | None = None  # the whole batch's transaction failed
    done: bool = False


@dataclass
class _Lane(Generic[Request, Chunk]):
    turn: threading.Lock = field(default_factory=threading.Lock)
    waiting: list[_Waiting[Request, Chunk]] = field(default_factory=list)
    users: int = 0


Key = tuple[Actor, uuid.UUID, ClientInfo]


class CommitBatcher(Generic[Request, Chunk]):
    """Thread-safe: request handlers commit from a pool of threads."""

    def __init__(
        self,
        # (actor, space id, client, requests, their fresh chunks) -> one outcome per request
        commit_many: Callable[
            [Actor, uuid.UUID, ClientInfo, list[Request], list[Chunk]], list[Outcome]
        ],
        path_of: Callable[[Request], str],
    ) -> None:
        self._commit_many = commit_many
        self._path_of = path_of
        self._lanes: dict[Key, _Lane[Request, Chunk]] = {}
        self._mutex = threading.Lock()

    def commit(
        self,
        actor: Actor,
        space_id: uuid.UUID,
        client: ClientInfo,
        request: Request,
        fresh_chunks: Sequence[Chunk],
        unwritten: Unwritten[Chunk] | None = None,
    ) -> Outcome:
        key = (actor, space_id, client)
        mine: _Waiting[Request, Chunk] = _Waiting(
            request, _path_key(self._path_of(request)), fresh_chunks, unwritten
        )
        with self._mutex:
            lane = self._lanes.setdefault(key, _Lane())
            lane.users += 1
            lane.waiting.append(mine)
        try:
            with lane.turn:
                if not mine.done:  # else committed in the batch of whoever had the turn
                    self._run(actor, space_id, client, self._take(lane, mine))
        finally:
            with self._mutex:
                lane.users -= 1
                if not lane.users:
                    del self._lanes[key]
        if mine.failure is not None:
            raise mine.failure
        assert mine.outcome is not None
        return mine.outcome

    def waiting(self) -> int:
        """How many commits wait for a turn, over all callers (what a batch can take)."""
        with self._mutex:
            return sum(len(lane.waiting) for lane in self._lanes.values())

    def _take(
        self, lane: _Lane[Request, Chunk], mine: _Waiting[Request, Chunk]
    ) -> list[_Waiting[Request, Chunk]]:
        """`mine` and those waiting behind it, each path once: a second write to the same
        path waits for the next batch, so it meets the first as a committed version, exactly
        as it would one commit after the other."""
        with self._mutex:
            batch, paths = [mine], {mine.path_key}
            for waiting in lane.waiting:
                if len(batch) >= MAX_BATCH:
                    break
                if waiting is not mine and waiting.path_key not in paths:
                    batch.append(waiting)
                    paths.add(waiting.path_key)
            taken = {id(waiting) for waiting in batch}
            lane.waiting = [w for w in lane.waiting if id(w) not in taken]
        return batch

    def _run(
        self,
        actor: Actor,
        space_id: uuid.UUID,
        client: ClientInfo,
        batch: list[_Waiting[Request, Chunk]],
    ) -> None:
        try:
            fresh = [chunk for waiting in batch for chunk in waiting.fresh_chunks]
            unwritten = [waiting.unwritten for waiting in batch if waiting.unwritten is not None]
            if unwritten:  # durable before the transaction that commits them
                fresh += unwritten[0].write([chunk for u in unwritten for chunk in u.chunks])
            outcomes = self._commit_many(
                actor, space_id, client, [waiting.request for waiting in batch], fresh
            )
            for waiting, outcome in zip(batch, outcomes, strict=True):
                waiting.outcome = outcome
        except BaseException as failure:
            for waiting in batch:
                waiting.failure = failure
            raise
        finally:
            for waiting in batch:
                waiting.done = True


def _path_key(path: str) -> str:
    """Paths naming the same file name it alike (case-folded, as siblings are unique)."""
    try:
        return name_key("/".join(split_path(path)))
    except BadName:
        return path  # refused by the commit itself, on its own
