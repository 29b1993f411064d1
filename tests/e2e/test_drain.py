"""SIGTERM drains a real `sfs serve`: the long poll a sync client holds is answered at once with
"nothing new", the process exits 0, and the client polls again (here: the same server, started
anew) and hears the next change."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sfs.app import build_services
from sfs.client.sync.remote import SyncApi
from sfs.client.sync.watch import Wakeup, watch_server
from sfs.config import load_settings
from sfs.crypto.passwords import PasswordHasher
from sfs.domain.actor import operator
from tests.e2e.test_quick_start import RunningServer
from tests.support import FAST_HASH, GOOD_PASSWORD
from tests.world import CLIENT

TOKEN = "drain-test-metrics-token"
PATIENCE = 60.0  # bounds on waits for real processes; nothing is asserted on time


def _account(server: RunningServer) -> str:
    services = build_services(
        load_settings(data_dir=server.data_dir), hasher=PasswordHasher(FAST_HASH)
    )
    try:
        organisation = services.organisations.create(operator(), name="Drain", client=CLIENT)
        services.accounts.create_user(
            operator(),
            organization_id=organisation.id,
            email="poller@drain.example.com",
            display_name="Paula Poller",
            password=GOOD_PASSWORD,
            client=CLIENT,
        )
    finally:
        services.database.dispose()
    with SyncApi(server.base_url) as api:
        token = api.login(
            email="poller@drain.example.com", password=GOOD_PASSWORD, device_name="laptop"
        ).token
    assert token
    return token


def _waiters(server: RunningServer) -> float:
    scrape = httpx.get(
        f"{server.base_url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
    )
    for line in scrape.text.splitlines():
        if line.startswith("sfs_long_poll_waiters "):
            return float(line.split()[1])
    raise AssertionError("no sfs_long_poll_waiters in the metrics")


def _eventually(check: str, condition: object) -> None:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    pytest.fail(f"never happened: {check}")


def test_sigterm_answers_the_long_poll_exits_0_and_the_client_comes_back(
    tmp_path: Path,
) -> None:
    server = RunningServer(
        tmp_path / "sfs-data",
        {"SFS_LOG_FORMAT": "json", "SFS_METRICS_TOKEN": TOKEN, "SFS_DRAIN_SECONDS": "20"},
    )
    wakeup = Wakeup()
    try:
        server.wait_until_ready()
        token = _account(server)
        cursor = [0]
        watch_server(lambda: SyncApi(server.base_url, token=token), cursor, wakeup)
        _eventually("the client's long poll waits on the server", lambda: _waiters(server) == 1)

        server.process.send_signal(signal.SIGTERM)
        try:
            status = server.process.wait(timeout=PATIENCE)
        except subprocess.TimeoutExpired:
            pytest.fail("sfs serve did not stop after SIGTERM")
        assert status == 0, server.log.read_text()[-3000:]
        logged = server.log.read_text().splitlines()
        lines = [json.loads(line) for line in logged if line.startswith("{")]
        polls = [
            line
            for line in lines
            if line["logger"] == "uvicorn.access" and "/api/v1/spaces/me/changes" in line["message"]
        ]
        # The long poll was answered (200, "nothing new"), not cut off, and its line has an id.
        assert polls and polls[-1]["message"].endswith(" 200")
        assert all(len(line["request_id"]) == 24 for line in polls)
        assert any("Draining (signal SIGTERM)" in line["message"] for line in lines)

        server.restart()
        server.wait_until_ready()
        with SyncApi(server.base_url, token=token) as api:
            api.create_folders(["/after-restart"])
        _eventually("the client hears the change after the restart", lambda: cursor[0] >= 1)
    finally:
        wakeup.stopping = True
        server.stop()


def test_an_upload_running_at_sigterm_is_finished_and_kept(tmp_path: Path) -> None:
    server = RunningServer(tmp_path / "sfs-data", {"SFS_DRAIN_SECONDS": "30"})
    pieces = [bytes([n]) * 65536 for n in range(12)]
    halfway = threading.Event()

    def slow_body() -> Iterator[bytes]:
        for number, piece in enumerate(pieces):
            if number == len(pieces) // 2:
                halfway.set()
                time.sleep(1.0)  # SIGTERM arrives while the body is still coming
            yield piece
            time.sleep(0.05)

    try:
        server.wait_until_ready()
        token = _account(server)
        auth = {"Authorization": f"Bearer {token}"}
        answers: list[httpx.Response] = []

        def upload() -> None:
            answers.append(
                httpx.put(
                    f"{server.base_url}/api/v1/spaces/me/content",
                    params={"path": "/during-drain.bin"},
                    content=slow_body(),
                    headers=auth,
                    timeout=PATIENCE,
                )
            )

        uploader = threading.Thread(target=upload)
        uploader.start()
        assert halfway.wait(PATIENCE)
        server.process.send_signal(signal.SIGTERM)
        uploader.join(PATIENCE)
        assert answers and answers[0].status_code == 200, answers and answers[0].text
        assert server.process.wait(timeout=PATIENCE) == 0

        server.restart()
        server.wait_until_ready()
        stored = httpx.get(
            f"{server.base_url}/api/v1/spaces/me/content",
            params={"path": "/during-drain.bin"},
            headers=auth,
            timeout=PATIENCE,
        )
        assert stored.status_code == 200 and stored.content == b"".join(pieces)
    finally:
        server.stop()
