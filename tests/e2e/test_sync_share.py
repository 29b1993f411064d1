"""A folder shared by its owner with colleagues, synced with `sfs sync`: an Editor's client and
the owner's see each other's changes both ways; a Viewer syncs it down with `sfs sync --space
NAME` and may not write; nothing beside the shared folder ever reaches them."""

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
from tests.e2e.test_sync_two_clients import SFS, tree, write
from tests.support import FAST_HASH, GOOD_PASSWORD
from tests.world import CLIENT

PEOPLE = ("owen", "eddie", "vera")
# The folder each test shares (the server lives for the module).
SHARED = {
    "test_an_editor_and_the_owner_sync_a_shared_folder_both_ways": "Shared",
    "test_a_viewer_syncs_the_share_down_with_sfs_sync_space_and_may_not_write": "Reports",
}


@pytest.fixture(scope="module")
def tokens(server: RunningServer) -> dict[str, str]:
    """Owen, Eddie and Vera of one organisation, each with a device token."""
    data_dir = Path(server.log).parent / "sfs-data"
    services = build_services(load_settings(data_dir=data_dir), hasher=PasswordHasher(FAST_HASH))
    try:
        organisation = services.organisations.create(operator(), name="Sharers", client=CLIENT)
        for name in PEOPLE:
            services.accounts.create_user(
                operator(),
                organization_id=organisation.id,
                email=f"{name}@sharers.example.com",
                display_name=name.title(),
                password=GOOD_PASSWORD,
                role=Role.USER,
                client=CLIENT,
            )
    finally:
        services.database.dispose()
    tokens = {}
    for name in PEOPLE:
        with SyncApi(server.base_url) as api:
            outcome = api.login(
                email=f"{name}@sharers.example.com", password=GOOD_PASSWORD, device_name=name
            )
            assert outcome.token
            tokens[name] = outcome.token
    return tokens


@pytest.fixture
def pair(
    server: RunningServer, tokens: dict[str, str], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[SyncEngine, SyncEngine]]:
    """Owen's My Files (with a shared folder and /Private) and Eddie's client on the shared
    folder as an Editor (Vera: a Viewer). Each test shares a folder of its own name."""
    shared = SHARED[request.node.name]
    owner_root = tmp_path / "owen"
    write(owner_root / shared / "plan.txt", b"owen's plan")
    write(owner_root / "Private" / "salary.txt", b"not for eddie")
    owner = SyncEngine(owner_root, SyncApi(server.base_url, token=tokens["owen"]), device="owen")
    owner.api.use_space(None)
    assert not owner.sync_once().failed
    for name, role in (("eddie", "editor"), ("vera", "viewer")):
        owner.api._object(
            "POST",
            owner.api._space("/shares"),
            json={"path": f"/{shared}", "with_user": f"{name}@sharers.example.com", "role": role},
        )
    (tmp_path / "eddie").mkdir()
    editor_api = SyncApi(server.base_url, token=tokens["eddie"])
    assert editor_api.use_space(shared).kind == "share"
    editor = SyncEngine(tmp_path / "eddie", editor_api, device="eddie")
    yield owner, editor
    for each in (owner, editor):
        each.close()
        each.api.close()


def converge(owner: SyncEngine, editor: SyncEngine) -> None:
    for _ in range(4):
        reports = [owner.sync_once(), editor.sync_once()]
        assert not any(r.failed for r in reports), [r.failed for r in reports]
        if not any(r.changed_anything for r in reports):
            break
    shared = {
        path.removeprefix("Shared/"): body
        for path, body in tree(owner.root).items()
        if path.startswith("Shared/")
    }
    assert tree(editor.root) == shared


def test_an_editor_and_the_owner_sync_a_shared_folder_both_ways(
    pair: tuple[SyncEngine, SyncEngine],
) -> None:
    owner, editor = pair
    converge(owner, editor)
    assert tree(editor.root) == {"plan.txt": b"owen's plan"}
    write(editor.root / "Notes" / "eddie.txt", b"from eddie")
    write(editor.root / "plan.txt", b"plan, edited by eddie")
    converge(owner, editor)
    assert (owner.root / "Shared" / "Notes" / "eddie.txt").read_bytes() == b"from eddie"
    assert (owner.root / "Shared" / "plan.txt").read_bytes() == b"plan, edited by eddie"
    write(owner.root / "Shared" / "Notes" / "owen.txt", b"owen answers")
    write(owner.root / "Private" / "more.txt", b"still private")
    (owner.root / "Shared" / "plan.txt").unlink()
    converge(owner, editor)
    assert tree(editor.root) == {
        "Notes": None,
        "Notes/eddie.txt": b"from eddie",
        "Notes/owen.txt": b"owen answers",
    }
    # The owner renames the shared folder: the editor's client lists the share again.
    (owner.root / "Shared").rename(owner.root / "Shared by Owen")
    write(owner.root / "Shared by Owen" / "after.txt", b"after the rename")
    assert not owner.sync_once().failed
    assert not editor.sync_once().failed
    assert (editor.root / "after.txt").read_bytes() == b"after the rename"
    assert (editor.root / "Notes" / "owen.txt").read_bytes() == b"owen answers"


def test_a_viewer_syncs_the_share_down_with_sfs_sync_space_and_may_not_write(
    server: RunningServer,
    tokens: dict[str, str],
    pair: tuple[SyncEngine, SyncEngine],
    tmp_path: Path,
) -> None:
    owner, _ = pair
    config = tmp_path / "vera-config"
    config.mkdir()
    (config / "credentials.json").write_text(
        json.dumps(
            {
                "server_url": server.base_url,
                "token": tokens["vera"],
                "email": "vera@sharers.example.com",
                "device_name": "vera",
            }
        )
    )
    os.chmod(config / "credentials.json", 0o600)
    environment = {**os.environ, "SFS_CLIENT_CONFIG_DIR": str(config)}
    folder = tmp_path / "vera"

    def sync_cli() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SFS, "sync", str(folder), "--once", "--json", "--space", "Reports", "--create"],
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )

    first = sync_cli()
    assert first.returncode == 0, first.stderr
    assert tree(folder) == {"plan.txt": b"owen's plan"}
    write(owner.root / "Reports" / "later.txt", b"added later")
    assert not owner.sync_once().failed
    again = sync_cli()
    assert again.returncode == 0, again.stderr
    assert (folder / "later.txt").read_bytes() == b"added later"
    write(folder / "vera.txt", b"a viewer's file")
    refused = sync_cli()
    assert refused.returncode != 0
    assert "Viewer" in refused.stdout + refused.stderr
    owner.sync_once()
    assert not (owner.root / "Reports" / "vera.txt").exists()
