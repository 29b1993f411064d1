"""The sync client's side of a remote wipe, against the app in-process: what it erases, what it
keeps, and a wipe cut short that the next start finishes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.cli.exit_codes import EXIT_WIPED
from sfs.cli.main import main
from sfs.client.api import ApiError
from sfs.client.credentials import (
    Credentials,
    forget_wiped,
    load,
    remember_wiped,
    save,
    wiped_servers,
)
from sfs.client.sync.engine import SyncEngine
from sfs.client.sync.folder_fs import FolderFS
from sfs.client.sync.remote import SyncApi
from sfs.client.sync.wipe import MARKER, RemoteWipe, wipe_started
from sfs.domain.actor import ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.services.identity.devices import DeviceList
from tests.integration.test_devices import events
from tests.support import GOOD_PASSWORD
from tests.world import Tenant, actor, make_tenant

LAPTOP = ClientInfo(address="198.51.100.20", user_agent="sfs-sync/0.1.0 (Linux; x86_64)")


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, no handler catches it."""


class DiesAfter(FolderFS):
    """The disk of a client killed after it deleted `deletions` files."""

    def __init__(self, deletions: int) -> None:
        self.left = deletions

    def unlink(self, path: Path) -> None:
        if self.left == 0:
            raise Killed()
        self.left -= 1
        super().unlink(path)


@pytest.fixture
def acme(services: Services) -> Tenant:
    return make_tenant(services, "Acme")


@pytest.fixture
def synced(
    client: TestClient, services: Services, acme: Tenant, tmp_path: Path
) -> tuple[Path, Path, str]:
    """A folder synced once both ways: two files from the server, two sent from here, one that
    the ignore rules kept here; then a file written after the last pass (never synced)."""
    answer = client.post(
        "/api/v1/auth/login",
        json={"email": acme.user.email, "password": GOOD_PASSWORD, "device_name": "Laptop"},
        headers={"User-Agent": LAPTOP.user_agent or ""},
    )
    token = answer.json()["token"]
    folder = tmp_path / "folder"
    (folder / "mine").mkdir(parents=True)
    (folder / "mine" / "sent.txt").write_bytes(b"sent from here")
    (folder / "top.txt").write_bytes(b"also sent")
    (folder / "scratch.tmp").write_bytes(b"ignored, never synced")
    with api_for(client, token) as api:
        api.use_space(None)
        api.create_folder("/shared")
        api.upload_content("/shared/report.pdf", [b"from the server"], base_version=None)
        api.upload_content("/notes.txt", [b"from the server too"], base_version=None)
        engine = SyncEngine(folder, api, device="laptop")
        try:
            engine.sync_once()
        finally:
            engine.close()
    (folder / "shared" / "draft.txt").write_bytes(b"written after the last pass")
    config = tmp_path / "config"
    save(config, Credentials(str(client.base_url), token, acme.user.email, "Laptop"))
    return folder, config, token


def api_for(client: TestClient, token: str) -> SyncApi:
    return SyncApi(str(client.base_url), token=token, transport=client._transport)


def files_in(folder: Path) -> set[str]:
    return {
        "/" + path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if (path.is_file() or path.is_symlink()) and ".sfs" not in path.parts
    }


def devices(services: Services, acme: Tenant) -> DeviceList:
    return services.devices.listing(actor(services, acme.user))


def wipe_from_portal(services: Services, acme: Tenant) -> None:
    (device,) = devices(services, acme).devices
    services.devices.request_wipe(
        actor(services, acme.admin), device.id, client=LAPTOP, user_id=acme.user.id
    )


def test_a_wiped_client_erases_what_it_synced_keeps_the_rest_and_reports_once(
    client: TestClient, services: Services, acme: Tenant, synced: tuple[Path, Path, str]
) -> None:
    folder, config, token = synced
    assert files_in(folder) >= {"/notes.txt", "/shared/report.pdf", "/mine/sent.txt"}
    wipe_from_portal(services, acme)

    with api_for(client, token) as api:
        with pytest.raises(ApiError) as refused:
            api.me()
        assert (refused.value.status, refused.value.code) == (401, "device_wiped")
        assert api.wipe_requested() is True
        report = RemoteWipe(folder, api=api, forget_login=lambda: config_removed(config)).run()

    assert sorted(report.erased) == [
        "/mine/sent.txt",
        "/notes.txt",
        "/shared/report.pdf",
        "/top.txt",
    ]
    assert report.kept == ["/scratch.tmp", "/shared/draft.txt"] and report.reported
    assert files_in(folder) == {"/scratch.tmp", "/shared/draft.txt"}
    assert not (folder / "mine").exists()  # an emptied synced folder goes too
    assert not (folder / ".sfs").exists()
    assert load(config) is None
    (device,) = devices(services, acme).devices
    assert device.wipe_state == "wiped"
    (confirmed,) = events(services, AuditEventType.DEVICE_WIPED)
    assert confirmed["files_kept"] == 2


def config_removed(config: Path) -> None:
    (config / "credentials.json").unlink()


def test_a_client_killed_half_way_through_a_wipe_finishes_it_at_its_next_start(
    client: TestClient, services: Services, acme: Tenant, synced: tuple[Path, Path, str]
) -> None:
    folder, config, token = synced
    wipe_from_portal(services, acme)
    with api_for(client, token) as api, pytest.raises(Killed):
        RemoteWipe(
            folder, api=api, forget_login=lambda: config_removed(config), fs=DiesAfter(2)
        ).run()
    assert wipe_started(folder)  # the marker was made durable before the first deletion
    synced_files = {"/notes.txt", "/shared/report.pdf", "/mine/sent.txt", "/top.txt"}
    assert len(synced_files - files_in(folder)) == 2
    assert devices(services, acme).devices[0].wipe_state == "wipe_pending"
    assert load(config) is not None

    with api_for(client, token) as api:
        report = RemoteWipe(folder, api=api, forget_login=lambda: config_removed(config)).run()
    assert files_in(folder) == {"/scratch.tmp", "/shared/draft.txt"}
    assert report.reported and not wipe_started(folder) and load(config) is None
    assert devices(services, acme).devices[0].wipe_state == "wiped"


def test_a_server_away_at_the_end_leaves_the_marker_and_the_login_for_the_next_start(
    client: TestClient, services: Services, acme: Tenant, synced: tuple[Path, Path, str]
) -> None:
    folder, config, token = synced
    wipe_from_portal(services, acme)
    with SyncApi("http://127.0.0.1:9", token=token, timeout=2) as away:
        report = RemoteWipe(folder, api=away, forget_login=lambda: config_removed(config)).run()
    assert not report.reported and wipe_started(folder) and load(config) is not None
    assert files_in(folder) == {"/scratch.tmp", "/shared/draft.txt"}
    assert (folder / ".sfs" / MARKER).exists()

    with api_for(client, token) as api:
        again = RemoteWipe(folder, api=api, forget_login=lambda: config_removed(config)).run()
    assert again.reported and not (folder / ".sfs").exists()
    assert devices(services, acme).devices[0].wipe_state == "wiped"
    assert len(events(services, AuditEventType.DEVICE_WIPED)) == 1


def test_a_wipe_never_deletes_through_a_link_out_of_the_folder(
    client: TestClient,
    services: Services,
    acme: Tenant,
    synced: tuple[Path, Path, str],
    tmp_path: Path,
) -> None:
    folder, config, token = synced
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "report.pdf").write_bytes(b"not the server's")
    for name in os.listdir(folder / "shared"):
        (folder / "shared" / name).unlink()
    (folder / "shared").rmdir()
    (folder / "shared").symlink_to(outside, target_is_directory=True)
    wipe_from_portal(services, acme)
    with api_for(client, token) as api:
        report = RemoteWipe(folder, api=api, forget_login=lambda: config_removed(config)).run()
    assert (outside / "report.pdf").read_bytes() == b"not the server's"
    assert "/shared" in report.kept


def test_every_folder_synced_with_a_wiped_login_erases_itself_at_its_next_start(
    client: TestClient, synced: tuple[Path, Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another folder heard of the wipe first: it reported it and forgot the login. This one,
    synced with the same login, must not stop at "not logged in" with its files in place."""
    folder, config, _token = synced
    server = str(client.base_url)
    remember_wiped(config, server)
    (config / "credentials.json").unlink()  # the first folder's wipe forgot the login
    monkeypatch.setenv("SFS_CLIENT_CONFIG_DIR", str(config))
    told = CliRunner().invoke(main, ["status", str(folder)])
    assert told.exit_code == EXIT_WIPED and "not erased yet" in told.output

    result = CliRunner().invoke(main, ["sync", str(folder), "--once"])

    assert result.exit_code == EXIT_WIPED, result.output
    assert "wiped remotely" in result.output
    assert files_in(folder) == {"/scratch.tmp", "/shared/draft.txt"}  # never synced: kept
    assert not (folder / ".sfs").exists()
    # A folder synced with another server is not touched, and a new login to the server (the
    # password and second factor again) lifts the tombstone for the folders synced after it.
    remember_wiped(config, "http://elsewhere.example")
    forget_wiped(config, server)
    assert wiped_servers(config) == {"http://elsewhere.example"}
