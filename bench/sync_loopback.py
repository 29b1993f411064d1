"""Loopback helpers for the sync benchmarks: a TCP relay that counts (and may throttle) what a
client sends to `sfs serve` and what it receives, and an rsync daemon for a delta baseline over
TCP. Both are stopped
by whoever starts them, in a `finally`.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import threading
import time
from pathlib import Path

from bench.sync_support import MiB, free_port, stop_process, wait_for


class CountingRelay:
    """A TCP relay on 127.0.0.1 in front of the server that counts what clients send through it
    (every byte of every request: headers, JSON, chunk batches) and what they receive (every
    byte of every answer), and where in the sent count the last request starting with `marker`
    began."""

    def __init__(self, target_port: int, marker: bytes = b"POST /api/v1/chunks/batch ") -> None:
        self._target = target_port
        self._marker = marker
        self.marker_at = -1
        self.requests = 0  # request lines seen since the last take()
        # Bytes per second clients may send when set: a slow link, where the client blocks
        # in the middle of a batch. A small receive buffer keeps the kernel from absorbing it.
        self.rate: float | None = None
        self._next_send = 0.0
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 256 * 1024)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port = int(self._listener.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        self._sent = 0
        self._received = 0
        self._open = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def take(self) -> int:
        """Bytes clients sent since the last call (once their connections have closed); read
        `requests` first for the number of requests among them."""
        return self.take_both()[0]

    def take_both(self) -> tuple[int, int, int]:
        """(bytes sent, bytes received, requests) by clients since the last call, once their
        connections have closed."""
        wait_for(lambda: self._open == 0, 30, "the relay's connections to close", pause=0.05)
        with self._lock:
            taken = (self._sent, self._received, self.requests)
            self._sent, self._received, self.marker_at, self.requests = 0, 0, -1, 0
        return taken

    def open_connections(self) -> int:
        with self._lock:
            return self._open // 2

    def peek(self) -> int:
        with self._lock:
            return self._sent

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self._target))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open += 2
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, counted: bool) -> None:
        try:
            while data := source.recv(64 * 1024 if counted and self.rate else MiB):
                if counted:
                    with self._lock:
                        self.requests += data.count(b" HTTP/1.1\r\n")
                        found = data.find(self._marker)
                        if found >= 0:
                            self.marker_at = self._sent + found
                        self._sent += len(data)
                        rate, now = self.rate, time.monotonic()
                        if rate:
                            self._next_send = max(self._next_send, now) + len(data) / rate
                    if rate:
                        time.sleep(max(0.0, self._next_send - now))
                else:
                    with self._lock:
                        self._received += len(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            source.close()
            with self._lock:
                self._open -= 1


class RsyncDaemon:
    """`rsync --daemon` on 127.0.0.1 serving one writable module, `bench`, for a delta baseline
    that crosses loopback TCP as sfs does."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        config = folder.parent / f"rsyncd-{self.port}.conf"
        config.write_text(
            "use chroot = no\n"
            f"pid file = {folder.parent / f'rsyncd-{self.port}.pid'}\n"
            "[bench]\n"
            f"    path = {folder}\n"
            "    read only = no\n"
            f"    uid = {os.getuid()}\n"
            f"    gid = {os.getgid()}\n"
        )
        self._log = (folder.parent / f"rsyncd-{self.port}.log").open("w")
        self.process = subprocess.Popen(
            [
                "rsync",
                "--daemon",
                "--no-detach",
                f"--config={config}",
                f"--port={self.port}",
                "--address=127.0.0.1",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

        def listening() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError("rsync --daemon exited early")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False

        wait_for(listening, 30, "rsync --daemon to listen")

    def send(self, local: Path, name: str, *, port: int | None = None) -> int:
        """rsync a file onto the module's `name` as a delta; the bytes the client sent.
        `port`: another way in to the daemon (a relay that counts)."""
        return self.send_both(local, name, port=port)[0]

    def send_both(self, local: Path, name: str, *, port: int | None = None) -> tuple[int, int]:
        """rsync a file onto the module's `name` as a delta; the bytes the client sent and
        received (the daemon's block checksums), as `--stats` counts them."""
        return self._rsync(str(local), f"{self._module(port)}/{name}")

    def fetch(self, name: str, local: Path, *, port: int | None = None) -> int:
        """rsync the module's `name` onto a local file as a delta; the bytes the client sent."""
        return self._rsync(f"{self._module(port)}/{name}", str(local))[0]

    def _module(self, port: int | None) -> str:
        return f"rsync://127.0.0.1:{port or self.port}/bench"

    def _rsync(self, source: str, target: str) -> tuple[int, int]:
        stats = subprocess.run(
            ["rsync", "--stats", "--no-whole-file", "--ignore-times", source, target],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        sent = re.search(r"Total bytes sent: ([\d,]+)", stats)
        received = re.search(r"Total bytes received: ([\d,]+)", stats)
        assert sent and received, stats
        return int(sent.group(1).replace(",", "")), int(received.group(1).replace(",", ""))

    def stop(self) -> None:
        stop_process(self.process)
        self._log.close()
