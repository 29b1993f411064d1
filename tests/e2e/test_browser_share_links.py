"""Share links walked in Debian's Chromium against a real `sfs serve`: a link with a password and
an expiry made on the Files page, opened in a fresh browser (no session), a wrong password, then
the download; and a file drop filled by a visitor."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, FilePayload, Page, expect
from sqlalchemy import select

from sfs.domain.actor import Actor
from sfs.metadata.models import User
from sfs.services.identity.actors import actor_of
from tests.e2e.browser_support import Portal, log_in, new_user
from tests.support import GOOD_PASSWORD
from tests.world import CLIENT

LINK_PASSWORD = "orange-kite-link-77"


def actor_by_email(portal: Portal, email: str) -> Actor:
    with portal.services.database.transaction() as session:
        return actor_of(session.scalars(select(User).where(User.email == email)).one())


def make_link(page: Page, row_text: str, *, password: str = "", upload_only: bool = False) -> str:
    page.goto("/files")
    row = page.get_by_role("row").filter(has_text=row_text)
    row.locator("summary").click()  # the row's menu
    row.get_by_role("link", name="Share link").click()
    if password:
        page.get_by_label("Password").fill(password)
        page.get_by_label("Expires after").fill("2099-12-31")
    if upload_only:
        page.get_by_label("Upload only").check()
    page.get_by_role("button", name="Create link").click()
    expect(page.get_by_role("status")).to_contain_text("The link is ready.")
    url = page.get_by_label("New link").input_value()
    assert "/s/" in url and row_text not in url
    return url


def test_a_password_link_opens_in_a_fresh_browser_after_a_wrong_guess(
    page: Page, portal: Portal, browser: Browser
) -> None:
    email, _name = new_user(portal)
    owner = actor_by_email(portal, email)
    content = b"the budget, line by line\n" * 1000
    portal.services.file_content.upload(
        owner,
        space_id=portal.services.spaces.my_files(owner).id,
        path="/Budget 2027.txt",
        source=[content],
        modified_at=portal.services.clock.now(),
        base_version=None,
        client=CLIENT,
    )
    log_in(page, email, GOOD_PASSWORD)
    url = make_link(page, "Budget 2027.txt", password=LINK_PASSWORD)
    expect(page.get_by_role("row").filter(has_text="2100-01-01")).to_contain_text("password")

    visitor = browser.new_context()
    try:
        outside = visitor.new_page()
        outside.set_default_timeout(15_000)
        outside.goto(url)
        expect(outside.get_by_role("heading")).to_have_text("This link is protected by a password")
        expect(outside.get_by_text("Budget 2027.txt")).to_have_count(0)
        outside.get_by_label("Password").fill("not the password")
        outside.get_by_role("button", name="Open").click()
        expect(outside.get_by_role("alert")).to_have_text("The password is not right.")
        outside.get_by_label("Password").fill(LINK_PASSWORD)
        outside.get_by_role("button", name="Open").click()
        expect(outside.get_by_role("heading", name="Budget 2027.txt")).to_be_visible()
        with outside.expect_download() as started:
            outside.get_by_role("link", name="Download").click()
        assert started.value.suggested_filename == "Budget 2027.txt"
        assert Path(started.value.path()).read_bytes() == content
    finally:
        visitor.close()


def test_a_visitor_drops_a_file_and_sees_nothing_of_the_folder(
    page: Page, portal: Portal, browser: Browser
) -> None:
    email, _name = new_user(portal)
    owner = actor_by_email(portal, email)
    space = portal.services.spaces.my_files(owner).id
    portal.services.file_tree.create_folder(owner, space_id=space, path="/Inbox", client=CLIENT)
    portal.services.file_content.upload(
        owner,
        space_id=space,
        path="/Inbox/private.txt",
        source=[b"mine"],
        modified_at=portal.services.clock.now(),
        base_version=None,
        client=CLIENT,
    )
    log_in(page, email, GOOD_PASSWORD)
    url = make_link(page, "Inbox", upload_only=True)

    visitor = browser.new_context()
    try:
        outside = visitor.new_page()
        outside.set_default_timeout(15_000)
        outside.goto(url)
        expect(outside.get_by_role("heading")).to_contain_text("Send files to")
        expect(outside.get_by_text("private.txt")).to_have_count(0)
        files: list[FilePayload] = [
            {"name": "cv.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 cv"},
            {"name": "private.txt", "mimeType": "text/plain", "buffer": b"theirs"},
        ]
        outside.get_by_label("Drop files here, or choose them").set_input_files(files)
        outside.get_by_role("button", name="Upload").click()
        expect(outside.get_by_role("status")).to_have_text("Received: cv.pdf, private (2).txt")
    finally:
        visitor.close()
    names = {
        node.name
        for node in portal.services.file_tree.list_folder(owner, space_id=space, path="/Inbox")
    }
    assert names == {"private.txt", "private (2).txt", "cv.pdf"}
