"""Real WebDAV clients against a real `sfs serve`: litmus (the RFC 4918 suite), rclone, cadaver.

Each logs in with an app password, as a person's device would. Debian packages them; CI
installs them (.ci/run), and without them these tests fail there and skip elsewhere.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from sfs.app import build_services
from sfs.config import load_settings
from sfs.crypto.passwords import PasswordHasher
from sfs.domain.actor import operator
from tests.e2e.test_quick_start import RunningServer
from tests.support import FAST_HASH, GOOD_PASSWORD, require_tool
from tests.world import CLIENT, actor

LITMUS_GROUPS = ("basic", "copymove", "props", "locks", "http")


@dataclass(frozen=True)
class Account:
    email: str
    user_id: str
    app_password: str
    base_url: str

    @property
    def nextcloud_url(self) -> str:
        return f"{self.base_url}/remote.php/dav/files/{self.user_id}/"

    def rest_token(self) -> str:
        answer = httpx.post(
            f"{self.base_url}/api/v1/auth/login",
            json={"email": self.email, "password": GOOD_PASSWORD, "device_name": "e2e"},
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["token"])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = RunningServer(tmp_path_factory.mktemp("dav-server") / "sfs-data")
    try:
        running.wait_until_ready()
        yield running
    finally:
        running.stop()


_accounts = iter(range(1, 1000))


@pytest.fixture
def account(server: RunningServer) -> Account:
    """A fresh account with an app password for each test (an empty tree each time)."""
    n = next(_accounts)
    services = build_services(
        load_settings(data_dir=server.data_dir), hasher=PasswordHasher(FAST_HASH)
    )
    try:
        organisation = services.organisations.create(operator(), name=f"Dav {n}", client=CLIENT)
        user = services.accounts.create_user(
            operator(),
            organization_id=organisation.id,
            email=f"dav{n}@example.com",
            display_name=f"Dav Tester{n}",
            password=GOOD_PASSWORD,
            client=CLIENT,
        )
        created = services.app_passwords.create(actor(services, user), name="e2e", client=CLIENT)
    finally:
        services.database.dispose()
    return Account(user.email, str(user.id), created.secret, server.base_url)


def test_litmus_passes_every_test_of_every_group(account: Account, tmp_path: Path) -> None:
    litmus = require_tool("litmus")
    for url in (f"{account.base_url}/dav/", account.nextcloud_url):
        run = subprocess.run(
            [litmus, url, account.email, account.app_password],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "TESTS": " ".join(LITMUS_GROUPS)},
        )
        summaries = re.findall(
            r"<- summary for `(\w+)': of (\d+) tests run: (\d+) passed, (\d+) failed",
            run.stdout,
        )
        assert [group for group, *_ in summaries] == list(LITMUS_GROUPS), run.stdout
        for group, ran, passed, failed in summaries:
            assert int(failed) == 0 and ran == passed, f"{group}:\n{run.stdout}"
        assert "WARNING" not in run.stdout, run.stdout


def _rclone(remote_env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("rclone"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **remote_env, "RCLONE_CONFIG": "/dev/null"},
    )


def _remote(account: Account, vendor: str) -> dict[str, str]:
    obscured = subprocess.run(
        [require_tool("rclone"), "obscure", account.app_password],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    url = account.nextcloud_url if vendor != "other" else f"{account.base_url}/dav/"
    return {
        "RCLONE_CONFIG_SFS_TYPE": "webdav",
        "RCLONE_CONFIG_SFS_URL": url,
        "RCLONE_CONFIG_SFS_VENDOR": vendor,
        "RCLONE_CONFIG_SFS_USER": account.email,
        "RCLONE_CONFIG_SFS_PASS": obscured,
    }


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize("vendor", ["other", "owncloud"])
def test_rclone_copies_syncs_checks_and_sees_server_side_changes(
    account: Account, tmp_path: Path, vendor: str
) -> None:
    remote = _remote(account, vendor)
    local = tmp_path / "local"
    (local / "docs" / "deep").mkdir(parents=True)
    (local / "docs" / "a.txt").write_bytes(b"alpha")
    (local / "docs" / "deep" / "b.bin").write_bytes(os.urandom(300_000))
    (local / "empty.txt").write_bytes(b"")
    (local / "naïve café.txt").write_bytes(b"unicode name")
    os.utime(local / "docs" / "a.txt", (1_600_000_000, 1_600_000_000))

    copied = _rclone(remote, "copy", str(local), "sfs:backup")
    assert copied.returncode == 0, copied.stderr
    checked = _rclone(remote, "check", str(local), "sfs:backup")
    assert checked.returncode == 0, checked.stderr
    listing = _rclone(remote, "lsl", "sfs:backup/docs/a.txt")
    assert listing.returncode == 0, listing.stderr
    if vendor != "other":  # the ownCloud flavour sends X-OC-Mtime; plain WebDAV has no way to
        assert "2020-09-13 12:26:40" in listing.stdout, listing.stdout

    (local / "docs" / "a.txt").write_bytes(b"alpha, edited")
    (local / "empty.txt").unlink()
    synced = _rclone(remote, "sync", str(local), "sfs:backup")
    assert synced.returncode == 0, synced.stderr
    assert _rclone(remote, "check", str(local), "sfs:backup").returncode == 0

    token = account.rest_token()
    changed = httpx.put(
        f"{account.base_url}/api/v1/spaces/me/content",
        params={"path": "/backup/docs/from-server.txt"},
        content=b"written through the REST API",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert changed.status_code == 200, changed.text
    back = tmp_path / "back"
    pulled = _rclone(remote, "sync", "sfs:backup", str(back))
    assert pulled.returncode == 0, pulled.stderr
    expected = {**_tree(local), "docs/from-server.txt": b"written through the REST API"}
    assert _tree(back) == expected


def test_a_cadaver_session(account: Account, tmp_path: Path) -> None:
    cadaver = require_tool("cadaver")
    home = tmp_path / "home"
    home.mkdir()
    host = account.base_url.split("//")[1].split(":")[0]
    netrc = home / ".netrc"
    netrc.write_text(f"machine {host} login {account.email} password {account.app_password}\n")
    netrc.chmod(0o600)
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("cadaver was here\n")
    script = "\n".join(
        [
            "mkcol projects",
            "cd projects",
            "put notes.txt",
            "propset notes.txt colour blue",
            "propget notes.txt colour",
            "copy notes.txt notes-copy.txt",
            "move notes-copy.txt renamed.txt",
            "lock renamed.txt",
            "unlock renamed.txt",
            "ls",
            "get renamed.txt fetched.txt",
            "delete notes.txt",
            "ls",
            "quit",
        ]
    )
    run = subprocess.run(
        [cadaver, f"{account.base_url}/dav/"],
        input=script + "\n",
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(home)},
    )
    output = run.stdout + run.stderr
    assert "succeeded" in output and "failed" not in output.lower(), output
    assert "Value of colour is: blue" in output, output
    assert (work / "fetched.txt").read_text() == "cadaver was here\n"
    listings = output.split("Listing collection")
    assert "renamed.txt" in listings[-1] and "notes.txt " not in listings[-1], output
