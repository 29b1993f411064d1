"""The manual's section 1 in Debian's Chromium: enforced two-factor enrolment and later logins.

Codes for the authenticator app come from oathtool, an independent TOTP implementation, at the
real time (the server under test runs on the real clock); email codes are read from the outbox.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from sfs.domain.actor import operator
from tests.e2e.browser_support import Portal, log_in
from tests.support import GOOD_PASSWORD, read_outbox, require_tool
from tests.world import CLIENT

_numbers = itertools.count(1)


def strict_user(portal: Portal) -> tuple[str, str]:
    """A user of a fresh organisation whose administrator requires two-factor authentication."""
    n = next(_numbers)
    organisation = portal.services.organisations.create(
        operator(), name=f"Strict {n}", require_second_factor=True, client=CLIENT
    )
    email = f"user{n}@strict.example.com"
    portal.services.accounts.create_user(
        operator(),
        organization_id=organisation.id,
        email=email,
        display_name=f"Sam Strict{n}",
        password=GOOD_PASSWORD,
        client=CLIENT,
    )
    return email, f"Sam Strict{n}"


def oathtool(secret: str, *, ahead: int = 0) -> str:
    moment = datetime.now(UTC) + timedelta(seconds=30 * ahead)
    result = subprocess.run(
        [
            require_tool("oathtool"),
            "--totp",
            "-b",
            secret,
            "--now",
            moment.strftime("%Y-%m-%d %H:%M:%S UTC"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def mailed_code(portal: Portal, email: str) -> str:
    outbox = Path(portal.services.settings.outbox_dir)
    mine = [m for m in read_outbox(outbox) if m["To"] == email]
    match = re.search(r"code is: (\d{6})", mine[-1].get_content())
    assert match
    return match.group(1)


def enrol_with_the_app(page: Page) -> tuple[str, str]:
    """From the method menu to logged in; returns (secret, backup key)."""
    page.get_by_role("link", name="Authenticator mobile app").click()
    page.get_by_label("Password").fill(GOOD_PASSWORD)
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", name="Backup Key")).to_be_visible()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    expect(page.get_by_role("heading", name="Secret Key")).to_be_visible()
    backup_key = page.locator("#backup-key").inner_text()
    secret = page.locator("#secret-key").inner_text().replace(" ", "")
    page.get_by_label("Authentication Code").fill(oathtool(secret))
    page.get_by_role("button", name="Submit").click()
    return secret, backup_key


def test_a_required_second_factor_is_set_up_with_an_authenticator_app(
    page: Page, portal: Portal, tmp_path: Path
) -> None:
    email, name = strict_user(portal)
    log_in(page, email, GOOD_PASSWORD)
    expect(page.get_by_role("status")).to_contain_text(
        "administrator requires two-factor authentication"
    )
    options = page.get_by_role("list").get_by_role("listitem")
    expect(options).to_have_count(3)
    expect(options.nth(0)).to_contain_text("Authenticator mobile app")
    expect(options.nth(1)).to_contain_text("Email")
    expect(page.get_by_role("button", name="Text message")).to_be_disabled()
    expect(page.get_by_text("Text message is not supported in Europe")).to_be_visible()
    page.screenshot(path=str(tmp_path / "menu.png"), full_page=True)
    if shot := os.environ.get("SFS_SCREENSHOT_DIR"):
        page.screenshot(path=f"{shot}/second-factor-menu.png", full_page=True)

    secret, _ = enrol_with_the_app(page)
    expect(page.get_by_role("banner").get_by_role("link", name=name)).to_be_visible()

    # A later login asks for the code; the next time step's code is still within the window.
    page.get_by_role("button", name="Log out").click()
    log_in(page, email, GOOD_PASSWORD)
    expect(page.get_by_label("Authentication Code")).to_be_visible()
    page.get_by_label("Authentication Code").fill(oathtool(secret, ahead=1))
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("banner").get_by_role("link", name=name)).to_be_visible()


def test_the_backup_key_gets_in_once_and_enrolment_starts_again(page: Page, portal: Portal) -> None:
    email, _ = strict_user(portal)
    log_in(page, email, GOOD_PASSWORD)
    _, backup_key = enrol_with_the_app(page)
    page.get_by_role("button", name="Log out").click()
    log_in(page, email, GOOD_PASSWORD)
    page.get_by_role("link", name="Use your Backup Key").click()
    page.get_by_label("Backup Key").fill(backup_key)
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("status")).to_contain_text("Your Backup Key has been used")
    expect(page.get_by_role("link", name="Authenticator mobile app")).to_be_visible()


def test_a_second_factor_by_email_with_re_send(page: Page, portal: Portal) -> None:
    email, name = strict_user(portal)
    log_in(page, email, GOOD_PASSWORD)
    page.get_by_role("link", name="Email").click()
    page.get_by_label("Password").fill(GOOD_PASSWORD)
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", name="Backup Key")).to_be_visible()
    page.get_by_role("button", name="Re-send Authentication Code").click()
    expect(page.get_by_role("alert")).to_contain_text("is still valid until")
    page.get_by_label("Authentication Code").fill(mailed_code(portal, email))
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("banner").get_by_role("link", name=name)).to_be_visible()


@pytest.mark.parametrize("code", ["000000", "12"])
def test_a_wrong_code_says_so_and_keeps_the_login_pending(
    page: Page, portal: Portal, code: str
) -> None:
    email, _ = strict_user(portal)
    log_in(page, email, GOOD_PASSWORD)
    page.get_by_role("link", name="Authenticator mobile app").click()
    page.get_by_label("Password").fill(GOOD_PASSWORD)
    page.get_by_role("button", name="Submit").click()
    page.get_by_label("Authentication Code").fill(code)
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong code")
    page.goto("/account")  # still pending: sent back to set up the second factor
    expect(page).to_have_url(re.compile(r"/enrol$"))
