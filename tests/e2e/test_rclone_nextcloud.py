"""rclone in `vendor = nextcloud` mode against a real `sfs serve`, with an app password: copy,
modification times kept, `rclone check` clean; and SHA1 compared by `check` (PROPFIND reports
oc:checksums)."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sfs.app import build_services
from sfs.config import load_settings
from sfs.crypto.passwords import PasswordHasher
from tests.e2e.nextcloud_support import NextcloudUser, nextcloud_user, write
from tests.e2e.test_quick_start import RunningServer
from tests.support import FAST_HASH, require_tool

OLD = 1_600_000_000  # 2020-09-13: a modification time rclone must carry over


@pytest.fixture(scope="module")
def rita(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NextcloudUser]:
    data_dir = tmp_path_factory.mktemp("rclone") / "sfs-data"
    server = RunningServer(data_dir)
    try:
        server.wait_until_ready()
        settings = load_settings(data_dir=data_dir)
        services = build_services(settings, hasher=PasswordHasher(FAST_HASH))
        user = nextcloud_user(server, services, "rita@acme.example.com")
        yield user
        user.api.close()
        services.database.dispose()
    finally:
        server.stop()


def rclone(rita: NextcloudUser, *args: str) -> subprocess.CompletedProcess[str]:
    me = rita.api.get("/ocs/v2.php/cloud/user?format=json", auth=(rita.email, rita.app_password))
    user_id = me.json()["ocs"]["data"]["id"]
    binary = require_tool("rclone")
    obscured = subprocess.run(
        [binary, "obscure", rita.app_password], capture_output=True, text=True, check=True
    ).stdout.strip()
    environment = {
        **os.environ,
        "RCLONE_CONFIG_SFS_TYPE": "webdav",
        "RCLONE_CONFIG_SFS_URL": f"{rita.server.base_url}/remote.php/dav/files/{user_id}/",
        "RCLONE_CONFIG_SFS_VENDOR": "nextcloud",
        "RCLONE_CONFIG_SFS_USER": rita.email,
        "RCLONE_CONFIG_SFS_PASS": obscured,
    }
    return subprocess.run(
        [binary, "--config", "/dev/null", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def local_files(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    for n in range(5):
        write(source, f"f{n}.bin", os.urandom(1000 * (n + 1)))
    write(source, "folder/inside.txt", b"inside\n")
    os.utime(source / "f0.bin", (OLD, OLD))
    return source


def test_copy_keeps_modification_times_and_check_agrees(
    rita: NextcloudUser, tmp_path: Path
) -> None:
    source = local_files(tmp_path)
    copied = rclone(rita, "copy", str(source), "sfs:backup")
    assert copied.returncode == 0, copied.stderr
    listed = rclone(rita, "lsjson", "-R", "sfs:backup")
    assert listed.returncode == 0, listed.stderr
    assert '"ModTime":"2020-09-13T12:26:40Z"' in listed.stdout.replace(" ", "")
    checked = rclone(rita, "check", str(source), "sfs:backup")
    assert checked.returncode == 0, checked.stderr
    assert "0 differences found" in checked.stderr
    tree = rita.server_tree("/backup")
    assert tree["backup/folder/inside.txt"] == b"inside\n"
    # A change on the server is seen.
    rita.put("/backup/f1.bin", b"changed on the server")
    assert rclone(rita, "check", str(source), "sfs:backup").returncode != 0


def test_check_compares_sha1(rita: NextcloudUser, tmp_path: Path) -> None:
    source = local_files(tmp_path)
    assert rclone(rita, "copy", str(source), "sfs:hashed").returncode == 0
    hashed = rclone(rita, "hashsum", "sha1", "sfs:hashed")
    assert hashed.returncode == 0, hashed.stderr
    served = {
        name: digest
        for digest, name in (line.split("  ", 1) for line in hashed.stdout.splitlines())
    }
    assert served == {
        str(path.relative_to(source)): hashlib.sha1(path.read_bytes()).hexdigest()  # noqa: S324
        for path in source.rglob("*")
        if path.is_file()
    }
    checked = rclone(rita, "check", "--one-way", str(source), "sfs:hashed")
    assert checked.returncode == 0, checked.stderr
    assert "hashes could not be checked" not in checked.stderr
    assert "0 differences found" in checked.stderr
    # Same size, other bytes: only the SHA1 can tell.
    size = (source / "f2.bin").stat().st_size
    rita.put("/hashed/f2.bin", os.urandom(size))
    differs = rclone(rita, "check", "--one-way", str(source), "sfs:hashed")
    assert differs.returncode != 0
    assert "1 differences found" in differs.stderr
    assert "f2.bin" in differs.stderr
