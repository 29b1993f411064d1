"""PostgreSQL LISTEN/NOTIFY: the database every instance already shares carries the message.

NOTIFY is sent inside the committing transaction, so a message leaves exactly when the change
becomes visible (never for a rolled-back one, never before readers can see it), with no extra
round trip. Each instance listens on one connection of its own, driven by the event loop
(psycopg's async connection): no thread, however many long polls wait.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session

from sfs.broadcast.messages import CHANNEL, decode, encode, new_instance_id
from sfs.ports import SpaceIds

RECONNECT_SECONDS = (0.5, 1.0, 2.0, 5.0)  # then every 5 s while the database is away

_log = logging.getLogger(__name__)


def conninfo(database_url: str) -> str:
    """A libpq URI from the settings' URL (which may name SQLAlchemy's driver)."""
    for prefix in ("postgresql+psycopg://", "postgresql://"):
        if database_url.startswith(prefix):
            return "postgresql://" + database_url.removeprefix(prefix)
    raise ValueError("not a PostgreSQL URL")


class PostgresBroadcast:
    def __init__(self, database_url: str, *, instance: str | None = None) -> None:
        self._conninfo = conninfo(database_url)
        self.instance = instance or new_instance_id()
        self.connected = asyncio.Event()  # set while listening (tests wait for it)

    def publish_in(self, session: Session, space_ids: SpaceIds) -> None:
        for payload in encode(self.instance, space_ids):
            session.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": CHANNEL, "payload": payload},
            )

    def publish_after(self, space_ids: SpaceIds) -> None:
        pass  # sent with the transaction already

    async def listen(self, deliver: Callable[[SpaceIds | None], None]) -> None:
        failures = 0
        while True:
            try:
                connection = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
            except psycopg.Error as exc:
                failures = await _pause_after(failures, exc)
                continue
            try:
                async with connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    self.connected.set()
                    if failures:
                        _log.info("Listening for changes from other instances again")
                        deliver(None)  # what was sent while we were away is unknown
                    failures = 0
                    async for notification in connection.notifies():
                        changed = decode(notification.payload, self.instance)
                        if changed:
                            deliver(changed)
            except psycopg.Error as exc:
                self.connected.clear()
                failures = await _pause_after(failures, exc)


async def _pause_after(failures: int, exc: Exception) -> int:
    if failures == 0:
        _log.warning(
            "Lost the change broadcast from other instances (%s); long polls fall back "
            "to re-reading the journal until it is back",
            str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
        )
    await asyncio.sleep(RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS) - 1)])
    return failures + 1
