"""Credentials checked moments ago, remembered for a few seconds.

A sync client or a WebDAV client sends its device token or app password with every request, and
checking one costs several queries (the token, its user, their organisation; for an app
password also the account and the address it was last used from). A burst of requests from one
device, a first sync of thousands of files, would spend a good part of the server's time on it.
So a credential that passed every rule is remembered, by its digest, for `ttl` (5 s by default,
`SFS_CREDENTIAL_CACHE_SECONDS`; 0 turns this off).

The bound on a revocation: any committed change to a user, an organisation or a device token in
*this* process (revoke, wipe, disable, password or second-factor reset, deletion) forgets every
remembered credential at once; a change committed by *another* instance takes effect here within
`ttl` at most. Only successes are remembered: a refusal is checked again on every request. The
time is the injected clock's, so moving it past `ttl` expires the entries as real time would.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from sfs.metadata.db import Database
from sfs.ports import Clock

DEFAULT_TTL = timedelta(seconds=5)
# Rows whose change can end a credential; deleting an organisation cascades to the other two.
_WATCHED = ("users", "organizations", "device_tokens")
_CHANGED = "credentials_changed"
_MAX_ENTRIES = 10_000

Verified = TypeVar("Verified")


class VerifiedCredentials(Generic[Verified]):
    """What a credential was verified to stand for, by a key derived from it (never the secret
    itself), for at most `ttl`. Thread-safe: request handlers run on a pool of threads."""

    def __init__(self, database: Database, clock: Clock, *, ttl: timedelta = DEFAULT_TTL) -> None:
        self._clock = clock
        self._ttl = ttl
        self._entries: dict[Hashable, tuple[datetime, Verified]] = {}
        self._generation = 0
        self._lock = threading.Lock()
        database.note_changes_to(_WATCHED, _CHANGED)
        database.on_commit(lambda info: self.forget_all() if info.get(_CHANGED) else None)

    @property
    def generation(self) -> int:
        """Read before checking a credential, handed to `remember`: a change committed while
        the check ran then keeps its (possibly stale) result out."""
        return self._generation

    def get(self, key: Hashable) -> Verified | None:
        if not self._ttl:
            return None
        found = self._entries.get(key)
        if found is None:
            return None
        checked_at, verified = found
        if not checked_at <= self._clock.now() < checked_at + self._ttl:
            return None
        return verified

    def remember(self, key: Hashable, verified: Verified, generation: int) -> None:
        if not self._ttl:
            return
        now = self._clock.now()
        with self._lock:
            if generation != self._generation:
                return
            if len(self._entries) >= _MAX_ENTRIES:
                self._entries.clear()  # a crude bound: the next requests check again
            self._entries[key] = (now, verified)

    def forget_all(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()
