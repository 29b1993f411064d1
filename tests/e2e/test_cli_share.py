"""`sfs share link|list|revoke` as a user runs them, against a real `sfs serve`."""

from __future__ import annotations

import json

import httpx

from tests.e2e.test_cli_files import Cli, FileServer, cli, file_server, logged_in, one_line_error

__all__ = ["cli", "file_server", "logged_in"]  # the fixtures this module uses


def test_a_link_with_a_password_and_expiry_is_printed_listed_and_revoked(
    logged_in: Cli, file_server: FileServer
) -> None:
    (logged_in.work_dir / "Budget.txt").write_text("numbers")
    logged_in.ok("put", "Budget.txt", "/Budget.txt")
    url = logged_in.ok(
        "share",
        "link",
        "/Budget.txt",
        "--password-stdin",
        "--expires",
        "2099-12-31",
        stdin="a-long-link-pass\n",
    ).strip()
    assert url.startswith(file_server.url + "/s/") and "Budget" not in url
    page = httpx.get(url)
    assert page.status_code == 200 and 'name="password"' in page.text
    listed = json.loads(logged_in.ok("share", "list", "--json"))
    assert len(listed) == 1 and listed[0]["has_password"] and listed[0]["path"] == "/Budget.txt"
    assert listed[0]["id"] in logged_in.ok("share", "list")
    logged_in.ok("share", "revoke", listed[0]["id"])
    assert httpx.get(url).status_code == 410
    made = json.loads(
        logged_in.ok("share", "link", "/Budget.txt", "--max-downloads", "1", "--json")
    )
    assert httpx.get(made["url"] + "/download").content == b"numbers"
    assert httpx.get(made["url"] + "/download").status_code == 410


def test_bad_input_is_one_line_with_an_exit_code(logged_in: Cli) -> None:
    missing = logged_in("share", "link", "/nothing.txt")
    assert missing.returncode == 3 and "does not exist" in one_line_error(missing)
    (logged_in.work_dir / "f.txt").write_text("x")
    logged_in.ok("put", "f.txt", "/f.txt")
    bad_date = logged_in("share", "link", "/f.txt", "--expires", "31-12-2099")
    assert bad_date.returncode == 2 and "--expires" in one_line_error(bad_date)
    not_a_folder = logged_in("share", "link", "/f.txt", "--upload-only")
    assert not_a_folder.returncode == 2
    assert logged_in("share", "revoke", "not-an-id").returncode == 2
    unknown = logged_in("share", "revoke", "00000000-0000-0000-0000-000000000000")
    assert unknown.returncode == 3


def test_a_link_is_changed_with_share_edit(logged_in: Cli, file_server: FileServer) -> None:
    (logged_in.work_dir / "Notes.txt").write_text("notes")
    logged_in.ok("put", "Notes.txt", "/Notes.txt")
    made = json.loads(logged_in.ok("share", "link", "/Notes.txt", "--max-downloads", "1", "--json"))
    link_id = made["link"]["id"]
    assert httpx.get(made["url"] + "/download").content == b"notes"
    assert httpx.get(made["url"] + "/download").status_code == 410
    changed = json.loads(
        logged_in.ok(
            "share", "edit", link_id, "--no-download-limit", "--expires", "2099-12-31", "--json"
        )
    )
    assert changed["max_downloads"] is None and changed["expires_at"].startswith("2100-01-01")
    assert httpx.get(made["url"] + "/download").content == b"notes"
    logged_in.ok("share", "edit", link_id, "--password-stdin", stdin="a-long-link-pass\n")
    assert 'name="password"' in httpx.get(made["url"]).text
    both = logged_in("share", "edit", link_id, "--expires", "2099-01-01", "--no-expiry")
    assert both.returncode == 2 and "only one of" in one_line_error(both)
    assert logged_in("share", "edit", link_id).returncode == 2
    short = logged_in("share", "edit", link_id, "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "password" in one_line_error(short)
    unknown = logged_in("share", "edit", "00000000-0000-0000-0000-000000000000", "--no-expiry")
    assert unknown.returncode == 3
