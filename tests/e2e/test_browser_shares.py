"""Sharing with a colleague walked in Debian's Chromium against a real `sfs serve`: the owner
shares a folder from the Files page ("Share with people"), the colleague finds it under "Shared
with me" in their own browser, opens it and downloads a file; the owner then removes it."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser_support import Portal, log_in, new_user
from tests.e2e.test_browser_share_links import actor_by_email
from tests.support import GOOD_PASSWORD
from tests.world import CLIENT


def test_a_colleague_finds_a_shared_folder_and_downloads_from_it(
    page: Page, portal: Portal, browser: Browser
) -> None:
    owner_email, owner_name = new_user(portal)
    colleague_email, _ = new_user(portal)
    owner = actor_by_email(portal, owner_email)
    space = portal.services.spaces.my_files(owner).id
    portal.services.file_tree.create_folder(owner, space_id=space, path="/Plans", client=CLIENT)
    for path, body in (("/Plans/q1.txt", b"first quarter\n"), ("/private.txt", b"mine\n")):
        portal.services.file_content.upload(
            owner,
            space_id=space,
            path=path,
            source=[body],
            modified_at=portal.services.clock.now(),
            base_version=None,
            client=CLIENT,
        )
    log_in(page, owner_email, GOOD_PASSWORD)
    page.goto("/files")
    plans = page.get_by_role("row").filter(has_text="Plans")
    plans.locator("summary").click()  # the row's menu
    plans.get_by_role("link", name="Share with people").click()
    page.get_by_label("Colleague's email address or group").fill(colleague_email)
    page.get_by_label("Role", exact=True).select_option("viewer")
    page.get_by_role("button", name="Share", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Shared.")
    expect(page.get_by_role("row").filter(has_text=colleague_email)).to_be_visible()

    other = browser.new_context(base_url=portal.server.base_url, accept_downloads=True)
    try:
        colleague = other.new_page()
        colleague.set_default_timeout(15_000)
        log_in(colleague, colleague_email, GOOD_PASSWORD)
        colleague.get_by_role("link", name="Shared with me").click()
        expect(colleague.get_by_role("row").filter(has_text="Plans")).to_contain_text(owner_name)
        colleague.get_by_role("link", name="Plans").click()
        expect(colleague.get_by_text("private.txt")).to_have_count(0)
        with colleague.expect_download() as started:
            colleague.get_by_role("link", name="q1.txt").click()
        assert Path(started.value.path()).read_bytes() == b"first quarter\n"

        page.get_by_role("button", name=f"Remove {colleague_email}").click()
        expect(page.get_by_role("status")).to_have_text("The share was removed.")
        colleague.goto("/shared")
        expect(colleague.get_by_text("Nothing is shared with you yet.")).to_be_visible()
    finally:
        other.close()
