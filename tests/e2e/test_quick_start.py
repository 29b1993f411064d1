"""`sfs serve` as a real process on loopback: first start prints credentials that log in."""

from __future__ import annotations

import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import csrf_token_in

SFS = str(Path(sys.executable).with_name("sfs"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RunningServer:
    def __init__(self, data_dir: Path, environment: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.environment = {
            **os.environ,
            "SFS_DATA_DIR": str(data_dir),
            "SFS_PORT": str(self.port),
            "PYTHONUNBUFFERED": "1",
            **(environment or {}),
        }
        self.log = data_dir.parent / f"serve-{self.port}.log"
        self._log_handle = open(self.log, "w")  # noqa: SIM115 (closed in stop)
        self.process = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [SFS, "serve"], env=self.environment, stdout=self._log_handle, stderr=subprocess.STDOUT
        )

    def kill(self) -> None:
        """SIGKILL: the server stops dead, as in a power cut, with requests in flight."""
        self.process.kill()
        self.process.wait()

    def restart(self) -> None:
        """Start `sfs serve` again, after `kill` or `stop`, on the same data folder and port;
        its output goes on in the same log."""
        if self.process.poll() is None:
            raise RuntimeError("the server is still running")
        if self._log_handle.closed:
            self._log_handle = open(self.log, "a")  # noqa: SIM115 (closed in stop)
        self.process = self._start()

    def wait_until_ready(self, timeout: float = 60.0) -> str:
        """Poll until the login page answers: a bounded wait on a real process."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"sfs serve exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.base_url}/login", timeout=1).status_code == 200:
                    return self.log.read_text()
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail(f"sfs serve did not answer within {timeout} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log_handle.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "sfs-data"


@pytest.fixture
def server(data_dir: Path) -> Iterator[RunningServer]:
    running = RunningServer(data_dir)
    try:
        yield running
    finally:
        running.stop()


def printed_credentials(output: str) -> list[tuple[str, str]]:
    return re.findall(r"Email:\s+(\S+)\n\s+Password:\s+(\S+)", output)


def test_first_start_prints_credentials_that_log_in(server: RunningServer, data_dir: Path) -> None:
    output = server.wait_until_ready()
    assert f"Secure File Sync is starting at {server.base_url}" in output
    credentials = printed_credentials(output)
    assert [email for email, _ in credentials] == [
        "admin@sfs.example.com",
        "orgadmin@demo.example.com",
    ]
    assert stat.S_IMODE((data_dir / "master.key").stat().st_mode) == 0o600
    assert (data_dir / "sfs.db").exists()

    for email, password in credentials:
        with httpx.Client(base_url=server.base_url, follow_redirects=True) as browser:
            token = csrf_token_in(browser.get("/login").text)
            home = browser.post(
                "/login", data={"email": email, "password": password, "csrf_token": token}
            )
            assert home.status_code == 200
            assert 'class="account-name"' in home.text

        api = httpx.post(
            f"{server.base_url}/api/v1/auth/login",
            json={"email": email, "password": password, "device_name": "e2e"},
        )
        assert api.status_code == 200


def test_a_restart_keeps_the_accounts_and_prints_no_passwords(data_dir: Path) -> None:
    first = RunningServer(data_dir)
    try:
        credentials = printed_credentials(first.wait_until_ready())
    finally:
        first.stop()
    second = RunningServer(data_dir)
    try:
        output = second.wait_until_ready()
        assert printed_credentials(output) == []
        email, password = credentials[1]
        answer = httpx.post(
            f"{second.base_url}/api/v1/auth/login", json={"email": email, "password": password}
        )
        assert answer.status_code == 200
    finally:
        second.stop()


def test_bad_configuration_stops_the_start_with_a_clear_message(tmp_path: Path) -> None:
    result = subprocess.run(
        [SFS, "serve"],
        env={**os.environ, "SFS_DATA_DIR": str(tmp_path), "SFS_DATABASE_URL": "oracle://x"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 78
    assert "SFS_DATABASE_URL: must start with sqlite:// or postgresql://" in result.stderr
