"""Helpers of the browser tests: the portal under test and a few steps every walk takes."""

from __future__ import annotations

import itertools
import os
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from sfs.app import Services
from sfs.domain.actor import operator
from tests.e2e.test_quick_start import RunningServer
from tests.support import GOOD_PASSWORD, csrf_token_in
from tests.world import CLIENT

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = os.environ.get("SFS_TEST_CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("SFS_TEST_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@dataclass
class Portal:
    """The running server, and the service layer on the same database."""

    server: RunningServer
    services: Services
    organization_id: uuid.UUID
    admin_email: str


_numbers = itertools.count(1)


def new_user(portal: Portal) -> tuple[str, str]:
    """A fresh user of Acme for one test: (email, display name)."""
    n = next(_numbers)
    email, name = f"user{n}@acme.example.com", f"Umberto Number{n}"
    portal.services.accounts.create_user(
        operator(),
        organization_id=portal.organization_id,
        email=email,
        display_name=name,
        password=GOOD_PASSWORD,
        client=CLIENT,
    )
    return email, name


def log_in(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def can_log_in(portal: Portal, email: str, password: str) -> bool:
    with httpx.Client(base_url=portal.server.base_url) as client:
        token = csrf_token_in(client.get("/login").text)
        answer = client.post(
            "/login", data={"email": email, "password": password, "csrf_token": token}
        )
        return answer.status_code == 303 and answer.headers["location"] == "/"
