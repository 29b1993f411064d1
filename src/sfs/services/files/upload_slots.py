"""How many uploads one account, and one client address, may have in progress at once.

Content uploads, chunk batches and the portal's uploads each hold a slot while their body
arrives; over either ceiling the door answers 429 with Retry-After and the body is not read.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.errors import TooManyUploads
from sfs.ports import ConcurrencyGauge

# A slot frees when an upload ends, which has no fixed time: this is a hint to try again.
RETRY_AFTER_SECONDS = 10


class InProcessGauge:
    """A `ConcurrencyGauge` for a single server process (several instances: auth/concurrency.py,
    in Redis, or each instance counts its own and the ceiling is per instance)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def try_acquire(self, key: str, limit: int) -> str | None:
        with self._lock:
            if self._counts[key] >= limit:
                return None
            self._counts[key] += 1
            return key

    def release(self, key: str, ticket: str) -> None:
        with self._lock:
            self._counts[key] -= 1
            if self._counts[key] <= 0:
                del self._counts[key]


class UploadSlots:
    def __init__(self, gauge: ConcurrencyGauge, *, per_account: int, per_address: int) -> None:
        self._gauge = gauge
        self._per_account = per_account
        self._per_address = per_address

    @contextmanager
    def hold(self, actor: Actor, client: ClientInfo) -> Iterator[None]:
        """A slot for the account and one for the address for as long as the block runs."""
        held: list[tuple[str, str]] = []
        wanted = [(f"account:{actor.user_id}", self._per_account, "this account")]
        if client.address:
            wanted.append((f"address:{client.address}", self._per_address, "this address"))
        try:
            for key, limit, whose in wanted:
                ticket = self._gauge.try_acquire(key, limit)
                if ticket is None:
                    raise TooManyUploads(
                        limit=limit, whose=whose, retry_after_seconds=RETRY_AFTER_SECONDS
                    )
                held.append((key, ticket))
            yield
        finally:
            for key, ticket in held:
                self._gauge.release(key, ticket)
