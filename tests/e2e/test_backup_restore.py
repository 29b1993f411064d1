"""Backup of a running `sfs serve`, more changes, the server lost, restore into a fresh data folder:
fsck is clean, and the two `sfs sync` clients, whose cursors are ahead of the restored server,
go on without deleting anything: what the backup lacks goes up again, and both folders converge.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sfs.client.sync.ignore import STATE_FOLDER
from tests.e2e.test_quick_start import SFS, RunningServer
from tests.e2e.test_sync_crash import environment, sync_once


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    """A server of this test alone (the `token` fixture logs into it): it is lost and restored."""
    running = RunningServer(tmp_path / "sfs-data")
    try:
        running.wait_until_ready()
        yield running
    finally:
        running.stop()


def admin(data_dir: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SFS, "admin", *arguments],
        env={**os.environ, "SFS_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def contents(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file() and STATE_FOLDER not in path.relative_to(folder).parts
    }


def test_clients_ahead_of_a_restored_server_lose_nothing_and_converge(
    server: RunningServer, token: str, tmp_path: Path
) -> None:
    laptop, desktop = tmp_path / "laptop", tmp_path / "desktop"
    laptop.mkdir()
    desktop.mkdir()
    # Two devices, two names: conflicted copies are named after the device that makes them.
    env_laptop = environment(server, token, tmp_path / "config-laptop", "laptop")
    env_desktop = environment(server, token, tmp_path / "config-desktop", "desktop")
    (laptop / "plan.txt").write_bytes(b"plan, first draft\n")
    (laptop / "docs").mkdir()
    (laptop / "docs" / "budget.csv").write_bytes(os.urandom(40_000))
    sync_once(laptop, env_laptop)
    sync_once(desktop, env_desktop)
    assert contents(desktop) == contents(laptop)

    backup = tmp_path / "backup"
    made = admin(server.data_dir, "backup", str(backup))  # online: the server keeps running
    assert made.returncode == 0, made.stderr
    assert not (backup / "master.key").exists()  # escrowed apart unless asked for

    # After the backup: a new file and an edit on the laptop, a new file on the desktop.
    (laptop / "after-backup.bin").write_bytes(os.urandom(70_000))
    (laptop / "plan.txt").write_bytes(b"plan, second draft\n")
    (desktop / "docs" / "minutes.txt").write_bytes(b"minutes of the meeting\n")
    for _ in range(2):
        sync_once(laptop, env_laptop)
        sync_once(desktop, env_desktop)
    before_the_loss = contents(laptop)
    assert contents(desktop) == before_the_loss

    # The server is lost; its data folder is restored from the backup into a fresh one.
    server.stop()
    restored = tmp_path / "restored-data"
    refused = admin(restored, "restore", str(backup))
    assert refused.returncode == 2, refused.stdout  # the backup holds no master key
    assert "--master-key" in refused.stderr
    escrowed = server.data_dir / "master.key"
    done = admin(restored, "restore", str(backup), "--master-key", str(escrowed))
    assert done.returncode == 0, done.stderr
    again = admin(restored, "restore", str(backup), "--master-key", str(escrowed))
    assert again.returncode == 4, again.stdout  # never over a data folder that holds something
    checked = admin(restored, "fsck")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No damage found." in checked.stdout

    # The same address, the restored data folder: the clients' cursors are ahead of it.
    server.data_dir = restored
    server.environment["SFS_DATA_DIR"] = str(restored)
    server.restart()
    server.wait_until_ready()
    for _ in range(2):
        sync_once(laptop, env_laptop)
        sync_once(desktop, env_desktop)

    on_laptop, on_desktop = contents(laptop), contents(desktop)
    assert on_laptop == on_desktop
    # Nothing deleted: every file either client had before the loss is still there.
    for path, data in before_the_loss.items():
        assert on_laptop.get(path) == data or data in on_laptop.values(), path
    # The edit the restored server had not seen is kept (as a conflicted copy beside the
    # restored version: both sides held a different plan.txt, neither is thrown away).
    assert b"plan, second draft\n" in on_laptop.values()
    assert b"plan, first draft\n" in on_laptop.values()

    server.stop()
    final = admin(restored, "fsck")
    assert final.returncode == 0, final.stdout + final.stderr
