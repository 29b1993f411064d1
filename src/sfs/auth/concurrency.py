"""Upload slots counted in Redis, so that SFS_UPLOADS_PER_ACCOUNT and _PER_ADDRESS hold across
every instance (used when SFS_RATE_LIMIT_STORAGE is Redis, beside the shared throttles).

Each slot is a member of a sorted set scored by when it lapses: an instance that dies holding
slots does not hold them for ever, they stop counting after `SLOT_SECONDS`. Taking a slot is one
Lua script, so two instances never both take the last one.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable

import redis

UNCOUNTED = "uncounted"
SLOT_SECONDS = 3600  # an upload still running after this no longer counts against the ceiling

_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""

_log = logging.getLogger(__name__)


class RedisGauge:
    def __init__(
        self,
        url: str,
        *,
        key_prefix: str = "sfs",
        slot_seconds: int = SLOT_SECONDS,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._acquire = self._redis.register_script(_ACQUIRE)
        self._prefix = key_prefix
        self._slot_seconds = slot_seconds
        self._now = now

    def try_acquire(self, key: str, limit: int) -> str | None:
        ticket = secrets.token_hex(8)
        now = self._now()
        try:
            taken = self._acquire(
                keys=[self._key(key)],
                args=[now, limit, now + self._slot_seconds, ticket, self._slot_seconds + 60],
            )
        except redis.RedisError as exc:
            # A fairness ceiling, not a security control: while Redis is away uploads go on
            # uncounted rather than all failing.
            _log.warning("Upload slots not counted: Redis does not answer (%s)", exc)
            return UNCOUNTED
        return ticket if int(taken) == 1 else None

    def release(self, key: str, ticket: str) -> None:
        if ticket == UNCOUNTED:
            return
        try:
            self._redis.zrem(self._key(key), ticket)
        except redis.RedisError as exc:  # the slot lapses by itself
            _log.warning("Could not free an upload slot in Redis: %s", exc)

    def _key(self, key: str) -> str:
        return f"{self._prefix}:uploads:{key}"
