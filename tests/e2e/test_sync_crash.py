"""The sync client killed (SIGKILL) mid-upload and mid-download, then started again: it finishes,
re-sends little, and never leaves a partial file where a file belongs."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sfs.client.sync.engine import SyncEngine
from sfs.client.sync.ignore import TEMP_PREFIX
from sfs.client.sync.remote import SyncApi
from sfs.protocol.chunk_ids import chunk_id
from tests.e2e.test_quick_start import RunningServer

SFS = str(Path(sys.executable).with_name("sfs"))
SIZE = 128 * 1024 * 1024


def environment(
    server: RunningServer, token: str, config: Path, device_name: str = "c"
) -> dict[str, str]:
    config.mkdir()
    credentials = {
        "server_url": server.base_url,
        "token": token,
        "email": "x",
        "device_name": device_name,
    }
    (config / "credentials.json").write_text(json.dumps(credentials))
    os.chmod(config / "credentials.json", 0o600)
    # PYTHONFAULTHANDLER: a client that hangs is sent SIGABRT and prints every thread's stack.
    return {**os.environ, "SFS_CLIENT_CONFIG_DIR": str(config), "PYTHONFAULTHANDLER": "1"}


def stop_with_ctrl_c(client: subprocess.Popen[bytes], stderr: Path, wait: float = 30.0) -> int:
    """SIGINT, as Ctrl-C; a client still running `wait` seconds later fails the test with every
    thread's stack (SIGABRT, with the faulthandler `environment` turns on) in its message."""
    client.send_signal(signal.SIGINT)
    try:
        return client.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        client.send_signal(signal.SIGABRT)
        client.wait()
        raise AssertionError(f"still running after Ctrl-C:\n{stderr.read_text()[-8000:]}") from None


def kill_when(process: subprocess.Popen[str], condition: Callable[[], bool]) -> None:
    """SIGKILL the client as soon as `condition` holds (a bounded poll of a real process)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if condition():
            process.kill()
            process.wait()
            return
        if process.poll() is not None:
            pytest.fail("the client finished before it could be interrupted")
        time.sleep(0.01)
    process.kill()
    pytest.fail("the client never reached the point to interrupt it")


def sync_once(folder: Path, env: dict[str, str]) -> dict[str, int]:
    done = subprocess.run(
        [SFS, "sync", str(folder), "--once", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if '"pass"' in line][-1]


def test_killed_mid_upload_it_resumes_without_resending_what_arrived(
    server: RunningServer, token: str, tmp_path: Path
) -> None:
    env = environment(server, token, tmp_path / "config")
    folder = tmp_path / "up"
    folder.mkdir()
    body = os.urandom(SIZE)
    (folder / "big.bin").write_bytes(body)
    blobs = Path(server.log).parent / "sfs-data" / "blobs"
    before = sum(p.stat().st_size for p in blobs.rglob("*") if p.is_file())

    def stored() -> int:
        return sum(p.stat().st_size for p in blobs.rglob("*") if p.is_file()) - before

    client = subprocess.Popen(
        [SFS, "sync", str(folder), "--once"], env=env, stdout=subprocess.DEVNULL, text=True
    )
    kill_when(client, lambda: stored() >= 12 * 1024 * 1024)
    arrived = stored()
    summary = sync_once(folder, env)
    assert summary["uploaded"] == 1
    assert summary["bytes_sent"] <= SIZE - arrived + 8 * 1024 * 1024  # one batch may go twice
    check = tmp_path / "check"
    check.mkdir()
    with SyncApi(server.base_url, token=token) as api:
        engine = SyncEngine(check, api)
        engine.sync_once()
        engine.close()
    assert (check / "big.bin").read_bytes() == body


def test_killed_mid_download_it_resumes_and_leaves_no_partial_file(
    server: RunningServer, token: str, tmp_path: Path
) -> None:
    body = os.urandom(SIZE)
    source = tmp_path / "source"
    source.mkdir()
    (source / "big.bin").write_bytes(body)
    with SyncApi(server.base_url, token=token) as api:
        engine = SyncEngine(source, api)
        engine.sync_once()
        engine.close()
    env = environment(server, token, tmp_path / "config")
    folder = tmp_path / "down"
    folder.mkdir()

    def partial() -> bool:
        return any(
            p.name.startswith(TEMP_PREFIX) and p.stat().st_size > 8 * 1024 * 1024
            for p in folder.iterdir()
        )

    client = subprocess.Popen(
        [SFS, "sync", str(folder), "--once"], env=env, stdout=subprocess.DEVNULL, text=True
    )
    kill_when(client, partial)
    assert not (folder / "big.bin").exists()  # never a half file under the real name
    written = max(p.stat().st_size for p in folder.iterdir() if p.name.startswith(TEMP_PREFIX))
    summary = sync_once(folder, env)
    assert summary["downloaded"] == 1
    assert (folder / "big.bin").read_bytes() == body
    assert not [p for p in folder.iterdir() if p.name.startswith(TEMP_PREFIX)]
    # It resumed: what the killed pass had written whole was checked and kept, not fetched again
    # (at most the chunk it was writing when killed is fetched twice).
    assert summary["bytes_resumed"] >= written - 96 * 1024
    assert summary["bytes_received"] + summary["bytes_resumed"] == SIZE


def test_a_chunk_batch_cut_off_keeps_the_chunks_that_arrived_whole(
    server: RunningServer, token: str
) -> None:
    with SyncApi(server.base_url, token=token) as api:
        key = api.chunking().chunk_id_key
        pieces = [os.urandom(50_000) for _ in range(3)]
        ids = [chunk_id(key, piece) for piece in pieces]
        framed = b"".join(
            bytes.fromhex(i) + len(p).to_bytes(4, "big") + p
            for i, p in zip(ids, pieces, strict=True)
        )
        head = (
            f"POST /api/v1/chunks/batch HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: {len(framed)}\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", server.port)) as connection:
            connection.sendall(head + framed[: len(framed) - 10_000])  # the last chunk cut off
        # The server notices the client gone, stores the whole chunks, and answers no one.
        deadline = time.monotonic() + 30
        while api.missing_chunks(ids) != {ids[2]} and time.monotonic() < deadline:
            time.sleep(0.05)
        assert api.missing_chunks(ids) == {ids[2]}


def test_a_revoked_device_is_told_to_log_in_again(
    server: RunningServer, token: str, tmp_path: Path
) -> None:
    env = environment(server, token, tmp_path / "config")
    folder = tmp_path / "synced"
    folder.mkdir()
    (folder / "a.txt").write_bytes(b"a")
    sync_once(folder, env)
    running = subprocess.Popen(
        [SFS, "sync", str(folder)], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        with SyncApi(server.base_url, token=token) as api:
            api.logout()  # as from the portal's device list: this token is revoked
        (folder / "b.txt").write_bytes(b"b")  # the next pass meets the refusal
        _, errors = running.communicate(timeout=120)
    finally:
        if running.poll() is None:
            running.kill()
            running.wait()
    assert running.returncode == 5  # as in sfs ls: not allowed, log in again
    assert "log in again with sfs login" in errors and "Traceback" not in errors
    once = subprocess.run(
        [SFS, "sync", str(folder), "--once"], env=env, capture_output=True, text=True, timeout=60
    )
    assert once.returncode == 5 and "log in again" in once.stderr
