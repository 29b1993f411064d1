"""Answers worked out moments ago, remembered for a few seconds and forgotten at once when this
process commits a change to the tables they were worked out from.

The bound on staleness: a change committed in *this* process forgets every entry; one committed
by *another* instance takes effect here within `ttl` at most. The time is the injected clock's.
A `generation` read before working an answer out and handed to `remember` keeps an answer out
when a change was committed while it was being worked out.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Sequence
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from sfs.metadata.db import Database
from sfs.ports import Clock

_MAX_ENTRIES = 10_000

Key = TypeVar("Key", bound=Hashable)
Answer = TypeVar("Answer")


class RecentlyChecked(Generic[Key, Answer]):
    """Thread-safe: request handlers run on a pool of threads."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        *,
        ttl: timedelta,
        watched: Sequence[str],
        marker: str,
        inserts: bool = False,
    ) -> None:
        self._clock = clock
        self._ttl = ttl
        self._entries: dict[Key, tuple[datetime, Answer]] = {}
        self._generation = 0
        self._lock = threading.Lock()
        database.note_changes_to(tuple(watched), marker, inserts=inserts)
        database.on_commit(lambda info: self.forget_all() if info.get(marker) else None)

    @property
    def generation(self) -> int:
        return self._generation

    def get(self, key: Key) -> Answer | None:
        if not self._ttl:
            return None
        found = self._entries.get(key)
        if found is None:
            return None
        worked_out_at, answer = found
        if not worked_out_at <= self._clock.now() < worked_out_at + self._ttl:
            return None
        return answer

    def remember(self, key: Key, answer: Answer, generation: int) -> None:
        if not self._ttl:
            return
        now = self._clock.now()
        with self._lock:
            if generation != self._generation:
                return
            if len(self._entries) >= _MAX_ENTRIES:
                self._entries.clear()  # a crude bound: the next requests work it out again
            self._entries[key] = (now, answer)

    def forget_all(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()
