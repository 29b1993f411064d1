"""Redis pub/sub, for deployments that run Redis anyway (shared rate limits) or whose database
is not PostgreSQL.

PUBLISH goes out after the commit (Redis is not in the transaction): a crash between the two
loses the message, which the waiters' periodic re-read covers. Publishing uses a small blocking
client (commits run in worker threads); listening uses redis.asyncio on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import redis
import redis.asyncio
from sqlalchemy.orm import Session

from sfs.broadcast.messages import CHANNEL, decode, encode, new_instance_id
from sfs.broadcast.postgres import RECONNECT_SECONDS
from sfs.ports import SpaceIds

QUIET_AFTER_FAILURE_SECONDS = 5.0

_log = logging.getLogger(__name__)


class RedisBroadcast:
    def __init__(self, url: str, *, instance: str | None = None, channel: str = CHANNEL) -> None:
        self._url = url
        self._channel = channel
        self.instance = instance or new_instance_id()
        self._publisher = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.connected = asyncio.Event()
        self._quiet_until = 0.0

    def publish_in(self, session: Session, space_ids: SpaceIds) -> None:
        pass  # Redis is not part of the transaction: see publish_after

    def publish_after(self, space_ids: SpaceIds) -> None:
        # While Redis is away, commits do not each wait for its timeout: they skip the message
        # for a few seconds (waiters elsewhere re-read the journal anyway).
        if time.monotonic() < self._quiet_until:
            return
        try:
            for payload in encode(self.instance, space_ids):
                self._publisher.publish(self._channel, payload)
        except redis.RedisError as exc:  # the commit stands; waiters elsewhere re-read later
            self._quiet_until = time.monotonic() + QUIET_AFTER_FAILURE_SECONDS
            _log.warning("Could not broadcast a change through Redis: %s", exc)

    async def listen(self, deliver: Callable[[SpaceIds | None], None]) -> None:
        failures = 0
        while True:
            client = redis.asyncio.Redis.from_url(self._url, socket_connect_timeout=2)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                self.connected.set()
                if failures:
                    _log.info("Listening for changes from other instances again")
                    deliver(None)
                failures = 0
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    data = message["data"]
                    payload = data.decode() if isinstance(data, bytes) else str(data)
                    changed = decode(payload, self.instance)
                    if changed:
                        deliver(changed)
            except (redis.RedisError, OSError) as exc:
                self.connected.clear()
                if failures == 0:
                    _log.warning("Lost the change broadcast through Redis (%s)", exc)
                await asyncio.sleep(RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS) - 1)])
                failures += 1
            finally:
                await pubsub.aclose()  # type: ignore[no-untyped-call]
                await client.aclose()
