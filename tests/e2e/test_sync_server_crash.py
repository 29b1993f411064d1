"""`sfs serve` killed (SIGKILL) while a sync client sends it a batch, then started again on the
same data folder and port: the client names the unreachable server (no traceback), and once the
server is back everything arrives, once, re-sending little; fsck is clean."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sfs.client.sync.ignore import STATE_FOLDER
from sfs.client.sync.remote import SyncApi
from sfs.client.sync.sender import BATCH_BYTES, IN_FLIGHT
from sfs.client.sync.workspace import content_digest
from sfs.protocol.chunk_ids import chunk_id
from sfs.protocol.chunking import CHUNK_PARAMS, iter_chunks
from tests.e2e.test_quick_start import SFS, RunningServer, free_port
from tests.e2e.test_sync_crash import environment, stop_with_ctrl_c, sync_once

MIB = 1024 * 1024
BIG = 64 * MIB
SMALL_FILES = 2000
# Past the small files (a few MiB) and a few batches into the big file.
KILL_AFTER = 16 * MIB
WAIT = 120.0  # seconds: the bound on every poll of a real process
SAYS_SO_WITHIN = 30.0  # seconds: half the client's full-scan interval
# The most a killed server can have stored yet not recorded: the batches the client had on their
# way, `IN_FLIGHT` of them (each flushed once past BATCH_BYTES, so it may hold one more chunk).
# Their packs were written, their chunks not yet recorded (on a loaded machine both can be
# waiting for the database when the server dies), so they go again.
UNRECORDED_BATCHES = IN_FLIGHT * (BATCH_BYTES + CHUNK_PARAMS.max_size)
# What packs hold besides chunk content, counted in what arrived: a nonce, a tag and a trailer
# entry per chunk (72 bytes; under 5,000 chunks here), a sealed trailer and footer per pack.
PACK_OVERHEAD = 1 * MIB

Tree = dict[str, bytes]  # remote path -> content


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    """A server of this test alone (the `token` fixture logs into it), since the test kills it."""
    running = RunningServer(tmp_path / "sfs-data")
    try:
        running.wait_until_ready()
        yield running
    finally:
        running.stop()


def fill(folder: Path) -> Tree:
    """Thousands of small files in a few folders, and one big file: a pass of a few seconds."""
    randomness = random.Random(7)
    written: Tree = {}
    for number in range(SMALL_FILES):
        relative = f"docs/{number % 20:02}/note-{number:05}.txt"
        written[relative] = os.urandom(randomness.randint(100, 4000))
    written["video.bin"] = os.urandom(BIG)
    for relative, data in written.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_bytes(data)
    return {f"/{relative}": data for relative, data in written.items()}


def durable_pack_bytes(server: RunningServer) -> int:
    """Bytes in finished packs (not the `.tmp-*` files of a write in progress)."""
    packs = (server.data_dir / "blobs").rglob("*")
    return sum(p.stat().st_size for p in packs if not p.name.startswith(".") and p.is_file())


def kill_server_when(
    server: RunningServer, client: subprocess.Popen[bytes], condition: Callable[[], bool]
) -> None:
    """SIGKILL the server as soon as `condition` holds, while the client is still sending."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if condition():
            server.kill()
            return
        if client.poll() is not None:
            pytest.fail("the client finished before the server could be killed")
        time.sleep(0.01)
    pytest.fail("the client never sent enough to kill the server under it")


def server_digests(server: RunningServer, token: str) -> dict[str, tuple[int, str | None]]:
    """Every file on the server: its size and content digest (the ETag)."""
    with SyncApi(server.base_url, token=token) as api:
        snapshot = api.snapshot()
    return {
        path: (entry.size, entry.etag)
        for path, entry in snapshot.entries.items()
        if entry.kind == "file"
    }


def expected_digests(
    server: RunningServer, token: str, tree: Tree
) -> dict[str, tuple[int, str | None]]:
    """What the server must list for `tree`: each file cut and named as the organisation does."""
    with SyncApi(server.base_url, token=token) as api:
        chunking = api.chunking()
    digests: dict[str, tuple[int, str | None]] = {}
    for path, data in tree.items():
        params = chunking.sizes.for_size(len(data))
        pieces = iter_chunks([data], params, seed=chunking.seed)
        ids = [chunk_id(chunking.chunk_id_key, piece) for piece in pieces]
        digests[path] = (len(data), content_digest(ids))
    return digests


def fsck(server: RunningServer) -> subprocess.CompletedProcess[str]:
    """`sfs admin fsck` on the server's data folder, with the server's own SFS_* settings."""
    return subprocess.run(
        [SFS, "admin", "fsck"],
        env=server.environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def tree_of(folder: Path) -> Tree:
    """Every file under `folder` with its content, but the client's own state."""
    return {
        "/" + path.relative_to(folder).as_posix(): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file() and STATE_FOLDER not in path.relative_to(folder).parts
    }


def test_server_killed_mid_batch_a_one_pass_client_says_so_and_the_next_pass_finishes(
    server: RunningServer, token: str, tmp_path: Path
) -> None:
    env = environment(server, token, tmp_path / "config")
    folder = tmp_path / "folder"
    folder.mkdir()
    tree = fill(folder)
    total = sum(len(data) for data in tree.values())
    errors = tmp_path / "first-pass.err"
    with open(errors, "wb") as stderr:
        client = subprocess.Popen(
            [SFS, "sync", str(folder), "--once"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            kill_server_when(server, client, lambda: durable_pack_bytes(server) >= KILL_AFTER)
            client.wait(timeout=WAIT)
        finally:
            if client.poll() is None:
                client.kill()
                client.wait()
    arrived = durable_pack_bytes(server)
    said = errors.read_text()
    assert client.returncode == 1, said[-2000:]
    assert f"cannot reach the server at {server.base_url}" in said
    assert "Traceback" not in said

    server.restart()
    server.wait_until_ready()
    summary = sync_once(folder, env)
    assert summary["failed"] == 0
    # What had arrived is not sent again, but for the batches the server was storing when it
    # died (their packs count in `arrived`; a batch still on its way had not arrived at all).
    resent_at_most = total - arrived + UNRECORDED_BATCHES + PACK_OVERHEAD
    assert summary["bytes_sent"] <= resent_at_most, (summary, total, arrived)
    assert server_digests(server, token) == expected_digests(server, token, tree)
    assert tree_of(folder) == tree

    server.stop()
    checked = fsck(server)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No damage found." in checked.stdout


def test_server_killed_mid_batch_a_running_client_waits_and_finishes_on_its_own(
    server: RunningServer, token: str, tmp_path: Path
) -> None:
    env = environment(server, token, tmp_path / "config")
    folder = tmp_path / "folder"
    for number in range(20):
        (folder / "docs" / f"{number:02}").mkdir(parents=True)
    # A folder in sync already (the second pass takes in the cursor after the first one's own
    # changes): the pass below only uploads, and nothing else wakes the client meanwhile.
    sync_once(folder, env)
    sync_once(folder, env)
    tree = fill(folder)
    retrying = re.compile(
        rf"^sfs: cannot reach the server at {re.escape(server.base_url)}: .+; "
        r"retrying until it is back…$",
        re.MULTILINE,
    )
    errors = tmp_path / "client.err"
    with open(errors, "wb") as stderr:
        client = subprocess.Popen(
            [SFS, "sync", str(folder)], env=env, stdout=subprocess.DEVNULL, stderr=stderr
        )
        try:
            kill_server_when(server, client, lambda: durable_pack_bytes(server) >= KILL_AFTER)
            # Well before the full scan (60 s) would find out: the client is woken to say so.
            deadline = time.monotonic() + SAYS_SO_WITHIN
            while not retrying.search(errors.read_text()):
                assert client.poll() is None, errors.read_text()[-2000:]
                assert time.monotonic() < deadline, errors.read_text()[-2000:]
                time.sleep(0.05)

            server.restart()
            server.wait_until_ready()
            expected = expected_digests(server, token, tree)
            deadline = time.monotonic() + WAIT
            while server_digests(server, token) != expected:
                assert client.poll() is None, errors.read_text()[-2000:]
                assert time.monotonic() < deadline, "the client did not finish after the restart"
                time.sleep(0.2)

            assert stop_with_ctrl_c(client, errors) == 0, errors.read_text()[-2000:]
        finally:
            if client.poll() is None:
                client.kill()
                client.wait()
    said = errors.read_text()
    assert "Traceback" not in said
    # One line when the server went, one when it came back: never one per retry.
    assert len(retrying.findall(said)) == 1, said
    assert said.count("sfs: the server is back; syncing again.") == 1, said
    assert tree_of(folder) == tree

    server.stop()
    checked = fsck(server)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No damage found." in checked.stdout


def test_a_one_pass_client_started_while_the_server_is_down_says_so(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    base_url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    credentials = {"server_url": base_url, "token": "t", "email": "x", "device_name": "c"}
    (config / "credentials.json").write_text(json.dumps(credentials))
    os.chmod(config / "credentials.json", 0o600)
    done = subprocess.run(
        [SFS, "sync", str(tmp_path / "folder"), "--once", "--create"],
        env={**os.environ, "SFS_CLIENT_CONFIG_DIR": str(config)},
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(f"sfs: cannot reach the server at {base_url}")
