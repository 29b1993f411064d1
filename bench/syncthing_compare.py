"""Syncthing as the baseline for many small files: two local instances on 127.0.0.1 sharing one
folder, timed from the moment a tree is in place in A's folder until B holds all of it.

Run alone: .venv/bin/python -m bench.syncthing_compare [--files 10000] [--size 4096]
(`sync_bench` calls `first_sync` for its small-files scenario.)

Each instance gets its own home (`syncthing generate`), a config.xml with the GUI/REST API on
127.0.0.1 with an API key, a listen address on 127.0.0.1, and discovery, relays, NAT traversal,
usage and crash reporting and upgrades all off; each knows the other by address, and the folder
is shared between them (file watchers off: A is told to scan through the REST API; `Pair`
with `watch_delay` turns them on, as users run Syncthing). Both are stopped (REST shutdown,
then SIGTERM/SIGKILL by process id) whatever happens.
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from bench.sync_support import (
    cpu_seconds,
    free_port,
    peak_rss_mib,
    stop_process,
    tree_digest,
    wait_for,
    write_tree,
)

FOLDER_ID = "bench"
TIMEOUT = 3600.0


def binary() -> str | None:
    return shutil.which("syncthing")


def version() -> str:
    found = binary()
    if found is None:
        return "absent"
    return subprocess.run([found, "--version"], capture_output=True, text=True).stdout.strip()


@dataclass(frozen=True)
class Timing:
    scan: float  # until A had scanned the whole tree
    total: float  # until B held every file with its full content


class Instance:
    def __init__(self, home: Path, folder: Path, name: str) -> None:
        self.home, self.folder, self.name = home, folder, name
        found = binary()
        assert found is not None
        self.binary = found
        generated = subprocess.run(
            [found, "generate", f"--home={home}", "--no-default-folder"],
            capture_output=True,
            text=True,
            check=True,
        )
        match = re.search(r"Device ID: (\S+)", generated.stdout + generated.stderr)
        assert match, generated.stdout + generated.stderr
        self.device_id = match.group(1)
        self.gui_port, self.listen_port = free_port(), free_port()
        self.api_key = secrets.token_hex(16)
        self.process: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self.api = httpx.Client(
            base_url=f"http://127.0.0.1:{self.gui_port}",
            headers={"X-API-Key": self.api_key},
            timeout=TIMEOUT,
        )

    def configure(self, peer: Instance, watch_delay: float | None = None) -> None:
        """Everything off that reaches beyond loopback; the peer and the shared folder in.
        `watch_delay`: the folder's file watcher on, gathering events for that many seconds."""
        path = self.home / "config.xml"
        tree = ET.parse(path)  # noqa: S314 (the file `syncthing generate` just wrote)
        root = tree.getroot()
        gui = _child(root, "gui")
        gui.set("tls", "false")
        _child(gui, "address").text = f"127.0.0.1:{self.gui_port}"
        _child(gui, "apikey").text = self.api_key
        options = _child(root, "options")
        settings = {
            "listenAddress": f"tcp://127.0.0.1:{self.listen_port}",
            "globalAnnounceEnabled": "false",
            "localAnnounceEnabled": "false",
            "relaysEnabled": "false",
            "natEnabled": "false",
            "urAccepted": "-1",
            "crashReportingEnabled": "false",
            "autoUpgradeIntervalH": "0",
            "startBrowser": "false",
            "setLowPriority": "false",
            "stunKeepaliveStartS": "0",  # no STUN
        }
        for key, value in settings.items():
            element = options.find(key)
            if element is None:
                element = ET.SubElement(options, key)
            element.text = value
        for notice in options.findall("unackedNotificationID"):
            options.remove(notice)
        defaults = _child(root, "defaults")
        device = copy.deepcopy(_child(defaults, "device"))
        device.set("id", peer.device_id)
        device.set("name", peer.name)
        _child(device, "address").text = f"tcp://127.0.0.1:{peer.listen_port}"
        folder = copy.deepcopy(_child(defaults, "folder"))
        folder.attrib.update(
            id=FOLDER_ID,
            label=FOLDER_ID,
            path=str(self.folder),
            type="sendreceive",
            rescanIntervalS="3600",
            fsWatcherEnabled="false" if watch_delay is None else "true",
            fsWatcherDelayS=f"{watch_delay or 10:g}",
        )
        for member in folder.findall("device"):
            folder.remove(member)
        for device_id in (self.device_id, peer.device_id):
            member = ET.Element("device", id=device_id, introducedBy="")
            ET.SubElement(member, "encryptionPassword")
            folder.insert(1, member)
        position = list(root).index(gui)
        root.insert(position, folder)
        root.insert(position + 1, device)
        tree.write(path)
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / ".stfolder").mkdir(exist_ok=True)

    def start(self) -> None:
        self._log = (self.home / "syncthing.log").open("w")
        # STMONITORED: run Syncthing itself, without its monitor parent process (one pid to stop).
        environment = {**os.environ, "STNORESTART": "1", "STNOUPGRADE": "1", "STMONITORED": "yes"}
        self.process = subprocess.Popen(
            [
                self.binary,
                "serve",
                f"--home={self.home}",
                "--no-browser",
                "--no-restart",
                "--no-upgrade",
                "--no-default-folder",
            ],
            env=environment,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_until_ready(self) -> None:
        def answers() -> bool:
            if self.process is None or self.process.poll() is not None:
                log = (self.home / "syncthing.log").read_text()
                raise RuntimeError(f"syncthing {self.name} exited:\n{log[-3000:]}")
            try:
                return self.api.get("/rest/system/ping", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(answers, 60, f"syncthing {self.name}'s REST API")

    def connected_to(self, peer: Instance) -> bool:
        connections = self.api.get("/rest/system/connections").json()["connections"]
        return bool(connections.get(peer.device_id, {}).get("connected"))

    def status(self) -> dict[str, Any]:
        answer = self.api.get("/rest/db/status", params={"folder": FOLDER_ID})
        answer.raise_for_status()
        data: dict[str, Any] = answer.json()
        return data

    def scan(self) -> None:
        """Scan the folder now (the call returns once the scan is done)."""
        self.api.post("/rest/db/scan", params={"folder": FOLDER_ID}).raise_for_status()

    def cpu(self) -> float:
        assert self.process is not None
        return cpu_seconds(self.process.pid)

    def peak_rss_mib(self) -> float:
        assert self.process is not None
        return peak_rss_mib(self.process.pid)

    def bytes_with(self, peer: Instance) -> int:
        """Bytes sent and received on the connection to `peer` so far (Syncthing's own count:
        protocol messages, compressed where it compresses, inside TLS)."""
        connections = self.api.get("/rest/system/connections").json()["connections"]
        connection = connections[peer.device_id]
        return int(connection["inBytesTotal"]) + int(connection["outBytesTotal"])

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                try:
                    self.api.post("/rest/system/shutdown", timeout=5)
                    self.process.wait(timeout=20)
                except (httpx.HTTPError, subprocess.TimeoutExpired):
                    pass
            stop_process(self.process)
        self.api.close()
        if self._log is not None:
            self._log.close()


def _child(parent: ET.Element, tag: str) -> ET.Element:
    element = parent.find(tag)
    assert element is not None, f"config.xml has no <{tag}>"
    return element


class Pair:
    """Instances A and B sharing one folder, started, connected and idle inside `with`, stopped
    on the way out. `watch_delay`: file watchers on (seconds of events gathered per scan)."""

    def __init__(self, work: Path, watch_delay: float | None = None, tag: str = "") -> None:
        self.a = Instance(work / f"st-home-a{tag}", work / f"st-a{tag}", "bench-a")
        self.b = Instance(work / f"st-home-b{tag}", work / f"st-b{tag}", "bench-b")
        self.a.configure(self.b, watch_delay)
        self.b.configure(self.a, watch_delay)
        self._scan_errors: list[BaseException] = []

    def __enter__(self) -> Pair:
        try:
            a, b = self.a, self.b
            a.start()
            b.start()
            a.wait_until_ready()
            b.wait_until_ready()
            wait_for(lambda: a.connected_to(b) and b.connected_to(a), 120, "A and B to connect")
            self.wait_idle()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        self.b.stop()
        self.a.stop()

    def wait_idle(self, timeout: float = 120) -> None:
        def idle() -> bool:
            there, here = self.a.status(), self.b.status()
            return there["state"] == "idle" and here["state"] == "idle" and here["needFiles"] == 0

        wait_for(idle, timeout, "both folders to be idle")

    def scan_a(self) -> threading.Thread:
        """A scans in a thread of its own (the REST call returns after the scan); failures
        are raised by `check`."""

        def scan() -> None:
            try:
                self.a.scan()
            except BaseException as problem:  # reported by the main thread
                self._scan_errors.append(problem)

        scanner = threading.Thread(target=scan, daemon=True)
        scanner.start()
        return scanner

    def check(self) -> None:
        if self._scan_errors:
            raise self._scan_errors[0]


def first_sync(work: Path, source: Path) -> Timing:
    """Syncthing A → B of the tree at `source` (copied in, never changed): seconds."""
    with Pair(work) as pair:
        a, b = pair.a, pair.b
        # Copied beside A's folder on the same disk, then moved in: in place in an instant.
        staging = work / "st-staging"
        shutil.copytree(source, staging, ignore=shutil.ignore_patterns(".sfs"))
        count, digest = tree_digest(staging)
        for item in sorted(staging.iterdir()):
            os.rename(item, a.folder / item.name)
        start = time.perf_counter()
        scanner = pair.scan_a()
        scanned: float | None = None
        deadline = start + TIMEOUT
        while time.perf_counter() < deadline:
            pair.check()
            if scanned is None:
                there = a.status()
                if there["state"] == "idle" and there["localFiles"] >= count:
                    scanned = time.perf_counter() - start
            here = b.status()
            if here["localFiles"] >= count and here["needFiles"] == 0 and here["state"] == "idle":
                break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"syncthing B did not get {count} files in {TIMEOUT:.0f} s")
        total = time.perf_counter() - start
        scanner.join(timeout=60)
        got = tree_digest(b.folder)
        if got != (count, digest):
            raise RuntimeError(f"syncthing B holds {got[0]} files, not the {count} sent")
        return Timing(scan=scanned if scanned is not None else total, total=total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--dir", type=Path, default=None, help="parent of the work folder")
    args = parser.parse_args()
    if binary() is None:
        print("syncthing: not installed (apt-get install -y syncthing); comparison skipped")
        return
    work = Path(tempfile.mkdtemp(prefix="sfs-bench-st-", dir=args.dir))
    try:
        write_tree(work / "tree", args.files, args.size, per_folder=500)
        timing = first_sync(work, work / "tree")
        print(
            f"syncthing    {args.files} x {args.size} B A → B ({version().split(' (')[0]}):"
            f" {args.files / timing.total:8.0f} files/s ({timing.total:.2f} s,"
            f" A's scan done after {timing.scan:.2f} s)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
