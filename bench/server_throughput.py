"""Server throughput and CPU, the current code next to another checkout of sfs, in interleaved
rounds of the same run (the machine is shared: ratios between the two say more than absolutes).

Run: .venv/bin/python -m bench.server_throughput [--baseline SRC] [--rounds 2]
         [--only big,small,rclone,listing] [--big-mib 1024] [--small-files 10000]
         [--rclone-files 1000] [--rclone PATH] [--rclone-pacer-min-sleep DURATION]
         [--wsgidav PATH] [--callers 16] [--seconds 10]
         [--workers 1] [--redis URL] [--dir DIR]

`--baseline SRC` is the `src` folder of another checkout (e.g. `git archive main | tar -x -C
/tmp/base`); each round then starts one `sfs serve` per code (SQLite, local blobs), fresh
accounts, and runs every scenario against each in turn. The clients (`sfs sync`, rclone,
wrk) are the same for both. Scenarios:

- big: a random --big-mib file up by `sfs sync --once`, then down into an empty folder
  (checked byte for byte): MiB/s, and the server's CPU seconds (user + system, from
  /proc/PID/stat) per GiB;
- small: --small-files files of 4 KiB up by one `sfs sync --once` pass: files/s and server CPU;
- rclone: `rclone copy` of --rclone-files x 4 KiB over WebDAV (`--transfers 8`): files/s and
  the server's CPU per file, next to WsgiDAV's filesystem provider (--wsgidav: its `wsgidav`
  executable, e.g. from a throw-away virtualenv) on the same disk, in the same round (before
  the sfs servers in odd rounds, after them in even ones). --rclone picks the rclone binary
  (default: the one on PATH) and --rclone-pacer-min-sleep its `--webdav-pacer-min-sleep`
  (rclone 1.61 and later; its default of 10 ms between calls caps a copy at about 33 files/s
  whatever the server), both the same for every server; the report names the rclone version;
- listing: `GET /spaces/me/children?path=/` of a folder of 20 files with a device token,
  --callers concurrent connections for --seconds (wrk, Debian package `wrk`): requests/s,
  p50 and p99 latency, next to one caller alone. With --workers N > 1 it runs on a server of
  its own started with SFS_WORKERS=N, throttles and change notification in --redis (code that
  knows no SFS_WORKERS serves in one process); CPU is summed over the server's processes.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import select

from bench.sync_support import (
    CLIENT,
    SFS,
    Account,
    MiB,
    cpu_seconds,
    file_sha256,
    free_port,
    new_account,
    stop_process,
    sync_once,
    wait_for,
    write_random,
    write_tree,
)
from sfs.app import build_services
from sfs.config import load_settings
from sfs.metadata.models import User
from sfs.services.identity.actors import actor_of

SCENARIOS = ("big", "small", "rclone", "listing")


class Server:
    """`sfs serve` running the code under `source` (a `src` folder) on 127.0.0.1."""

    def __init__(
        self, name: str, source: Path, work: Path, environment: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self.data_dir = work / f"data-{name}"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        work.mkdir(parents=True, exist_ok=True)
        self.log = work / f"serve-{name}.log"
        self._log = self.log.open("w")
        environment = {
            **os.environ,
            "PYTHONPATH": f"{source}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
            "SFS_DATA_DIR": str(self.data_dir),
            "SFS_PORT": str(self.port),
            "PYTHONUNBUFFERED": "1",
            **(environment or {}),
        }
        self.process = subprocess.Popen(
            [SFS, "serve"], env=environment, stdout=self._log, stderr=subprocess.STDOUT
        )

        def answers() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"sfs serve exited early:\n{self.log.read_text()}")
            try:
                return httpx.get(f"{self.base_url}/login", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(answers, 60, "sfs serve to answer")

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid)

    def stop(self) -> None:
        stop_process(self.process)
        self._log.close()


Results = dict[str, dict[str, list[float]]]  # figure -> code name -> one value per round


def measured(server: Server, action: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, server CPU seconds) of `action`."""
    cpu, start = server.cpu(), time.perf_counter()
    action()
    return time.perf_counter() - start, server.cpu() - cpu


def big(server: Server, work: Path, mib: int, results: Results, round_no: int) -> None:
    account = new_account(server, work, f"big{round_no}{server.name}")
    folder = work / f"big-up-{server.name}"
    folder.mkdir()
    write_random(folder / "big.bin", mib * MiB)
    os.sync()
    wall, cpu = measured(server, lambda: _synced(folder, account, "uploaded", 1))
    results["big up MiB/s"][server.name].append(mib / wall)
    results["big up server CPU s/GiB"][server.name].append(cpu * 1024 / mib)
    target = work / f"big-down-{server.name}"
    target.mkdir()  # sfs sync refuses a folder that does not exist
    wall, cpu = measured(server, lambda: _synced(target, account, "downloaded", 1))
    assert file_sha256(target / "big.bin") == file_sha256(folder / "big.bin"), "download differs"
    results["big down MiB/s"][server.name].append(mib / wall)
    results["big down server CPU s/GiB"][server.name].append(cpu * 1024 / mib)
    shutil.rmtree(folder)
    shutil.rmtree(target)


def small(server: Server, work: Path, count: int, results: Results, round_no: int) -> None:
    account = new_account(server, work, f"small{round_no}{server.name}")
    folder = work / f"small-{server.name}"
    write_tree(folder, count, 4096, per_folder=1000)
    wall, cpu = measured(server, lambda: _synced(folder, account, "uploaded", count))
    results["small up files/s"][server.name].append(count / wall)
    results["small up server CPU ms/file"][server.name].append(cpu * 1000 / count)
    shutil.rmtree(folder)


def _synced(folder: Path, account: Account, what: str, count: int) -> None:
    run = sync_once(folder, account)
    assert run.summary[what] == count and run.summary["failed"] == 0, run.summary


def app_password(server: Server, account: Account) -> str:
    services = build_services(load_settings(data_dir=server.data_dir))
    try:
        with services.database.transaction() as session:
            user = session.scalars(select(User).where(User.email == account.email)).one()
            person = actor_of(user)
        return services.app_passwords.create(person, name="bench", client=CLIENT).secret
    finally:
        services.database.dispose()


class Rclone:
    """One rclone binary and the flags every copy of the run gets, whichever server it meets."""

    def __init__(self, binary: str, pacer_min_sleep: str | None) -> None:
        self.binary = binary
        self.flags = ["--webdav-pacer-min-sleep", pacer_min_sleep] if pacer_min_sleep else []
        self.version = subprocess.run(
            [binary, "version"], capture_output=True, text=True, check=True
        ).stdout.splitlines()[0]

    def describe(self) -> str:
        return " ".join([self.version, *self.flags])


def rclone_copy(
    client: Rclone, source: Path, url: str, user: str = "", password: str = ""
) -> float:
    environment = {
        **os.environ,
        "RCLONE_CONFIG_BENCH_TYPE": "webdav",
        "RCLONE_CONFIG_BENCH_URL": url,
        "RCLONE_CONFIG_BENCH_VENDOR": "other",
    }
    if user:
        obscured = subprocess.run(
            [client.binary, "obscure", password], capture_output=True, text=True, check=True
        ).stdout.strip()
        environment["RCLONE_CONFIG_BENCH_USER"] = user
        environment["RCLONE_CONFIG_BENCH_PASS"] = obscured
    start = time.perf_counter()
    subprocess.run(
        [client.binary, "copy", "--transfers", "8", *client.flags, str(source), "bench:small"],
        env=environment,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def rclone_source(work: Path, count: int) -> Path:
    """The --rclone-files files every copy of the run sends, written once."""
    folder = work / "rclone-source"
    if not folder.exists():
        folder.mkdir()
        for n in range(count):
            (folder / f"f{n:04d}.bin").write_bytes(os.urandom(4096))
    return folder


def rclone(
    client: Rclone, server: Server, work: Path, count: int, results: Results, round_no: int
) -> None:
    account = new_account(server, work, f"dav{round_no}{server.name}")
    secret = app_password(server, account)
    folder = rclone_source(work, count)
    cpu = server.cpu()
    seconds = rclone_copy(client, folder, f"{server.base_url}/dav/", account.email, secret)
    results["rclone files/s"][server.name].append(count / seconds)
    results["rclone server CPU ms/file"][server.name].append((server.cpu() - cpu) * 1000 / count)


_WSGIDAV_FLAGS = ("--auth=anonymous", "--no-config", "-q")


def rclone_wsgidav(client: Rclone, wsgidav: str, work: Path, count: int, results: Results) -> None:
    root = work / "wsgidav-root"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir()
    port = free_port()
    with (work / "wsgidav.log").open("w") as log:
        process = subprocess.Popen(
            [wsgidav, "--host=127.0.0.1", f"--port={port}", f"--root={root}", *_WSGIDAV_FLAGS],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:

            def answers() -> bool:
                try:
                    httpx.request("OPTIONS", f"http://127.0.0.1:{port}/", timeout=1)
                    return True
                except httpx.TransportError:
                    return False

            wait_for(answers, 30, "WsgiDAV to answer")
            folder = rclone_source(work, count)
            cpu = cpu_seconds(process.pid)
            seconds = rclone_copy(client, folder, f"http://127.0.0.1:{port}/")
            results["rclone files/s"]["WsgiDAV"].append(count / seconds)
            results["rclone server CPU ms/file"]["WsgiDAV"].append(
                (cpu_seconds(process.pid) - cpu) * 1000 / count
            )
        finally:
            stop_process(process)


_LATENCY = re.compile(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, token: str, callers: int, seconds: int) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms) of `callers` keep-alive connections for `seconds`."""
    header = f"Authorization: Bearer {token}"
    output = subprocess.run(
        [
            "wrk",
            f"-t{min(callers, 2)}",
            f"-c{callers}",
            f"-d{seconds}s",
            "--latency",
            "-H",
            header,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk saw refusals:\n{output}")
    rate = _RATE.search(output)
    latencies = {m[0]: float(m[1]) * _UNITS[m[2]] for m in _LATENCY.findall(output)}
    assert rate and len(latencies) == 2, output
    return float(rate.group(1)), latencies["50"], latencies["99"]


def listing(
    server: Server, work: Path, callers: int, seconds: int, results: Results, round_no: int
) -> None:
    account = new_account(server, work, f"list{round_no}{server.name}")
    folder = work / f"list-{server.name}"
    folder.mkdir()
    for n in range(20):
        (folder / f"f{n:02d}.txt").write_bytes(b"x" * 100)
    _synced(folder, account, "uploaded", 20)
    url = f"{server.base_url}/api/v1/spaces/me/children?path=/"
    cpu = server.cpu()
    rate, p50, p99 = wrk(url, account.token, callers, seconds)
    results[f"listing {callers} callers req/s"][server.name].append(rate)
    results[f"listing {callers} callers p50 ms"][server.name].append(p50)
    results[f"listing {callers} callers p99 ms"][server.name].append(p99)
    results["listing server CPU ms/req"][server.name].append(
        (server.cpu() - cpu) * 1000 / (rate * seconds)
    )
    rate, _, _ = wrk(url, account.token, 1, max(seconds // 2, 2))
    results["listing 1 caller req/s"][server.name].append(rate)
    shutil.rmtree(folder)


def report(results: Results, names: list[str]) -> None:
    print(f"\n{'figure (median of rounds)':<36}" + "".join(f"{n:>14}" for n in names) + "  ratio")
    for figure, by_name in results.items():
        cells, medians = [], []
        for name in names:
            values = by_name.get(name, [])
            median = statistics.median(values) if values else None
            medians.append(median)
            cells.append(f"{median:14.2f}" if median is not None else f"{'':>14}")
        ratio = ""
        if len(names) >= 2 and medians[0] and medians[1] is not None:
            ratio = f"  {medians[1] / medians[0]:.2f}x"
        print(f"{figure:<36}" + "".join(cells) + ratio)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="the src folder of the code to compare")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", default=",".join(SCENARIOS))
    parser.add_argument("--big-mib", type=int, default=1024)
    parser.add_argument("--small-files", type=int, default=10_000)
    parser.add_argument("--rclone-files", type=int, default=1000)
    parser.add_argument("--rclone", default="rclone", help="the rclone binary to copy with")
    parser.add_argument(
        "--rclone-pacer-min-sleep",
        help="rclone's --webdav-pacer-min-sleep (e.g. 0 or 1ms; rclone 1.61 and later)",
    )
    parser.add_argument("--wsgidav", help="a wsgidav executable, to run beside rclone")
    parser.add_argument("--callers", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1, help="SFS_WORKERS for the listing")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13", help="with --workers")
    parser.add_argument("--dir", type=Path, default=None)
    options = parser.parse_args()
    only = set(options.only.split(","))
    if "listing" in only and shutil.which("wrk") is None:
        raise SystemExit("the listing scenario needs wrk (apt-get install wrk)")
    current = Path(__file__).resolve().parent.parent / "src"
    codes = [("baseline", options.baseline)] if options.baseline else []
    codes.append(("current", current))
    names = [name for name, _ in codes] + (["WsgiDAV"] if options.wsgidav else [])
    work = Path(tempfile.mkdtemp(prefix="sfs-throughput-", dir=options.dir))
    results: Results = defaultdict(lambda: defaultdict(list))
    client = Rclone(options.rclone, options.rclone_pacer_min_sleep) if "rclone" in only else None
    print(
        f"server_throughput: {options.rounds} rounds of {sorted(only)}, in {work}"
        + (f"; listing with {options.workers} workers" if options.workers > 1 else "")
        + (f"; {client.describe()}" if client else "")
    )
    try:
        for round_no in range(options.rounds):
            # Alternate which code goes first, so neither always meets a cold or warm disk.
            order = codes if round_no % 2 == 0 else list(reversed(codes))
            if client and options.wsgidav and round_no % 2 == 1:
                rclone_wsgidav(client, options.wsgidav, work, options.rclone_files, results)
            for name, source in order:
                server = Server(name, source, work / f"r{round_no}")
                try:
                    if "big" in only:
                        big(server, work, options.big_mib, results, round_no)
                    if "small" in only:
                        small(server, work, options.small_files, results, round_no)
                    if client:
                        rclone(client, server, work, options.rclone_files, results, round_no)
                    if "listing" in only and options.workers > 1:
                        workers = {
                            "SFS_WORKERS": str(options.workers),
                            "SFS_RATE_LIMIT_STORAGE": options.redis,
                            "SFS_CHANGE_NOTIFICATION": options.redis,
                        }
                        lister = Server(name, source, work / f"r{round_no}-list", workers)
                        try:
                            listing(
                                lister, work, options.callers, options.seconds, results, round_no
                            )
                        finally:
                            lister.stop()
                    elif "listing" in only:
                        listing(server, work, options.callers, options.seconds, results, round_no)
                finally:
                    server.stop()
            if client and options.wsgidav and round_no % 2 == 0:
                rclone_wsgidav(client, options.wsgidav, work, options.rclone_files, results)
            print(f"round {round_no + 1} done")
        report(results, names)
        if client:
            print(f"rclone: {client.describe()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
