"""The manual's password changes, walked in Debian's Chromium against a real `sfs serve`.

Accounts are made through the service layer on the server's own SQLite file. Without Chromium
these tests skip, unless SFS_TEST_REQUIRE_BROWSER=1 (set by .ci/run) makes that a failure.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from sfs.app import Services, build_services
from sfs.config import load_settings
from sfs.crypto.passwords import PasswordHasher
from sfs.domain.actor import operator
from sfs.domain.roles import Role
from tests.e2e.test_quick_start import RunningServer
from tests.support import FAST_HASH, GOOD_PASSWORD, OTHER_GOOD_PASSWORD, csrf_token_in
from tests.world import CLIENT

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

if not Path(CHROMIUM).exists():
    if REQUIRE_BROWSER:
        pytest.fail(f"Chromium is required but missing at {CHROMIUM}", pytrace=False)
    pytest.skip(f"Chromium not installed at {CHROMIUM}", allow_module_level=True)
try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - the dev extras install it
    if REQUIRE_BROWSER:
        raise
    pytest.skip("playwright is not installed", allow_module_level=True)


@dataclass
class Portal:
    """The running server, and the service layer on the same database."""

    server: RunningServer
    services: Services
    organization_id: uuid.UUID
    admin_email: str


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    data_dir = tmp_path_factory.mktemp("browser") / "sfs-data"
    server = RunningServer(data_dir)
    try:
        server.wait_until_ready()
        services = build_services(
            load_settings(data_dir=data_dir), hasher=PasswordHasher(FAST_HASH)
        )
        organisation = services.organisations.create(operator(), name="Acme", client=CLIENT)
        admin = services.accounts.create_user(
            operator(),
            organization_id=organisation.id,
            email="admin@acme.example.com",
            display_name="Alice Admin",
            password=GOOD_PASSWORD,
            role=Role.ORG_ADMIN,
            client=CLIENT,
        )
        yield Portal(server, services, organisation.id, admin.email)
        services.database.dispose()
    finally:
        server.stop()


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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, portal: Portal) -> Iterator[Page]:
    context = browser.new_context(base_url=portal.server.base_url)
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


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


def open_change_password_as_admin(page: Page, portal: Portal, email: str) -> None:
    """The manual, section 2: Accounts, the user's edit icon, Change Password."""
    log_in(page, portal.admin_email, GOOD_PASSWORD)
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Accounts").click()
    expect(page.get_by_role("heading", name="Accounts")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=email)
    row.get_by_role("link", name="Edit").click()
    page.get_by_role("link", name="Change Password").click()
    expect(page.get_by_role("heading", name="Change Password")).to_be_visible()


def open_change_password_as_user(page: Page, email: str, name: str) -> None:
    """The manual, section 3: the account name at the top, Change Password."""
    log_in(page, email, GOOD_PASSWORD)
    page.get_by_role("banner").get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name="My account")).to_be_visible()
    page.get_by_role("link", name="Change Password").click()
    expect(page.get_by_role("heading", name="Change Password")).to_be_visible()


def test_an_organization_admin_changes_a_users_password(page: Page, portal: Portal) -> None:
    email, _name = new_user(portal)
    open_change_password_as_admin(page, portal, email)
    page.get_by_label("New password", exact=True).fill(OTHER_GOOD_PASSWORD)
    page.get_by_label("Confirm new password").fill(OTHER_GOOD_PASSWORD)
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("status")).to_contain_text("The password was changed")
    assert can_log_in(portal, email, OTHER_GOOD_PASSWORD)
    assert not can_log_in(portal, email, GOOD_PASSWORD)


def test_a_user_changes_their_own_password(page: Page, portal: Portal) -> None:
    email, name = new_user(portal)
    open_change_password_as_user(page, email, name)
    expect(page.get_by_label("Sign out my other sessions")).to_be_checked()
    page.get_by_label("Current password").fill(GOOD_PASSWORD)
    page.get_by_label("New password", exact=True).fill(OTHER_GOOD_PASSWORD)
    page.get_by_label("Confirm new password").fill(OTHER_GOOD_PASSWORD)
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("status")).to_contain_text("Your password was changed")
    # This browser stays signed in; logging in again takes the new password only.
    expect(page.get_by_role("heading", name="My account")).to_be_visible()
    assert can_log_in(portal, email, OTHER_GOOD_PASSWORD)
    assert not can_log_in(portal, email, GOOD_PASSWORD)


@pytest.mark.parametrize(
    ("current", "new", "confirm", "error"),
    [
        (GOOD_PASSWORD, OTHER_GOOD_PASSWORD, OTHER_GOOD_PASSWORD + "!", "do not match"),
        (GOOD_PASSWORD, "password1234", "password1234", "too easy to guess"),
        ("not-the-password-99", OTHER_GOOD_PASSWORD, OTHER_GOOD_PASSWORD, "current password"),
    ],
    ids=["mismatch", "weak", "wrong-current"],
)
def test_a_refused_own_change_shows_why_and_changes_nothing(
    page: Page, portal: Portal, current: str, new: str, confirm: str, error: str
) -> None:
    email, name = new_user(portal)
    open_change_password_as_user(page, email, name)
    page.get_by_label("Current password").fill(current)
    page.get_by_label("New password", exact=True).fill(new)
    page.get_by_label("Confirm new password").fill(confirm)
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("alert")).to_contain_text(error)
    assert can_log_in(portal, email, GOOD_PASSWORD)
    assert not can_log_in(portal, email, new)


@pytest.mark.parametrize(
    ("new", "confirm", "error"),
    [
        (OTHER_GOOD_PASSWORD, OTHER_GOOD_PASSWORD + "!", "do not match"),
        ("password1234", "password1234", "too easy to guess"),
    ],
    ids=["mismatch", "weak"],
)
def test_a_refused_admin_change_shows_why_and_changes_nothing(
    page: Page, portal: Portal, new: str, confirm: str, error: str
) -> None:
    email, _name = new_user(portal)
    open_change_password_as_admin(page, portal, email)
    page.get_by_label("New password", exact=True).fill(new)
    page.get_by_label("Confirm new password").fill(confirm)
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("alert")).to_contain_text(error)
    assert can_log_in(portal, email, GOOD_PASSWORD)
