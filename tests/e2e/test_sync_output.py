"""What `sfs sync` says to a person: a start line, a sentence per change, each problem once,
names escaped, conflict copies named after the device, and a revoked device told at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from sfs.client.api import ApiClient
from sfs.client.transfer import upload_file
from tests.e2e.test_quick_start import SFS, RunningServer

WAIT = 60.0  # seconds: an upper bound for a real process, never a measurement


def environment(
    server: RunningServer, token: str, config: Path, *, device: str = "laptop-B"
) -> dict[str, str]:
    config.mkdir()
    saved = {"server_url": server.base_url, "token": token, "email": "x", "device_name": device}
    (config / "credentials.json").write_text(json.dumps(saved))
    os.chmod(config / "credentials.json", 0o600)
    return {**os.environ, "SFS_CLIENT_CONFIG_DIR": str(config)}


def once(folder: Path, env: dict[str, str], *more: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SFS, "sync", str(folder), "--once", *more],
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )


def put_on_server(
    server: RunningServer, token: str, tmp_path: Path, name: str, body: bytes
) -> None:
    source = tmp_path / f"upload-{name}"
    source.write_bytes(body)
    with ApiClient(server.base_url, token=token) as api:
        upload_file(api, source, f"/{name}")


def wait_for(condition: str, stream: Path, process: subprocess.Popen[str], count: int = 1) -> str:
    """A bounded poll of a real process's output until `condition` appears `count` times."""
    deadline = time.monotonic() + WAIT
    while stream.read_text().count(condition) < count:
        assert process.poll() is None, stream.read_text()[-2000:]
        assert time.monotonic() < deadline, stream.read_text()[-2000:]
        time.sleep(0.05)
    return stream.read_text()


def test_a_pass_says_what_it_did_in_sentences(
    server: RunningServer, token: str, tmp_path: Path
) -> None:
    env = environment(server, token, tmp_path / "config")
    folder = tmp_path / "Documents"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "notes.txt").write_bytes(b"n" * 1500)

    first = once(folder, env)

    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0] == f"Syncing {folder} ↔ {server.base_url} (My Files)"
    assert "Uploaded empty.txt (0 B)" in lines and "Uploaded notes.txt (1.5 kB)" in lines
    assert lines[-1].startswith("Synced: 2 uploaded (") and lines[-1].endswith(" sent).")
    assert first.stderr == ""

    with ApiClient(server.base_url, token=token) as api:
        api.delete("/empty.txt")
    put_on_server(server, token, tmp_path, "report.txt", b"r" * 2_000_000)
    (folder / "notes.txt").rename(folder / "kept notes.txt")

    second = once(folder, env)

    assert second.returncode == 0, second.stderr
    said = second.stdout.splitlines()
    assert "Deleted empty.txt here (it was deleted on the server)" in said
    assert "Downloaded report.txt (2.0 MB)" in said
    assert "Moved notes.txt to kept notes.txt on the server (it was moved here)" in said

    (folder / "report.txt").unlink()
    third = once(folder, env)
    assert "Deleted report.txt on the server (it was deleted here)" in third.stdout.splitlines()
    assert not any("deleted_local" in line or "deleted_remote" in line for line in lines + said)


def test_a_failure_is_said_once_and_its_name_escaped(
    server: RunningServer, token: str, tmp_path: Path
) -> None:
    env = environment(server, token, tmp_path / "config")
    folder = tmp_path / "synced"
    folder.mkdir()
    (folder / "line\nbreak\u202etxt.doc").write_bytes(b"x")

    result = once(folder, env)

    assert result.returncode == 1
    errors = result.stderr.splitlines()
    assert len(errors) == 1, result.stderr  # not once as an event and again in the summary
    assert errors[0].startswith("sfs: not synced: line\\nbreak\\u202etxt.doc: ")
    assert "\u202e" not in result.stdout + result.stderr


def test_a_conflict_copy_is_named_after_the_device_name_of_the_login(
    server: RunningServer, token: str, tmp_path: Path
) -> None:
    env = environment(server, token, tmp_path / "config", device="laptop-B")
    folder = tmp_path / "synced"
    folder.mkdir()
    (folder / "plan.txt").write_bytes(b"first")
    assert once(folder, env).returncode == 0
    put_on_server(server, token, tmp_path, "plan.txt", b"changed on the server")
    (folder / "plan.txt").write_bytes(b"changed here, longer")

    result = once(folder, env)

    assert result.returncode == 0, result.stderr
    copies = [p.name for p in folder.iterdir() if "conflicted copy" in p.name]
    assert len(copies) == 1 and copies[0].endswith(" from laptop-B).txt"), copies
    assert (folder / copies[0]).read_bytes() == b"changed here, longer"
    assert (
        f"plan.txt was changed here and on the server: the server's version keeps the name, "
        f"yours is kept as {copies[0]}"
    ) in result.stdout.splitlines()


def test_a_running_sync_starts_with_a_line_and_says_each_warning_once(
    server: RunningServer, token: str, tmp_path: Path
) -> None:
    env = environment(server, token, tmp_path / "config")
    folder = tmp_path / "watched"
    folder.mkdir()
    (folder / "elsewhere").symlink_to("/etc/hostname")
    (folder / "bad:name.txt").write_bytes(b"refused by the server's name rule")
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("w") as stdout, err.open("w") as stderr:
        running = subprocess.Popen(
            [SFS, "sync", str(folder)], env=env, stdout=stdout, stderr=stderr, text=True
        )
    try:
        wait_for("Watching", out, running)
        for number in range(3):  # three more passes, each woken by a change here
            (folder / f"note {number}.txt").write_bytes(b"x")
            wait_for(f"Uploaded note {number}.txt", out, running)
        running.send_signal(signal.SIGINT)
        running.wait(timeout=WAIT)
    finally:
        if running.poll() is None:
            running.kill()
            running.wait()
    said, complaints = out.read_text(), err.read_text()
    assert said.splitlines()[0] == f"Watching {folder} ↔ {server.base_url} (My Files)"
    assert complaints.count("sfs: warning: elsewhere: a symbolic link") == 1, complaints
    assert complaints.count("sfs: not synced: bad:name.txt: ") == 1, complaints
    assert "Traceback" not in complaints


def test_an_idle_sync_hears_through_the_long_poll_that_its_device_was_revoked(
    server: RunningServer, token: str, tmp_path: Path
) -> None:
    env = environment(server, token, tmp_path / "config")
    folder = tmp_path / "idle"
    folder.mkdir()
    (folder / "a.txt").write_bytes(b"a")
    out = tmp_path / "out.txt"
    with out.open("w") as stdout:
        running = subprocess.Popen(
            [SFS, "sync", str(folder)], env=env, stdout=stdout, stderr=subprocess.PIPE, text=True
        )
    try:
        wait_for("Synced: 1 uploaded", out, running)
        with ApiClient(server.base_url, token=token) as api:
            api.logout()  # as from the portal's device list; nothing changes in the folder
        # The long poll (55 s) is answered 401 at its next recheck, well within this bound.
        _, errors = running.communicate(timeout=WAIT / 2)
    finally:
        if running.poll() is None:
            running.kill()
            running.wait()
    assert running.returncode == 5, errors
    assert "log in again with sfs login" in errors and "Traceback" not in errors


def test_a_folder_that_does_not_exist_is_refused_unless_create(
    server: RunningServer, token: str, tmp_path: Path
) -> None:
    env = environment(server, token, tmp_path / "config")
    mistyped = tmp_path / "Documnets"

    refused = once(mistyped, env)

    assert refused.returncode == 2
    assert refused.stderr == (
        f"sfs: {mistyped} does not exist: check the name, or give --create to make it\n"
    )
    assert not mistyped.exists()
    created = once(mistyped, env, "--create")
    assert created.returncode == 0, created.stderr
    assert mistyped.is_dir()
