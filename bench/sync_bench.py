"""Sync figures against a real `sfs serve` on loopback, next to rsync measured in the same run.

Run: .venv/bin/python -m bench.sync_bench [--small-files 10000] [--rescan-files 100000]
                                            [--big-mib 256] [--propagation 20]

- many small files: first `sync --once` of N files of 4 KiB into an empty space, files/s,
  next to `rsync -a` of the same tree into an empty folder on the same disk;
- rescan: a second `sync --once` over the unchanged tree (stat only, no hashing), seconds;
- delta: bytes sent to sync a 1 MiB insertion into the middle of a big file, next to
  `rsync --stats --no-whole-file` for the same edit;
- propagation: a file written in client A's folder until it is whole in client B's, with both
  clients running (`sfs sync`), median and worst.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from tests.e2e.test_quick_start import RunningServer

from sfs.app import build_services
from sfs.config import load_settings
from sfs.domain.actor import ClientInfo, operator

SFS = str(Path(sys.executable).with_name("sfs"))
PASSWORD = "bench-orbit-ladder-93-quietly"  # noqa: S105 (a throwaway account on a local server)
CLIENT = ClientInfo(address="127.0.0.1", user_agent="bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small-files", type=int, default=10_000)
    parser.add_argument("--rescan-files", type=int, default=0, help="default: the small files")
    parser.add_argument("--big-mib", type=int, default=256)
    parser.add_argument("--propagation", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sfs-bench-"))
    server = RunningServer(work / "sfs-data")
    try:
        server.wait_until_ready()
        small_files(work, _account(server, work, "small"), args.small_files)
        if args.rescan_files:
            rescan(work, _account(server, work, "rescan"), args.rescan_files)
        delta(work, _account(server, work, "delta"), args.big_mib)
        propagation(work, _account(server, work, "propagation"), args.propagation)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def _account(server: RunningServer, work: Path, name: str) -> dict[str, str]:
    """A fresh user (an empty My Files) per scenario, logged in; the environment for `sfs`."""
    email = f"{name}@bench.example.com"
    services = build_services(load_settings(data_dir=work / "sfs-data"))
    try:
        organisation = services.organisations.create(operator(), name=name, client=CLIENT)
        services.accounts.create_user(
            operator(),
            organization_id=organisation.id,
            email=email,
            display_name="Timing Runner",
            password=PASSWORD,
            client=CLIENT,
        )
    finally:
        services.database.dispose()
    token = httpx.post(
        f"{server.base_url}/api/v1/auth/login", json={"email": email, "password": PASSWORD}
    ).json()["token"]
    config = work / f"config-{name}"
    config.mkdir()
    credentials = {
        "server_url": server.base_url,
        "token": token,
        "email": email,
        "device_name": name,
    }
    (config / "credentials.json").write_text(json.dumps(credentials))
    os.chmod(config / "credentials.json", 0o600)
    return {**os.environ, "SFS_CLIENT_CONFIG_DIR": str(config)}


def _sync_once(folder: Path, env: dict[str, str]) -> tuple[float, dict[str, int]]:
    start = time.perf_counter()
    done = subprocess.run(
        [SFS, "sync", str(folder), "--once", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - start
    summary = [json.loads(line) for line in done.stdout.splitlines() if '"event": "pass"' in line][
        -1
    ]
    return elapsed, summary


def _tree(root: Path, count: int) -> None:
    for n in range(count):
        folder = root / f"d{n // 500:03}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{n:06}.bin").write_bytes(os.urandom(4096))


def small_files(work: Path, env: dict[str, str], count: int) -> None:
    source = work / "small"
    _tree(source, count)
    start = time.perf_counter()
    subprocess.run(["rsync", "-a", f"{source}/", f"{work / 'rsync-copy'}/"], check=True)
    rsync_rate = count / (time.perf_counter() - start)
    elapsed, summary = _sync_once(source, env)
    rate = count / elapsed
    print(
        f"small files  {count} x 4 KiB first sync: sfs {rate:8.0f} files/s"
        f"   rsync -a (local) {rsync_rate:8.0f} files/s   ratio {rate / rsync_rate:.2f}"
    )
    again, _ = _sync_once(source, env)
    print(f"rescan       {count} unchanged files: {again:.2f} s (stat only)")
    assert summary["uploaded"] == count, summary


def rescan(work: Path, env: dict[str, str], count: int) -> None:
    folder = work / "rescan"
    _tree(folder, count)
    _sync_once(folder, env)
    elapsed, _ = _sync_once(folder, env)
    print(f"rescan       {count} unchanged files: {elapsed:.2f} s")


def delta(work: Path, env: dict[str, str], big_mib: int) -> None:
    folder = work / "delta"
    folder.mkdir()
    body = os.urandom(big_mib * 1024 * 1024)
    (folder / "big.bin").write_bytes(body)
    start = time.perf_counter()
    shutil.copyfile(folder / "big.bin", work / "big-copy.bin")
    os.sync()
    copy_rate = big_mib / (time.perf_counter() - start)
    elapsed, first = _sync_once(folder, env)
    print(
        f"large file   {big_mib} MiB first sync up: {big_mib / elapsed:.1f} MiB/s"
        f"   cp+sync {copy_rate:.1f} MiB/s   ratio {big_mib / elapsed / copy_rate:.2f}"
        f"   ({first['uploaded']} uploaded, {first['failed']} failed)"
    )
    middle = len(body) // 2
    edited = body[:middle] + os.urandom(1024 * 1024) + body[middle:]
    (folder / "big.bin").write_bytes(edited)
    _, summary = _sync_once(folder, env)
    before, after = work / "rs-before", work / "rs-after"
    before.mkdir()
    after.mkdir()
    (before / "big.bin").write_bytes(body)
    (after / "big.bin").write_bytes(edited)
    stats = subprocess.run(
        [
            "rsync",
            "--stats",
            "--no-whole-file",
            "--ignore-times",
            str(after / "big.bin"),
            str(before / "big.bin"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rsync_sent = int(re.search(r"Total bytes sent: ([\d,]+)", stats).group(1).replace(",", ""))  # type: ignore[union-attr]
    sent, total = summary["bytes_sent"], summary["bytes_sent_total"]
    print(
        f"delta        1 MiB inserted into {big_mib} MiB: sfs sent {total:,} B in all"
        f" ({sent:,} B of chunks)   rsync {rsync_sent:,} B   ratio {total / rsync_sent:.2f}"
    )


def propagation(work: Path, env: dict[str, str], rounds: int) -> None:
    a, b = work / "prop-a", work / "prop-b"
    a.mkdir()
    b.mkdir()
    clients = [
        subprocess.Popen([SFS, "sync", str(folder), "--quiet"], env=env) for folder in (a, b)
    ]
    try:
        time.sleep(3)  # both clients up and polling
        latencies = []
        for n in range(rounds):
            name = f"p{n}.bin"
            data = os.urandom(10_000)
            start = time.perf_counter()
            (a / name).write_bytes(data)
            deadline = start + 60
            while time.perf_counter() < deadline:
                target = b / name
                if target.exists() and target.read_bytes() == data:
                    break
                time.sleep(0.005)
            latencies.append(time.perf_counter() - start)
        median, worst = statistics.median(latencies), max(latencies)
        print("             each:", " ".join(f"{latency:.2f}" for latency in latencies))
        print(
            f"propagation  A → B over {rounds} files: median {median:.2f} s   worst {worst:.2f} s"
        )
    finally:
        for client in clients:
            client.terminate()
            client.wait(timeout=10)


if __name__ == "__main__":
    main()
