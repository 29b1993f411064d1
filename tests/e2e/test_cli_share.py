"""`sfs share link|add|list|revoke` as a user runs them, against a real `sfs serve`."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.e2e.test_cli_files import Cli, FileServer, cli, file_server, logged_in, one_line_error
from tests.support import GOOD_PASSWORD

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


def test_a_folder_is_shared_with_a_colleague_listed_and_removed(
    logged_in: Cli, file_server: FileServer, tmp_path: Path
) -> None:
    colleague = file_server.new_user()
    (logged_in.work_dir / "plan.txt").write_text("the plan")
    logged_in.ok("mkdir", "/Team")
    logged_in.ok("put", "plan.txt", "/Team/plan.txt")
    made = json.loads(
        logged_in.ok(
            "share", "add", "/Team", "--with", colleague.email, "--role", "editor", "--json"
        )
    )
    assert (made["path"], made["recipient"], made["role"]) == ("/Team", colleague.email, "editor")
    listed = json.loads(logged_in.ok("share", "list", "--json"))
    assert [(item["type"], item["id"]) for item in listed] == [("share", made["id"])]
    assert made["id"] in logged_in.ok("share", "list")
    # The colleague reaches it with their own login.
    other = Cli(config_dir=tmp_path / "other-config", work_dir=tmp_path)
    other.ok(
        "login",
        file_server.url,
        "--email",
        colleague.email,
        "--password-stdin",
        stdin=GOOD_PASSWORD,
    )
    with httpx.Client(base_url=file_server.url + "/api/v1") as api:
        headers = {"Authorization": f"Bearer {other.token()}"}
        (found,) = api.get("/shared-with-me", headers=headers).json()
        assert (found["id"], found["role"]) == (made["id"], "editor")
        got = api.get(
            f"/spaces/{made['id']}/content", params={"path": "/plan.txt"}, headers=headers
        )
        assert got.content == b"the plan"
    assert logged_in.ok("share", "revoke", made["id"]).strip() == f"removed share {made['id']}"
    assert json.loads(logged_in.ok("share", "list", "--json")) == []


def test_sharing_with_no_one_known_or_oneself_is_one_line_with_an_exit_code(
    logged_in: Cli,
) -> None:
    (logged_in.work_dir / "f.txt").write_text("x")
    logged_in.ok("put", "f.txt", "/f.txt")
    unknown = logged_in("share", "add", "/f.txt", "--with", "nobody@elsewhere.example.com")
    assert unknown.returncode == 3
    assert "No colleague or group" in one_line_error(unknown)
    no_group = logged_in("share", "add", "/f.txt", "--with", "No Such Group")
    assert no_group.returncode == 3
    bad_role = logged_in("share", "add", "/f.txt", "--with", "x@acme.example.com", "--role", "boss")
    assert bad_role.returncode == 2
    missing = logged_in("share", "add", "/nothing.txt", "--with", "x@acme.example.com")
    assert missing.returncode == 3


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
