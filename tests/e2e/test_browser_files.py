"""The Files menu walked in Debian's Chromium against a real `sfs serve`: folders with the
keyboard, a two-file upload through the page's script, download, trash and restore."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.browser_support import Portal, log_in, new_user
from tests.support import GOOD_PASSWORD


def test_a_user_keeps_files_in_a_folder_downloads_one_and_restores_it_from_the_trash(
    page: Page, portal: Portal
) -> None:
    email, _name = new_user(portal)
    log_in(page, email, GOOD_PASSWORD)
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Files").click()
    expect(page.get_by_role("heading", name="Files", exact=True)).to_be_visible()
    expect(page.get_by_text("This folder is empty.")).to_be_visible()

    # A new folder, by keyboard only: type the name, Tab to the button, Enter.
    page.get_by_label("Folder name").focus()
    page.keyboard.type("Reports 2025")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Create folder")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("The folder was created.")
    page.get_by_role("link", name="Reports 2025 (folder)").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("navigation", name="Folder path")).to_contain_text("Reports 2025")

    # Two files through the file input; the script uploads them one by one, then reloads.
    first, second = os.urandom(200_000), b"minutes of the meeting\n"
    page.get_by_label("Files to upload").set_input_files(
        [
            {"name": "figures.bin", "mimeType": "application/octet-stream", "buffer": first},
            {"name": "minutes.txt", "mimeType": "text/plain", "buffer": second},
        ]
    )
    with page.expect_request(lambda r: r.method == "PUT" and "/file/upload/" in r.url):
        page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("2 files uploaded.")
    rows = page.get_by_role("row")
    expect(rows.filter(has_text="figures.bin")).to_contain_text("200.0 kB")
    expect(rows.filter(has_text="minutes.txt")).to_be_visible()

    # Each row's actions are in its menu: opened with the keyboard, closed with Escape.
    figures = rows.filter(has_text="figures.bin")
    figures.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(figures.get_by_role("link", name="Versions")).to_be_visible()
    page.keyboard.press("Escape")
    expect(figures.get_by_role("link", name="Versions")).to_be_hidden()
    expect(figures.locator("summary")).to_be_focused()
    figures.locator("summary").click()
    with page.expect_download() as started:
        figures.get_by_role("link", name="Download").click()
    downloaded = started.value
    assert downloaded.suggested_filename == "figures.bin"
    assert Path(downloaded.path()).read_bytes() == first

    figures.get_by_role("button", name="Delete").click()  # the menu is still open
    expect(page.get_by_role("status")).to_contain_text("figures.bin was moved to the trash.")
    expect(rows.filter(has_text="figures.bin")).to_have_count(0)

    page.get_by_role("link", name="Open the trash").click()
    expect(page.get_by_role("heading", name="Trash")).to_be_visible()
    page.get_by_role("row").filter(has_text="figures.bin").get_by_role(
        "button", name="Restore"
    ).click()
    expect(page.get_by_role("status")).to_have_text("/Reports 2025/figures.bin was restored.")
    expect(page.get_by_text("The trash is empty.")).to_be_visible()

    page.get_by_role("link", name="Back to My Files").click()
    page.get_by_role("link", name="Reports 2025 (folder)").click()
    expect(page.get_by_role("row").filter(has_text="figures.bin")).to_contain_text("200.0 kB")
