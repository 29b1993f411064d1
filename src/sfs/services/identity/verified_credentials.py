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

from collections.abc import Hashable
from datetime import timedelta
from typing import TypeVar

from sfs.metadata.db import Database
from sfs.ports import Clock
from sfs.services.recently_checked import RecentlyChecked

DEFAULT_TTL = timedelta(seconds=5)
# Rows whose change can end a credential; deleting an organisation cascades to the other two.
_WATCHED = ("users", "organizations", "device_tokens")
_CHANGED = "credentials_changed"

Verified = TypeVar("Verified")


class VerifiedCredentials(RecentlyChecked[Hashable, Verified]):
    """What a credential was verified to stand for, by a key derived from it (never the secret
    itself), for at most `ttl`."""

    def __init__(self, database: Database, clock: Clock, *, ttl: timedelta = DEFAULT_TTL) -> None:
        super().__init__(database, clock, ttl=ttl, watched=_WATCHED, marker=_CHANGED)
