"""`sfs serve --workers 2`: two worker processes on one port, kept in step through Redis (a
commit answered by one wakes the long polls held by the other), drained together by one
SIGTERM; and refused unless what the workers must share is shared."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from sfs.client.sync.remote import SyncApi
from tests.e2e.test_drain import _account
from tests.e2e.test_quick_start import SFS, RunningServer
from tests.integration.test_throttle_storage import REDIS_URL

PATIENCE = 60.0
WAIT = 55.0
POLLERS = 8  # separate connections: the kernel spreads them over both workers


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


def _workers_of(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_two_workers_share_changes_and_drain_on_one_sigterm(tmp_path: Path, redis_uri: str) -> None:
    server = RunningServer(
        tmp_path / "sfs-data",
        {
            "SFS_WORKERS": "2",
            "SFS_RATE_LIMIT_STORAGE": redis_uri,
            "SFS_CHANGE_NOTIFICATION": redis_uri,
            "SFS_CHANGE_RECHECK_SECONDS": "3600",  # only a broadcast wakes a poll in time
        },
    )
    try:
        server.wait_until_ready()
        assert len(_workers_of(server.process.pid)) == 2
        token = _account(server)
        answered: list[float] = []

        def poll() -> None:
            with SyncApi(server.base_url, token=token) as api:
                api.wait_for_changes(0, wait=WAIT)
            answered.append(time.monotonic())

        pollers = [threading.Thread(target=poll) for _ in range(POLLERS)]
        for poller in pollers:
            poller.start()
        time.sleep(2)  # let them wait (one that starts later sees the change at once anyway)
        committed_at = time.monotonic()
        with SyncApi(server.base_url, token=token) as api:
            api.create_folders(["/from-one-worker"])
        for poller in pollers:
            poller.join(PATIENCE + 30)
        # Asserted only against the polls' own wait: a poll the change did not wake answers
        # when its wait is over (and then finds the change by reading the journal).
        assert len(answered) == POLLERS
        assert max(answered) - committed_at < WAIT - 5, [t - committed_at for t in answered]

        server.process.send_signal(signal.SIGTERM)
        try:
            status = server.process.wait(timeout=PATIENCE)
        except subprocess.TimeoutExpired:
            pytest.fail("sfs serve --workers 2 did not stop after SIGTERM")
        logged = server.log.read_text()
        assert status == 0, logged[-3000:]
        assert logged.count("Draining (signal SIGTERM)") == 2
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("environment", "needed"),
    [
        ({}, "SFS_RATE_LIMIT_STORAGE=redis://"),
        ({"SFS_RATE_LIMIT_STORAGE": "redis://127.0.0.1:6379"}, "SFS_CHANGE_NOTIFICATION"),
    ],
)
def test_workers_are_refused_while_each_would_count_and_announce_alone(
    tmp_path: Path, environment: dict[str, str], needed: str
) -> None:
    run = subprocess.run(
        [SFS, "serve", "--workers", "2"],
        env={**os.environ, "SFS_DATA_DIR": str(tmp_path / "data"), **environment},
        capture_output=True,
        text=True,
        timeout=PATIENCE,
    )
    assert run.returncode != 0
    assert "the configuration is not valid" in run.stderr and needed in run.stderr
    assert not (tmp_path / "data" / "sfs.db").exists()  # refused before anything was made
