"""What the sync benchmarks share: a real `sfs serve`, fresh accounts, `sfs sync` runs measured
for time and peak memory, test trees (the loopback relay and rsync daemon: bench.sync_loopback).

Every process started here is stopped by whoever started it, in a `finally`; `stop_process`
ends one by its id (SIGTERM, then SIGKILL after a grace period).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from sfs.app import build_services
from sfs.config import load_settings
from sfs.domain.actor import ClientInfo, operator

MiB = 1024 * 1024
SFS = str(Path(sys.executable).with_name("sfs"))
PASSWORD = "bench-orbit-ladder-93-quietly"  # noqa: S105 (a throwaway account on a local server)
CLIENT = ClientInfo(address="127.0.0.1", user_agent="bench")


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its living children so far (fields 14 and 15
    of /proc/PID/stat): `sfs serve --workers N` serves from child processes."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    own = (int(fields[11]) + int(fields[12])) / _TICKS
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        children = []
    return own + sum(cpu_seconds(int(child)) for child in children)


def peak_rss_mib(pid: int) -> float:
    """A running process's peak resident set so far (VmHWM of /proc/PID/status), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/{pid}/status has no VmHWM")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stop_process(process: subprocess.Popen[Any], grace: float = 15.0) -> None:
    """SIGTERM, then SIGKILL if it has not gone after `grace` seconds; reaps it either way."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(condition: Callable[[], bool], timeout: float, what: str, pause: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(pause)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


class SfsServer:
    """`sfs serve` on 127.0.0.1 with its own data folder (SQLite, local blobs)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir.parent / f"serve-{self.port}.log"
        self._log = self.log.open("w")
        environment = {
            **os.environ,
            "SFS_DATA_DIR": str(data_dir),
            "SFS_PORT": str(self.port),
            "PYTHONUNBUFFERED": "1",
        }
        self.process = subprocess.Popen(
            [SFS, "serve"], env=environment, stdout=self._log, stderr=subprocess.STDOUT
        )

    def wait_until_ready(self, timeout: float = 60.0) -> None:
        def answers() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"sfs serve exited early:\n{self.log.read_text()}")
            try:
                return httpx.get(f"{self.base_url}/login", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(answers, timeout, "sfs serve to answer")

    def blob_bytes(self) -> int:
        """Bytes in the blob folder (sealed chunks in packs, plus pack trailers)."""
        total = 0
        for folder, _, files in os.walk(self.data_dir / "blobs"):
            for name in files:
                with contextlib.suppress(FileNotFoundError):  # a temporary file renamed
                    total += os.stat(os.path.join(folder, name)).st_size
        return total

    def stop(self) -> None:
        stop_process(self.process)
        self._log.close()


class ServerAt(Protocol):
    """What accounts are made on: a server's data folder (for its services) and its address."""

    data_dir: Path
    base_url: str


@dataclass(frozen=True)
class Account:
    email: str
    token: str
    env: dict[str, str]  # the environment for `sfs` (its own client config folder)


def new_account(
    server: ServerAt, work: Path, name: str, *, server_url: str | None = None
) -> Account:
    """A fresh organisation and user (an empty My Files), logged in as a device.

    `server_url` is what the client is told to talk to (a relay in front of the server)."""
    email = f"{name}@bench.example.com"
    services = build_services(load_settings(data_dir=server.data_dir))
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
        f"{server.base_url}/api/v1/auth/login",
        json={"email": email, "password": PASSWORD, "device_name": name},
    ).json()["token"]
    config = work / f"config-{name}"
    config.mkdir()
    credentials = {
        "server_url": server_url or server.base_url,
        "token": token,
        "email": email,
        "device_name": name,
    }
    (config / "credentials.json").write_text(json.dumps(credentials))
    os.chmod(config / "credentials.json", 0o600)
    return Account(email, str(token), {**os.environ, "SFS_CLIENT_CONFIG_DIR": str(config)})


def new_device(
    server: SfsServer, work: Path, account: Account, name: str, *, server_url: str | None = None
) -> Account:
    """The same user logged in on a second device (its own token and client config)."""
    token = httpx.post(
        f"{server.base_url}/api/v1/auth/login",
        json={"email": account.email, "password": PASSWORD, "device_name": name},
    ).json()["token"]
    config = work / f"config-{name}"
    config.mkdir()
    credentials = {
        "server_url": server_url or server.base_url,
        "token": token,
        "email": account.email,
        "device_name": name,
    }
    (config / "credentials.json").write_text(json.dumps(credentials))
    os.chmod(config / "credentials.json", 0o600)
    return Account(account.email, str(token), {**os.environ, "SFS_CLIENT_CONFIG_DIR": str(config)})


@dataclass(frozen=True)
class Run:
    """One child process: wall time (process start included), exit code, peak resident set."""

    elapsed: float
    returncode: int
    peak_rss_kib: int
    output: str

    @property
    def peak_rss_mib(self) -> float:
        return self.peak_rss_kib / 1024


TIME = "/usr/bin/time"
# Without GNU time: a small interpreter forks and execs the command and reports its ru_maxrss.
# (wait4 on a child of this process would count this process's own pages, copied at the fork.)
LAUNCH = """
import os, resource, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
open(sys.argv[1], "w").write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(
    command: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> Run:
    """Run a command to its end: wall time, exit code, output, and its peak RSS (ru_maxrss of
    the command alone, through GNU time, else through a minimal launcher)."""
    with tempfile.TemporaryDirectory(prefix="sfs-bench-run-") as scratch:
        rss_file = Path(scratch) / "maxrss"
        if os.path.exists(TIME):
            wrapped = [TIME, "-f", "%M", "-o", str(rss_file), *command]
        else:
            wrapped = [sys.executable, "-S", "-c", LAUNCH, str(rss_file), *command]
        with (Path(scratch) / "output").open("w+") as out:
            start = time.perf_counter()
            process = subprocess.Popen(  # its own process group: the command dies with it
                wrapped,
                env=env,
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                returncode = process.wait()
            except BaseException:
                os.killpg(process.pid, signal.SIGKILL)  # the group this call created
                process.wait()
                raise
            elapsed = time.perf_counter() - start
            out.seek(0)
            output = out.read()
        peak = int(rss_file.read_text().split()[-1])
        return Run(elapsed, returncode, peak, output)


@dataclass(frozen=True)
class SyncRun(Run):
    summary: dict[str, int]


def sync_once(folder: Path, account: Account) -> SyncRun:
    """`sfs sync FOLDER --once --json` as its own process; fails unless both sides match."""
    run = run_measured([SFS, "sync", str(folder), "--once", "--json"], env=account.env)
    passes = [json.loads(line) for line in run.output.splitlines() if '"event": "pass"' in line]
    if run.returncode != 0 or not passes:
        tail = "\n".join(run.output.splitlines()[-20:])
        raise RuntimeError(f"sfs sync {folder} --once exited {run.returncode}:\n{tail}")
    return SyncRun(run.elapsed, run.returncode, run.peak_rss_kib, "", passes[-1])


def write_tree(root: Path, count: int, size: int, per_folder: int) -> None:
    """`count` files of `size` random bytes, `per_folder` to a folder: root/d000/f000000.bin."""
    for n in range(count):
        folder = root / f"d{n // per_folder:03}"
        if n % per_folder == 0:
            folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{n:06}.bin").write_bytes(os.urandom(size))


def tree_digest(root: Path, skip: Sequence[str] = (".sfs", ".stfolder")) -> tuple[int, str]:
    """(number of files, one SHA-256 over every relative path and content) of a tree."""
    digest = hashlib.sha256()
    count = 0
    for folder, folders, files in os.walk(root):
        folders[:] = sorted(f for f in folders if f not in skip)
        for name in sorted(files):
            path = Path(folder) / name
            digest.update(str(path.relative_to(root)).encode() + b"\0")
            digest.update(path.read_bytes())
            count += 1
    return count, digest.hexdigest()


def write_random(path: Path, size: int) -> None:
    with path.open("wb") as handle:
        for start in range(0, size, 16 * MiB):
            handle.write(os.urandom(min(16 * MiB, size - start)))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(4 * MiB):
            digest.update(block)
    return digest.hexdigest()


def timed(command: Sequence[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def check_free_space(folder: Path, needed: int, what: str) -> None:
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise SystemExit(f"{what} needs ~{needed / 2**30:.1f} GiB free in {folder}, has less")


def blocks(path: Path, size: int = 4 * MiB) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while block := handle.read(size):
            yield block
