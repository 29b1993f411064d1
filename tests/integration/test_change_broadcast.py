"""A commit on one instance wakes the long polls waiting on another, through PostgreSQL
LISTEN/NOTIFY or Redis pub/sub, long before the periodic re-read would have found it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio.to_thread
import pytest

from sfs.app import Services, build_services
from sfs.auth.throttle import RateLimiters
from sfs.broadcast.postgres import PostgresBroadcast
from sfs.broadcast.redis import RedisBroadcast
from sfs.config import load_settings
from sfs.crypto.passwords import PasswordHasher
from sfs.mail.outbox import OutboxMailer
from sfs.metadata.db import Database
from sfs.ports import ChangeBroadcast
from sfs.services.files.changes import ChangesPage
from tests.integration.test_throttle_storage import redis_uri  # noqa: F401 (a fixture)
from tests.support import FAST_HASH, FakeClock
from tests.world import CLIENT, actor, make_tenant

# Far beyond the test's own patience: only a broadcast can wake the waiter in time.
NEVER_RECHECK = 3600.0
POLL_SECONDS = 50.0
PATIENCE_SECONDS = 20.0

Instances = Callable[[Callable[[], ChangeBroadcast]], tuple[Services, Services]]


@pytest.fixture
def instances(tmp_path: Path, database_url: str) -> Iterator[Instances]:
    """Two app instances over one database, as two `sfs serve` behind a load balancer."""
    built: list[Services] = []

    def make(broadcast: Callable[[], ChangeBroadcast]) -> tuple[Services, Services]:
        for name in ("one", "two"):
            settings = load_settings(
                data_dir=tmp_path / name,
                database_url=database_url,
                change_recheck_seconds=NEVER_RECHECK,
            )
            built.append(
                build_services(
                    settings,
                    database=Database.from_url(database_url),
                    clock=FakeClock(),
                    mailer=OutboxMailer(settings.outbox_dir),
                    hasher=PasswordHasher(FAST_HASH),
                    limiters=RateLimiters.from_storage_uri("memory://"),
                    master_key=bytes(range(32)),
                    broadcast=broadcast(),
                )
            )
        return built[0], built[1]

    yield make
    for services in built:
        services.database.dispose()


async def _commit_on_one_seen_on_two(one: Services, two: Services) -> ChangesPage:
    tenant = make_tenant(one, "Acme")
    writer = actor(one, tenant.user)
    reader = actor(two, tenant.user)
    space_id = one.spaces.resolve_reference(writer, "me")
    listener = asyncio.create_task(two.broadcast.listen(two.change_signal.deliver))
    try:
        await asyncio.wait_for(two.broadcast.connected.wait(), PATIENCE_SECONDS)  # type: ignore[attr-defined]
        poll = asyncio.create_task(
            two.changes.wait_async(reader, space_id=space_id, cursor=0, timeout=POLL_SECONDS)
        )
        for _ in range(2000):  # until the poll waits (it read the empty journal first)
            if two.change_signal.waiting:
                break
            await asyncio.sleep(0.01)
        assert two.change_signal.waiting == 1
        await anyio.to_thread.run_sync(
            lambda: one.file_tree.create_folder(
                writer, space_id=space_id, path="/from-one", client=CLIENT
            )
        )
        return await asyncio.wait_for(poll, PATIENCE_SECONDS)
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_notify_wakes_a_long_poll_on_another_instance(
    instances: Instances, database_url: str
) -> None:
    one, two = instances(lambda: PostgresBroadcast(database_url))
    page = asyncio.run(_commit_on_one_seen_on_two(one, two))
    assert [change.path for change in page.changes] == ["/from-one"]


def test_redis_pubsub_wakes_a_long_poll_on_another_instance(
    instances: Instances,
    redis_uri: str,  # noqa: F811
) -> None:
    channel = f"sfs-test-{uuid.uuid4().hex}"
    one, two = instances(lambda: RedisBroadcast(redis_uri, channel=channel))
    page = asyncio.run(_commit_on_one_seen_on_two(one, two))
    assert [change.path for change in page.changes] == ["/from-one"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_rolled_back_transaction_notifies_nobody(database_url: str) -> None:
    async def scenario() -> list[str]:
        import psycopg

        from sfs.broadcast.messages import CHANNEL
        from sfs.broadcast.postgres import conninfo

        sender = PostgresBroadcast(database_url)
        database = Database.from_url(database_url)
        heard: list[str] = []
        async with await psycopg.AsyncConnection.connect(
            conninfo(database_url), autocommit=True
        ) as listening:
            await listening.execute(f"LISTEN {CHANNEL}")

            def rolled_back_then_committed() -> None:
                with pytest.raises(RuntimeError), database.transaction() as session:
                    sender.publish_in(session, {uuid.UUID(int=1)})
                    raise RuntimeError("the unit of work fails")
                with database.transaction() as session:
                    sender.publish_in(session, {uuid.UUID(int=2)})

            await anyio.to_thread.run_sync(rolled_back_then_committed)
            async for notification in listening.notifies(timeout=PATIENCE_SECONDS):
                heard.append(notification.payload)
                break
        database.dispose()
        return heard

    heard = asyncio.run(scenario())
    assert len(heard) == 1 and heard[0].endswith(str(uuid.UUID(int=2)))


def test_commits_do_not_wait_on_an_unreachable_redis(caplog: pytest.LogCaptureFixture) -> None:
    away = RedisBroadcast("redis://127.0.0.1:1", channel="sfs-test-away")
    away.publish_after({uuid.UUID(int=3)})  # fails once, and says so
    away.publish_after({uuid.UUID(int=4)})  # skipped for a while: no second attempt
    failures = [r for r in caplog.records if "Could not broadcast" in r.getMessage()]
    assert len(failures) == 1
