"""A team folder created by the organisation admin, synced by two members with their own
accounts both ways (in-process clients and `sfs sync --space NAME`), and refused to a Viewer."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sfs.app import build_services
from sfs.client.sync.engine import SyncEngine
from sfs.client.sync.remote import SyncApi
from sfs.config import load_settings
from sfs.crypto.passwords import PasswordHasher
from sfs.domain.actor import operator
from sfs.domain.roles import Role
from tests.e2e.test_quick_start import RunningServer
from tests.e2e.test_sync_two_clients import SFS, settle, tree, write
from tests.support import FAST_HASH, GOOD_PASSWORD
from tests.world import CLIENT

PEOPLE = ("admin", "ann", "bob", "vic")


@pytest.fixture(scope="module")
def tokens(server: RunningServer) -> dict[str, str]:
    """An organisation with an admin and three users; the admin makes 'Projects' over the REST
    API with Ann and Bob as Editors and Vic as a Viewer."""
    data_dir = Path(server.log).parent / "sfs-data"
    services = build_services(load_settings(data_dir=data_dir), hasher=PasswordHasher(FAST_HASH))
    try:
        organisation = services.organisations.create(operator(), name="Teamwork", client=CLIENT)
        for name in PEOPLE:
            services.accounts.create_user(
                operator(),
                organization_id=organisation.id,
                email=f"{name}@teamwork.example.com",
                display_name=name.title(),
                password=GOOD_PASSWORD,
                role=Role.ORG_ADMIN if name == "admin" else Role.USER,
                client=CLIENT,
            )
    finally:
        services.database.dispose()
    tokens = {}
    for name in PEOPLE:
        with SyncApi(server.base_url) as api:
            outcome = api.login(
                email=f"{name}@teamwork.example.com", password=GOOD_PASSWORD, device_name=name
            )
            assert outcome.token
            tokens[name] = outcome.token
    with SyncApi(server.base_url, token=tokens["admin"]) as admin:
        folder = admin._object("POST", "/team-folders", json={"name": "Projects"})
        for name, role in (("ann", "editor"), ("bob", "editor"), ("vic", "viewer")):
            admin._object(
                "PUT",
                f"/team-folders/{folder['id']}/members",
                json={"email": f"{name}@teamwork.example.com", "role": role},
            )
    return tokens


def engine(server: RunningServer, token: str, folder: Path, device: str) -> SyncEngine:
    folder.mkdir()
    api = SyncApi(server.base_url, token=token)
    assert api.use_space("Projects").kind == "team"
    return SyncEngine(folder, api, device=device)


@pytest.fixture
def team_pair(
    server: RunningServer, tokens: dict[str, str], tmp_path: Path
) -> Iterator[tuple[SyncEngine, SyncEngine]]:
    a = engine(server, tokens["ann"], tmp_path / "ann", "ann-laptop")
    b = engine(server, tokens["bob"], tmp_path / "bob", "bob-laptop")
    yield a, b
    for each in (a, b):
        each.close()
        each.api.close()


def test_two_members_sync_the_team_folder_both_ways(
    server: RunningServer, tokens: dict[str, str], team_pair: tuple[SyncEngine, SyncEngine]
) -> None:
    a, b = team_pair
    write(a.root / "Plans" / "q1.txt", b"from ann")
    settle(a, b)
    assert (b.root / "Plans" / "q1.txt").read_bytes() == b"from ann"
    write(b.root / "Plans" / "q1.txt", b"edited by bob")
    write(b.root / "notes.txt", b"bob's notes")
    settle(b, a)
    assert (a.root / "Plans" / "q1.txt").read_bytes() == b"edited by bob"
    (a.root / "notes.txt").unlink()
    settle(a, b)
    assert not (b.root / "notes.txt").exists()
    # Nothing of it landed in anyone's My Files.
    with SyncApi(server.base_url, token=tokens["ann"]) as mine:
        assert mine.snapshot().entries == {}


def test_sfs_sync_space_name_and_a_viewer_who_may_only_read(
    server: RunningServer,
    tokens: dict[str, str],
    team_pair: tuple[SyncEngine, SyncEngine],
    tmp_path: Path,
) -> None:
    a, _ = team_pair
    write(a.root / "shared.txt", b"for everyone")
    assert not a.sync_once().failed
    config = tmp_path / "vic-config"
    config.mkdir()
    (config / "credentials.json").write_text(
        json.dumps(
            {
                "server_url": server.base_url,
                "token": tokens["vic"],
                "email": "vic@teamwork.example.com",
                "device_name": "vic",
            }
        )
    )
    os.chmod(config / "credentials.json", 0o600)
    environment = {**os.environ, "SFS_CLIENT_CONFIG_DIR": str(config)}
    folder = tmp_path / "vic"

    def sync_cli() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SFS, "sync", str(folder), "--once", "--json", "--space", "Projects", "--create"],
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )

    first = sync_cli()
    assert first.returncode == 0, first.stderr
    assert (folder / "shared.txt").read_bytes() == b"for everyone"
    write(folder / "vic.txt", b"a viewer's file")
    refused = sync_cli()
    assert refused.returncode != 0
    assert "Viewer" in refused.stdout + refused.stderr
    a.sync_once()
    assert "vic.txt" not in tree(a.root)
