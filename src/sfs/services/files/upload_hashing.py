"""The SHA1 of a chunked upload, kept running while its parts arrive in order at this process.

A part that continues where the last one ended carries the running hash on, so joining the
parts needs no second read of the file. The state lives in this process only (a hash state
cannot be stored): an upload whose parts came out of order, or partly to another instance, is
hashed by reading its parts back at join. The state is trusted only if the chunks it hashed,
in order, are exactly the joined manifest: chunk ids name their content, so a part sent again
with other bytes (here or elsewhere) makes the state unusable, never wrong.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Key = tuple[Any, ...]  # whose upload, its transfer id and when it was opened
MAX_RUNNING = 256  # uploads in progress at once in one process; the oldest is forgotten


@dataclass(frozen=True)
class _Running:
    next_number: int
    sha1: Any  # a hashlib SHA1 object, never updated in place once stored
    chunk_ids: tuple[str, ...]


class RunningHashes:
    def __init__(self, limit: int = MAX_RUNNING) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._running: OrderedDict[Key, _Running] = OrderedDict()

    def start_state(self, key: Key, number: int) -> tuple[Any, bool] | None:
        """A SHA1 to carry on over part `number`, and whether it starts afresh: a copy of the
        running one when this part continues it, a new one for a first part (0 or 1), else
        None (out of order)."""
        with self._lock:
            running = self._running.get(key)
            if running is not None and running.next_number == number:
                return running.sha1.copy(), False
        if number in (0, 1):
            return hashlib.sha1(usedforsecurity=False), True
        return None

    def continued(
        self, key: Key, number: int, sha1: Any, chunk_ids: Sequence[str], *, fresh: bool
    ) -> None:
        """Part `number` was recorded, hashed on from `start_state` into `sha1`."""
        with self._lock:
            before = None if fresh else self._running.get(key)
            if not fresh and (before is None or before.next_number != number):
                return  # another part moved the state meanwhile: leave it
            prefix = before.chunk_ids if before is not None else ()
            self._running[key] = _Running(number + 1, sha1, (*prefix, *chunk_ids))
            self._running.move_to_end(key)
            while len(self._running) > self._limit:
                self._running.popitem(last=False)

    def sha1_of(self, key: Key, chunk_ids: Sequence[str]) -> str | None:
        """The SHA1 of exactly these chunks in order, if the running state hashed them."""
        with self._lock:
            running = self._running.get(key)
        if running is None or running.chunk_ids != tuple(chunk_ids):
            return None
        return str(running.sha1.hexdigest())

    def forget(self, key: Key) -> None:
        with self._lock:
            self._running.pop(key, None)
