"""Remote wipe end to end: a real `sfs serve`, a running `sfs sync` process, and the user wiping
that laptop from the Devices page in Debian's Chromium. The client erases what it synced (files
it never synced stay), its index and its login, reports back, and exits 7; the page then shows
"Wiped at", and the user is emailed. A client killed half-way finishes at its next start, before
anything else (even with its server away)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from sfs.client.credentials import load
from sfs.client.sync.remote import SyncApi
from sfs.client.sync.wipe import RemoteWipe, wipe_started
from sfs.domain.actor import Actor
from sfs.metadata.models import DeviceToken, User
from sfs.services.identity.actors import actor_of
from tests.e2e.browser_support import Portal, log_in, new_user
from tests.e2e.test_quick_start import SFS
from tests.integration.test_sync_wipe import DiesAfter, Killed
from tests.support import GOOD_PASSWORD, read_outbox
from tests.world import CLIENT

WAIT = 120.0  # seconds: the bound on every wait for a real process
EXIT_WIPED = 7


def sfs_login(portal: Portal, email: str, config: Path) -> dict[str, str]:
    env = {**os.environ, "SFS_CLIENT_CONFIG_DIR": str(config)}
    done = subprocess.run(
        [
            SFS,
            "login",
            portal.server.base_url,
            "--email",
            email,
            "--password-stdin",
            "--device-name",
            "Stolen laptop",
        ],
        input=GOOD_PASSWORD + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert done.returncode == 0, done.stderr
    return env


def fill(folder: Path) -> None:
    """Files to sync, and a private folder the ignore rules keep on this laptop only."""
    (folder / "projects").mkdir(parents=True)
    (folder / "projects" / "plan.txt").write_text("the plan")
    (folder / "budget.ods").write_bytes(os.urandom(5000))
    (folder / ".sfsignore").write_text("private/\n")
    (folder / "private").mkdir()
    (folder / "private" / "diary.txt").write_text("never synced")


def left_in(folder: Path) -> set[str]:
    return {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and ".sfs" not in p.parts
    }


def sync_once(folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SFS, "sync", str(folder), "--once"], env=env, capture_output=True, text=True, timeout=WAIT
    )


def wipe_state(portal: Portal, email: str) -> str | None:
    with portal.services.database.transaction() as session:
        (state,) = session.scalars(
            select(DeviceToken.wipe_state)
            .join(User, User.id == DeviceToken.user_id)
            .where(User.email == email, DeviceToken.name == "Stolen laptop")
        ).all()
    return state


def actor_named(portal: Portal, email: str) -> Actor:
    with portal.services.database.transaction() as session:
        return actor_of(session.scalars(select(User).where(User.email == email)).one())


def mails_to(portal: Portal, email: str, subject: str) -> list[str]:
    """Bounded wait for the server's background sender to write the message to its outbox."""
    deadline = time.monotonic() + 30
    while True:
        found = [
            message.get_content()
            for message in read_outbox(portal.services.settings.outbox_dir)
            if message["To"] == email and message["Subject"] == subject
        ]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_a_running_sync_client_wiped_from_the_portal_erases_its_folder(
    page: Page, portal: Portal, tmp_path: Path
) -> None:
    email, _ = new_user(portal)
    env = sfs_login(portal, email, tmp_path / "config")
    folder = tmp_path / "laptop"
    fill(folder)
    client = subprocess.Popen(
        [SFS, "sync", str(folder), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert client.stdout is not None
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:  # the first pass has sent everything
            line = client.stdout.readline()
            if not line:
                pytest.fail(f"sfs sync stopped: {client.stderr.read() if client.stderr else ''}")
            if json.loads(line)["event"] == "pass":
                break
        assert (folder / ".sfs" / "index.db").exists()

        log_in(page, email, GOOD_PASSWORD)
        page.goto("/account/devices")
        row = page.locator("tr", has_text="Stolen laptop")
        expect(row).to_contain_text("Sync client")
        expect(row).to_contain_text("My Files")  # the folder it syncs
        row.get_by_role("link", name="Wipe").click()
        expect(page.get_by_role("heading", name="Wipe device")).to_be_visible()
        page.get_by_role("button", name="Wipe device").click()
        expect(page.get_by_role("status")).to_contain_text("will erase the files it synced")
        expect(page.locator("tr", has_text="Stolen laptop")).to_contain_text("Wipe pending since")

        # The running client learns it at its next contact (its long poll), wipes and exits.
        _, errors = client.communicate(timeout=WAIT)
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
    assert client.returncode == EXIT_WIPED, errors
    assert "this device was wiped remotely: erased 3 synced files" in errors
    assert "kept /private/diary.txt" in errors and "Traceback" not in errors
    assert left_in(folder) == {"private/diary.txt"}
    assert not (folder / ".sfs").exists() and not (folder / "projects").exists()
    assert load(tmp_path / "config") is None

    page.reload()
    expect(page.locator("tr", has_text="Stolen laptop")).to_contain_text("Wiped at")
    assert wipe_state(portal, email) == "wiped"
    (notice,) = mails_to(portal, email, "A device was wiped")
    assert (
        '"Stolen laptop" was wiped' in notice and "1 files on it that were never synced" in notice
    )

    again = sync_once(folder, env)
    assert again.returncode == 5 and "not logged in" in again.stderr


def test_a_client_killed_half_way_through_a_wipe_finishes_it_first_thing_at_its_next_start(
    portal: Portal, tmp_path: Path
) -> None:
    email, _ = new_user(portal)
    config = tmp_path / "config"
    env = sfs_login(portal, email, config)
    folder = tmp_path / "laptop"
    fill(folder)
    assert sync_once(folder, env).returncode == 0
    saved = load(config)
    assert saved is not None
    device = next(
        d for d in portal.services.devices.listing(actor_named(portal, email)).devices if d.working
    )
    portal.services.devices.request_wipe(actor_named(portal, email), device.id, client=CLIENT)
    refused = subprocess.run(
        [SFS, "ls", "/"], env=env, capture_output=True, text=True, timeout=WAIT
    )
    assert refused.returncode != 0  # the token is dead for everything else at once

    with SyncApi(saved.server_url, token=saved.token) as api, pytest.raises(Killed):
        RemoteWipe(folder, api=api, forget_login=lambda: None, fs=DiesAfter(1)).run()
    assert wipe_started(folder) and len(left_in(folder)) == 3  # one of three erased, then killed

    # Next start with the server out of reach: the wipe still comes first and finishes here.
    away = tmp_path / "config-away"
    away.mkdir()
    saved_text = (config / "credentials.json").read_text()
    (away / "credentials.json").write_text(
        saved_text.replace(portal.server.base_url, "http://127.0.0.1:9")
    )
    offline = sync_once(folder, {**env, "SFS_CLIENT_CONFIG_DIR": str(away)})
    assert offline.returncode == EXIT_WIPED, offline.stderr
    assert "could not be told yet" in offline.stderr
    assert left_in(folder) == {"private/diary.txt"} and wipe_started(folder)
    assert wipe_state(portal, email) == "wipe_pending"

    online = sync_once(folder, env)
    assert online.returncode == EXIT_WIPED, online.stderr
    assert "could not be told" not in online.stderr
    assert not (folder / ".sfs").exists() and load(config) is None
    assert wipe_state(portal, email) == "wiped"
