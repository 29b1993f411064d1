"""`sfs serve` killed (SIGKILL) in the middle of uploads, then started again on the same data.

Every upload answered 200 reads back identical; nothing half-written is visible; fsck is clean;
`sfs admin gc --grace 0` then clears what the interrupted uploads left behind.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_quick_start import (
    SFS,
    RunningServer,
    change_first_password,
    printed_credentials,
)

MIB = 1024 * 1024
# Past one pack (16 MiB), so an interrupted upload has durably written something.
STALL_AFTER = 20 * MIB


def pack_files(data_dir: Path) -> list[Path]:
    """Durable packs; not the `.tmp-*` files of writes in progress."""
    packs = (data_dir / "blobs" / "packs").rglob("*")
    return [p for p in packs if p.is_file() and not p.name.startswith(".")]


def admin_command(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SFS, "admin", *args],
        env={**os.environ, "SFS_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def login(base_url: str, output: str) -> dict[str, str]:
    email, printed = printed_credentials(output)[1]  # the demo organisation's admin
    password = change_first_password(base_url, email, printed)
    answer = httpx.post(
        f"{base_url}/api/v1/auth/login",
        json={"email": email, "password": password, "device_name": "crash-test"},
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def put(base_url: str, auth: dict[str, str], path: str, body: bytes | Iterator[bytes]) -> int:
    answer = httpx.put(
        f"{base_url}/api/v1/spaces/me/content",
        params={"path": path},
        content=body,
        headers=auth,
        timeout=120,
    )
    return answer.status_code


def test_a_killed_server_keeps_every_answered_upload_and_shows_nothing_torn(
    data_dir: Path,
) -> None:
    uploads: dict[str, bytes] = {}  # everything ever sent, answered or not
    answered: dict[str, bytes] = {}  # what the server answered 200 for
    lock = threading.Lock()
    release = threading.Event()

    def stalled_body(data: bytes) -> Iterator[bytes]:
        for start in range(0, STALL_AFTER, MIB):
            yield data[start : start + MIB]
        release.wait(timeout=120)  # the server is killed while we wait here
        for start in range(STALL_AFTER, len(data), MIB):
            yield data[start : start + MIB]

    def send(base_url: str, auth: dict[str, str], path: str, stalled: bool) -> None:
        data = uploads[path]
        try:
            status = put(base_url, auth, path, stalled_body(data) if stalled else data)
        except httpx.TransportError:
            return  # the server died under this upload
        if status == 200:
            with lock:
                answered[path] = data

    server = RunningServer(data_dir)
    try:
        output = server.wait_until_ready()
        auth = login(server.base_url, output)
        for number in range(3):
            uploads[f"/before-{number}.bin"] = os.urandom(3 * MIB + number)
            send(server.base_url, auth, f"/before-{number}.bin", stalled=False)
        assert len(answered) == 3
        packs_before = len(pack_files(data_dir))

        threads = []
        for number in range(3):
            uploads[f"/in-flight-{number}.bin"] = os.urandom(STALL_AFTER + 5 * MIB)
            uploads[f"/beside-{number}.bin"] = os.urandom(2 * MIB + number)
        for path in uploads:
            if not path.startswith("/before-"):
                thread = threading.Thread(
                    target=send, args=(server.base_url, auth, path, "in-flight" in path)
                )
                thread.start()
                threads.append(thread)
        # Bounded wait until every stalled upload has written at least one pack.
        deadline = time.monotonic() + 120
        while len(pack_files(data_dir)) < packs_before + 3 + 3:
            assert time.monotonic() < deadline, "the uploads did not reach the server"
            time.sleep(0.05)
        server.process.kill()
        server.process.wait(timeout=30)
        release.set()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        release.set()
        server.stop()
    assert not any(path.startswith("/in-flight-") for path in answered)

    restarted = RunningServer(data_dir)
    try:
        output = restarted.wait_until_ready()
        assert printed_credentials(output) == []
        listing = httpx.get(
            f"{restarted.base_url}/api/v1/spaces/me/children",
            params={"path": "/"},
            headers=auth,
        )
        assert listing.status_code == 200, listing.text
        listed = {node["path"] for node in listing.json()}
        assert set(answered) <= listed
        for path in listed:
            content = httpx.get(
                f"{restarted.base_url}/api/v1/spaces/me/content",
                params={"path": path},
                headers=auth,
                timeout=120,
            )
            assert content.status_code == 200, path
            # Answered uploads are identical; any other visible file is some upload, whole.
            assert content.content == answered.get(path, uploads[path]), path
    finally:
        restarted.stop()

    fsck = admin_command(data_dir, "fsck")
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    assert "No damage found." in fsck.stdout
    packs_after_crash = len(pack_files(data_dir))

    gc = admin_command(data_dir, "gc", "--grace", "0")
    assert gc.returncode == 0, gc.stdout + gc.stderr
    assert len(pack_files(data_dir)) < packs_after_crash, gc.stdout
    after_gc = admin_command(data_dir, "fsck")
    assert after_gc.returncode == 0, after_gc.stdout + after_gc.stderr
    assert "named by no chunk" not in after_gc.stdout  # no orphan left


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "sfs-data"
