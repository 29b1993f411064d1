"""The manual's password changes, walked in Debian's Chromium against a real `sfs serve`.

Accounts are made through the service layer on the server's own SQLite file.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser_support import Portal, can_log_in, log_in, new_user
from tests.support import GOOD_PASSWORD, OTHER_GOOD_PASSWORD


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
