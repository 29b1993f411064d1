"""The seams through which services reach the outside world: time, randomness, mail, other
instances.

Services receive these; tests hand in fakes so expiry and rate limits are checked without sleeping.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class Randomness(Protocol):
    def token_bytes(self, n: int) -> bytes: ...

    def token_urlsafe(self, n: int) -> str: ...

    def choice(self, alphabet: str) -> str: ...


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SystemRandomness:
    """Cryptographically strong randomness from the operating system."""

    def token_bytes(self, n: int) -> bytes:
        return secrets.token_bytes(n)

    def token_urlsafe(self, n: int) -> str:
        return secrets.token_urlsafe(n)

    def choice(self, alphabet: str) -> str:
        return secrets.choice(alphabet)


class ConcurrencyGauge(Protocol):
    """How many of something are in progress per key, with a ceiling.

    In-process for one `sfs serve` (services/files/upload_slots.py); in Redis when several
    instances share the load (auth/concurrency.py), so that the ceiling holds across them.
    """

    def try_acquire(self, key: str, limit: int) -> str | None:
        """Count one more under `key`, unless `limit` are in progress already: a ticket to hand
        back to `release`, or None when at the ceiling."""
        ...

    def release(self, key: str, ticket: str) -> None: ...


SpaceIds = AbstractSet[uuid.UUID]


class ChangeBroadcast(Protocol):
    """Tells every other instance which spaces' journals grew, and hears what they tell.

    Only a hint that wakes long polls sooner: a lost message costs latency, never correctness
    (waiters re-read the journal every `SFS_CHANGE_RECHECK_SECONDS` anyway).
    """

    def publish_in(self, session: Session, space_ids: SpaceIds) -> None:
        """Called just before a unit of work commits: a message sent with the transaction."""
        ...

    def publish_after(self, space_ids: SpaceIds) -> None:
        """Called once the unit of work has committed: a message sent outside of it."""
        ...

    async def listen(self, deliver: Callable[[SpaceIds | None], None]) -> None:
        """Run until cancelled, calling `deliver` with the spaces other instances changed, or
        with None (wake every waiter) when messages may have been missed (a reconnection)."""
        ...
