"""The OpenAPI document tells the truth: schemathesis drives every operation of a real `sfs serve`
with schema-valid and schema-breaking requests and checks each answer against the document
(status codes, content types, bodies, `Allow` headers, what must be accepted or refused).

Its settings, and why an operation is left out or a value pinned, are in schemathesis.toml next
to this file. It runs as a command (not its pytest plugin) so its own warnings stay its own.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_quick_start import RunningServer, change_first_password, printed_credentials

SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[RunningServer, str]]:
    server = RunningServer(tmp_path / "sfs-data")
    try:
        credentials = dict(printed_credentials(server.wait_until_ready()))
        # The demo organisation's admin reaches every operation: files, accounts, the audit log.
        answer = httpx.post(
            f"{server.base_url}/api/v1/auth/login",
            json={
                "email": "orgadmin@demo.example.com",
                "password": change_first_password(
                    server.base_url,
                    "orgadmin@demo.example.com",
                    credentials["orgadmin@demo.example.com"],
                ),
                "device_name": "schemathesis",
            },
        )
        assert answer.status_code == 200, answer.text
        yield server, answer.json()["token"]
    finally:
        server.stop()


def test_the_api_answers_as_its_openapi_document_says(
    running: tuple[RunningServer, str], tmp_path: Path
) -> None:
    server, token = running
    run = subprocess.run(
        [
            SCHEMATHESIS,
            "--config-file",
            str(CONFIG),
            "--no-color",
            "run",
            f"{server.base_url}/api/v1/openapi.json",
            "--checks",
            "all",
            "--header",
            f"Authorization: Bearer {token}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = run.stdout + run.stderr
    assert run.returncode == 0, report
    assert "Authentication failed" not in report, report  # every operation was really reached
