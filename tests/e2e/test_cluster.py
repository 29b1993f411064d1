"""Two `sfs serve` instances behind HAProxy (round-robin, no sticky sessions) on PostgreSQL,
moto_server S3 and Redis: sync clients attached through the balancer converge; a commit through
one instance wakes a long poll waiting on the other; an instance killed mid-upload loses nothing.

The safety-net re-read is set far beyond a long poll's longest wait here (600 s against 60 s),
so a long poll that answers with the change can only have been woken by the cross-instance
notification: nothing in these tests depends on how fast the machine is.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import httpx
import pytest

from sfs.client.sync.remote import SyncApi
from tests.conftest import REQUIRE_POSTGRES, _postgres_reachable
from tests.e2e.cluster import PASSWORD, SFS, Cluster, haproxy_command, moto_server_command
from tests.e2e.synced_folders import visible_files
from tests.e2e.test_sync_crash import environment

WAIT = 180.0  # seconds: the bound on every wait for real processes to agree
SAFETY_NET = 600.0  # SFS_CHANGE_RECHECK_SECONDS: never reached by a 60 s long poll


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    missing = [
        name
        for name, found in (("haproxy", haproxy_command()), ("moto_server", moto_server_command()))
        if found is None
    ]
    reason = _postgres_reachable()
    if missing or reason:
        why = f"missing {', '.join(missing)}" if missing else f"PostgreSQL: {reason}"
        if os.environ.get("SFS_TEST_REQUIRE_EXTERNAL_TOOLS") == "1" or REQUIRE_POSTGRES:
            pytest.fail(f"the cluster tests need haproxy, moto_server, PostgreSQL: {why}")
        pytest.skip(f"no cluster here: {why}")
    running = Cluster(tmp_path_factory.mktemp("cluster"), recheck_seconds=SAFETY_NET)
    try:
        yield running
    finally:
        running.close()


_users = iter(range(1, 1000))


@pytest.fixture
def token(cluster: Cluster) -> str:
    email = f"user{next(_users)}@cluster.example.com"
    cluster.create_user(email)
    with SyncApi(cluster.base_url) as api:
        outcome = api.login(email=email, password=PASSWORD, device_name="cluster")
        assert outcome.token
        return outcome.token


class SyncClient:
    """`sfs sync FOLDER` running on, through the balancer, until stopped."""

    def __init__(self, cluster: Cluster, token: str, folder: Path, config: Path) -> None:
        folder.mkdir()
        self.folder = folder
        self.environment = environment(cluster, token, config)  # type: ignore[arg-type]
        self.log = folder.parent / f"{folder.name}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [SFS, "sync", str(folder), "--json"],
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def files(self) -> dict[str, bytes]:
        return visible_files(self.folder)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def clients(
    cluster: Cluster, token: str, tmp_path: Path
) -> Iterator[tuple[SyncClient, SyncClient]]:
    laptop = SyncClient(cluster, token, tmp_path / "laptop", tmp_path / "config-laptop")
    desktop = SyncClient(cluster, token, tmp_path / "desktop", tmp_path / "config-desktop")
    try:
        yield laptop, desktop
    finally:
        laptop.stop()
        desktop.stop()


def eventually(condition: Callable[[], bool], what: str, *logs: Path) -> None:
    """A bounded poll of real processes (never an assertion on how long they took)."""
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(
                f"{what} did not happen:\n" + "\n".join(p.read_text()[-3000:] for p in logs)
            )
        time.sleep(0.2)


def test_two_clients_through_the_balancer_converge(
    clients: tuple[SyncClient, SyncClient],
) -> None:
    laptop, desktop = clients
    for n in range(12):
        (laptop.folder / f"report-{n}.txt").write_bytes(os.urandom(2000 + n))
    (desktop.folder / "notes").mkdir()
    (desktop.folder / "notes" / "minutes.md").write_bytes(b"# minutes\n")
    eventually(
        lambda: laptop.files() == desktop.files() and len(laptop.files()) == 13,
        "the two folders agreeing",
        laptop.log,
        desktop.log,
    )
    (desktop.folder / "report-3.txt").write_bytes(b"edited on the desktop\n")
    eventually(
        lambda: laptop.files().get("report-3.txt") == b"edited on the desktop\n",
        "the edit reaching the laptop",
        laptop.log,
        desktop.log,
    )


def test_a_commit_on_one_instance_wakes_a_long_poll_on_the_other(
    cluster: Cluster, token: str
) -> None:
    first, second = cluster.instances
    auth = {"Authorization": f"Bearer {token}"}
    cursor = httpx.get(f"{first.base_url}/api/v1/spaces/me/snapshot", headers=auth).json()["cursor"]
    answered: list[tuple[float, dict[str, object]]] = []

    def long_poll() -> None:
        answer = httpx.get(
            f"{second.base_url}/api/v1/spaces/me/changes",
            params={"cursor": cursor, "wait": 60},
            headers=auth,
            timeout=90,
        )
        answered.append((time.monotonic(), answer.json()))

    poller = threading.Thread(target=long_poll)
    poller.start()
    time.sleep(0.5)  # let the poll reach its wait (were it later, it would find the change at once)
    made_at = time.monotonic()
    made = httpx.post(
        f"{first.base_url}/api/v1/spaces/me/folders", json={"path": "/woken"}, headers=auth
    )
    assert made.status_code in (200, 201), made.text
    poller.join(timeout=90)
    assert answered, "the long poll never answered"
    woke_at, page = answered[0]
    # Without the notification the poll would have run out its 60 s with no change.
    assert [c["path"] for c in page["changes"]] == ["/woken"]  # type: ignore[union-attr]
    print(f"wake-up across instances: {1000 * (woke_at - made_at):.0f} ms")


def test_an_instance_killed_mid_upload_loses_nothing(
    cluster: Cluster, clients: tuple[SyncClient, SyncClient]
) -> None:
    laptop, desktop = clients
    s3 = boto3.client(
        "s3",
        endpoint_url=cluster.s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )

    def packs() -> int:
        listed = s3.list_objects_v2(Bucket=cluster.bucket, Prefix="packs/")
        return int(listed.get("KeyCount", 0))

    before = packs()
    written = {}
    for n in range(40):
        written[f"batch/file-{n:02}.bin"] = os.urandom(400_000 + n)
    (laptop.folder / "batch").mkdir()
    for relative, data in written.items():
        (laptop.folder / relative).write_bytes(data)
    victim = cluster.instances[0]
    eventually(lambda: packs() > before, "the upload starting", laptop.log)
    victim.kill()
    try:
        eventually(
            lambda: all(desktop.files().get(r) == d for r, d in written.items()),
            "every file reaching the other client through the surviving instance",
            laptop.log,
            desktop.log,
        )
        assert laptop.files() == desktop.files()
        checked = subprocess.run(
            [SFS, "admin", "fsck"],
            env=cluster.environment,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "No damage found." in checked.stdout
    finally:
        victim.start()
