"""Test doubles and helpers shared by the test suites."""

from __future__ import annotations

import os
import re
import shutil
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest

from sfs.crypto.passwords import HashParameters

# Cheap argon2 parameters: the tests exercise the logic, not the cost.
FAST_HASH = HashParameters(time_cost=1, memory_kib=8192, parallelism=1)

# Passwords the policy accepts (long, not guessable, unrelated to the test users' names).
GOOD_PASSWORD = "plum-ladder-orbit-48-quietly"
OTHER_GOOD_PASSWORD = "velvet-canyon-soup-91-harbor"


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


def csrf_token_in(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def read_outbox(folder: Path) -> list[EmailMessage]:
    """Every message the outbox mailer wrote, oldest first."""
    if not folder.exists():
        return []
    return [
        message_from_bytes(path.read_bytes(), _class=EmailMessage, policy=default)  # type: ignore[arg-type]
        for path in sorted(folder.glob("*.eml"))
    ]


def require_tool(name: str) -> str:
    """The path of an external program a test drives; CI (which installs it) fails without it."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("SFS_TEST_REQUIRE_EXTERNAL_TOOLS") == "1":
            pytest.fail(f"{name} is required but not installed (apt-get install {name})")
        pytest.skip(f"{name} is not installed (apt-get install {name})")
    return path
