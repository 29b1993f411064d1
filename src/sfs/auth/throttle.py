"""Rate limiters behind one small interface (test / hit / resets_in / clear), on `limits`.

The storage is a `limits` URI: memory:// for one instance, redis://… to share counts across many.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import parse
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter


class RateLimiter:
    def __init__(self, storage: Storage, name: str, rate: str) -> None:
        self.name = name
        self._limit = parse(rate)
        self._strategy = MovingWindowRateLimiter(storage)
        # Counts kept in this process (memory://): testing them costs no network round trip.
        self.local = isinstance(storage, MemoryStorage)

    def test(self, key: str) -> bool:
        """True while another hit would still be allowed."""
        return bool(self._strategy.test(self._limit, self.name, key))

    def hit(self, key: str) -> bool:
        """Count one event; False when that exhausted the allowance."""
        return bool(self._strategy.hit(self._limit, self.name, key))

    def resets_in(self, key: str) -> int:
        """Seconds until another hit is allowed again."""
        stats = self._strategy.get_window_stats(self._limit, self.name, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    def clear(self, key: str) -> None:
        self._strategy.clear(self._limit, self.name, key)


@dataclass(frozen=True)
class RateLimiters:
    """Every limiter the services use, by purpose."""

    login_account: RateLimiter
    login_address: RateLimiter
    second_factor_user: RateLimiter
    password_reset_account: RateLimiter
    password_reset_address: RateLimiter
    # Share links: wrong passwords per link and per address; unknown tokens per address.
    link_password: RateLimiter
    link_address: RateLimiter
    link_guess_address: RateLimiter
    # Login Flow v2 starts per address: each is a row in the database until it expires.
    login_flow_address: RateLimiter
    # Remote-wipe checks and confirmations per address (Nextcloud allows 10 per 5 minutes; a
    # wiped device asks at each start and on each refusal).
    wipe_address: RateLimiter

    @classmethod
    def from_storage_uri(cls, uri: str, *, key_prefix: str = "sfs") -> RateLimiters:
        options = {"key_prefix": key_prefix} if uri.startswith("redis") else {}
        storage = storage_from_string(uri, **options)
        assert isinstance(storage, Storage)  # a synchronous storage for a synchronous service
        return cls(
            login_account=RateLimiter(storage, "login.account", "10 per 15 minutes"),
            login_address=RateLimiter(storage, "login.address", "50 per 15 minutes"),
            # Wrong second-factor codes and backup keys, per user.
            second_factor_user=RateLimiter(storage, "2fa.user", "10 per 15 minutes"),
            password_reset_account=RateLimiter(storage, "reset.account", "3 per hour"),
            password_reset_address=RateLimiter(storage, "reset.address", "20 per hour"),
            link_password=RateLimiter(storage, "link.password", "10 per 15 minutes"),
            link_address=RateLimiter(storage, "link.address", "50 per 15 minutes"),
            link_guess_address=RateLimiter(storage, "link.guess", "30 per 15 minutes"),
            login_flow_address=RateLimiter(storage, "loginflow.address", "30 per 15 minutes"),
            wipe_address=RateLimiter(storage, "wipe.address", "30 per 5 minutes"),
        )
