"""Throttling counts are shared by every instance that points at the same storage."""

import os
import uuid

import pytest

from sfs.auth.throttle import RateLimiters

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
