"""Throttling counts are shared by every instance that points at the same storage."""

import os
import uuid

import pytest

from sfs.auth.concurrency import RedisGauge
from sfs.auth.throttle import RateLimiters
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.errors import TooManyUploads
from sfs.domain.roles import Role
from sfs.services.files.upload_slots import UploadSlots

REDIS_URL = os.environ.get("SFS_TEST_REDIS_URL", "redis://127.0.0.1:6379")


@pytest.fixture
def redis_uri() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("SFS_TEST_REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis is required but unreachable: {exc}")
        pytest.skip(f"Redis unreachable: {exc}")
    return REDIS_URL


def test_two_instances_on_redis_share_one_count(redis_uri: str) -> None:
    prefix = f"sfs-test-{uuid.uuid4().hex}"
    first = RateLimiters.from_storage_uri(redis_uri, key_prefix=prefix)
    second = RateLimiters.from_storage_uri(redis_uri, key_prefix=prefix)
    key = "jan@acme.example.com"
    for _ in range(5):
        first.login_account.hit(key)
    for _ in range(5):
        second.login_account.hit(key)
    assert not first.login_account.test(key)
    assert not second.login_account.test(key)
    assert 0 < second.login_account.resets_in(key) <= 15 * 60
    first.login_account.clear(key)
    assert second.login_account.test(key)


def test_memory_storage_counts_per_key() -> None:
    limiters = RateLimiters.from_storage_uri("memory://")
    for _ in range(10):
        limiters.login_account.hit("a")
    assert not limiters.login_account.test("a")
    assert limiters.login_account.test("b")


def test_upload_slots_in_redis_hold_their_ceiling_across_instances(redis_uri: str) -> None:
    prefix = f"sfs-test-{uuid.uuid4().hex}"
    one = UploadSlots(RedisGauge(redis_uri, key_prefix=prefix), per_account=2, per_address=50)
    two = UploadSlots(RedisGauge(redis_uri, key_prefix=prefix), per_account=2, per_address=50)
    uploader = Actor(
        user_id=uuid.uuid4(),
        email="u@x.example",
        display_name="U",
        role=Role.USER,
        organization_id=uuid.uuid4(),
    )
    client = ClientInfo(address="198.51.100.4")
    with one.hold(uploader, client), two.hold(uploader, client):
        with pytest.raises(TooManyUploads), one.hold(uploader, client):
            pass
        with pytest.raises(TooManyUploads), two.hold(uploader, client):
            pass
    with one.hold(uploader, client), two.hold(uploader, client):
        pass  # both slots came back


def test_upload_slots_of_an_instance_that_died_lapse(redis_uri: str) -> None:
    prefix = f"sfs-test-{uuid.uuid4().hex}"
    now = [1_000_000.0]
    dead = RedisGauge(redis_uri, key_prefix=prefix, slot_seconds=600, now=lambda: now[0])
    alive = RedisGauge(redis_uri, key_prefix=prefix, slot_seconds=600, now=lambda: now[0])
    assert dead.try_acquire("account:a", 1) is not None  # ... never released
    assert alive.try_acquire("account:a", 1) is None
    now[0] += 601
    ticket = alive.try_acquire("account:a", 1)
    assert ticket is not None
    alive.release("account:a", ticket)
    assert alive.try_acquire("account:a", 1) is not None


def test_uploads_go_on_uncounted_while_redis_is_away() -> None:
    away = RedisGauge("redis://127.0.0.1:1")
    ticket = away.try_acquire("account:a", 1)
    assert ticket is not None
    away.release("account:a", ticket)
