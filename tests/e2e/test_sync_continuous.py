"""Two devices left running `sfs sync DIR` (file watcher and long poll, as users run it): a folder
of files moved into one arrives whole in the other, changes made there come back, and the long
polls of both cost a few requests per pass, not one per file."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from tests.e2e.test_quick_start import SFS, RunningServer
from tests.e2e.test_sync_output import environment

WAIT = 120.0  # seconds: an upper bound for real processes, never a measurement
FILES = 300


def _contents(root: Path) -> dict[str, bytes]:
    found = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] == ".sfs" or path.name.startswith(".") or not path.is_file():
            continue
        found[relative.as_posix()] = path.read_bytes()
    return found


def _until_same(a: Path, b: Path, running: list[subprocess.Popen[str]]) -> None:
    deadline = time.monotonic() + WAIT
    while _contents(a) != _contents(b):
        assert all(client.poll() is None for client in running), "a client stopped"
        assert time.monotonic() < deadline, "the folders never became the same"
        time.sleep(0.1)


def _long_polls(log: Path, start: int) -> int:
    with log.open("rb") as handle:
        handle.seek(start)
        text = handle.read().decode(errors="replace")
    return sum(1 for line in text.splitlines() if "/changes?" in line and "wait=" in line)


def test_a_folder_of_files_reaches_the_other_device_and_the_long_polls_stay_few(
    server: RunningServer, token: str, tmp_path: Path
) -> None:
    env_a = environment(server, token, tmp_path / "config-a", device="laptop-A")
    env_b = environment(server, token, tmp_path / "config-b", device="laptop-B")
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    staging = tmp_path / "staging"
    for number in range(FILES):
        folder = staging / f"d{number % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{number:04}.txt").write_bytes(os.urandom(64 + number))
    running: list[subprocess.Popen[str]] = []
    outputs = []
    try:
        for name, folder, env in (("a", a, env_a), ("b", b, env_b)):
            output = tmp_path / f"out-{name}.txt"
            outputs.append(output)
            with output.open("w") as stdout:
                running.append(
                    subprocess.Popen(
                        [SFS, "sync", str(folder), "--json"],
                        env=env,
                        stdout=stdout,
                        stderr=subprocess.STDOUT,
                        text=True,
                    )
                )
        deadline = time.monotonic() + WAIT
        while not all('"event": "pass"' in output.read_text() for output in outputs):
            assert time.monotonic() < deadline, [output.read_text() for output in outputs]
            time.sleep(0.05)
        log_start = server.log.stat().st_size

        os.rename(staging, a / "moved-in")  # all at once, as a folder dragged in
        _until_same(a, b, running)
        assert len(_contents(b)) == FILES
        polls = _long_polls(server.log, log_start)

        # And back: an edit, a new file and a deletion made in B reach A.
        (b / "moved-in" / "d0" / "f0000.txt").write_bytes(b"edited in B")
        (b / "from-b.txt").write_bytes(b"new in B")
        (b / "moved-in" / "d1" / "f0001.txt").unlink()
        _until_same(a, b, running)
        assert (a / "moved-in" / "d0" / "f0000.txt").read_bytes() == b"edited in B"
        assert not (a / "moved-in" / "d1" / "f0001.txt").exists()
    finally:
        for client in running:
            if client.poll() is None:
                client.send_signal(signal.SIGINT)
        for client in running:
            try:
                client.wait(timeout=30)
            except subprocess.TimeoutExpired:
                client.kill()
                client.wait()
        shutil.rmtree(staging, ignore_errors=True)
    for output in outputs:
        assert "Traceback" not in output.read_text()
    # Each device's long poll is asked again once per pass of its loop (a handful here), not
    # once per file that went by while a pass ran (a request each: about 60 here before).
    assert polls <= FILES // 20, polls
