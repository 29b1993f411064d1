"""Team folders as the Nextcloud desktop client (`nextcloudcmd`) and rclone see them, against a
real `sfs serve`, with no set-up beyond the account: the team folder is a folder at the top of
the member's files; what the client adds there lands in the team folder (a colleague reads it),
what a colleague adds there comes down, and rclone copies into it and checks clean."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sfs.app import Services, build_services
from sfs.config import load_settings
from sfs.crypto.passwords import PasswordHasher
from sfs.domain.actor import operator
from sfs.domain.roles import Role
from tests.e2e.nextcloud_support import NextcloudUser, local_tree, nextcloud_user, write
from tests.e2e.test_quick_start import RunningServer
from tests.e2e.test_rclone_nextcloud import rclone
from tests.support import FAST_HASH, GOOD_PASSWORD
from tests.world import CLIENT, actor


@dataclass
class Team:
    member: NextcloudUser
    services: Services
    space_id: str


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    data_dir = tmp_path_factory.mktemp("team") / "sfs-data"
    server = RunningServer(data_dir)
    try:
        server.wait_until_ready()
        services = build_services(
            load_settings(data_dir=data_dir), hasher=PasswordHasher(FAST_HASH)
        )
        member = nextcloud_user(server, services, "tess@acme.example.com")
        organisation = services.organisations.find_by_name(operator(), f"Org {member.email}").id
        admin = actor(
            services,
            services.accounts.create_user(
                operator(),
                organization_id=organisation,
                email="admin@tess.example.com",
                display_name="Ada Admin",
                password=GOOD_PASSWORD,
                role=Role.ORG_ADMIN,
                client=CLIENT,
            ),
        )
        folder = services.team_folders.create(admin, "Projects", client=CLIENT)
        services.team_folders.set_user_role(admin, folder.id, member.email, "editor", client=CLIENT)
        services.team_folders.set_user_role(admin, folder.id, admin.email, "manager", client=CLIENT)
        member.api.post(
            f"/api/v1/spaces/{folder.id}/folders", json={"path": "/keep"}
        ).raise_for_status()
        for n in range(3):  # files that never change: the client asks nothing
            member.api.put(
                f"/api/v1/spaces/{folder.id}/content",
                params={"path": f"/keep/k{n}.txt"},
                content=f"kept {n}\n".encode(),
            ).raise_for_status()
        yield Team(member, services, str(folder.id))
        member.api.close()
        services.database.dispose()
    finally:
        server.stop()


def team_tree(team: Team, path: str = "/") -> dict[str, bytes | None]:
    found: dict[str, bytes | None] = {}
    api = team.member.api
    answer = api.get(f"/api/v1/spaces/{team.space_id}/children", params={"path": path})
    answer.raise_for_status()
    for node in answer.json():
        relative = node["path"].lstrip("/")
        if node["kind"] == "folder":
            found[relative] = None
            found.update(team_tree(team, node["path"]))
        else:
            got = api.get(f"/api/v1/spaces/{team.space_id}/content", params={"path": node["path"]})
            found[relative] = got.content
    return found


def test_the_desktop_client_syncs_the_team_folder_both_ways(team: Team, tmp_path: Path) -> None:
    folder = tmp_path / "sync"
    folder.mkdir()
    team.member.sync(folder)
    assert local_tree(folder)["Projects/keep/k0.txt"] == b"kept 0\n"
    write(folder, "Projects/from-client.txt", b"written on the laptop\n")
    write(folder, "mine.txt", b"my own\n")
    team.member.sync(folder)
    assert team_tree(team)["from-client.txt"] == b"written on the laptop\n"
    assert "from-client.txt" not in team.member.server_tree()
    assert team.member.server_tree()["mine.txt"] == b"my own\n"
    team.member.api.put(
        f"/api/v1/spaces/{team.space_id}/content",
        params={"path": "/from-colleague.txt"},
        content=b"written by a colleague\n",
    ).raise_for_status()
    team.member.sync(folder)
    assert (folder / "Projects/from-colleague.txt").read_bytes() == b"written by a colleague\n"


def test_rclone_copies_into_the_team_folder_and_checks_clean(team: Team, tmp_path: Path) -> None:
    source = tmp_path / "source"
    for n in range(3):
        write(source, f"r{n}.bin", os.urandom(2000 * (n + 1)))
    listed = rclone(team.member, "lsf", "sfs:")
    assert listed.returncode == 0, listed.stderr
    assert "Projects/" in listed.stdout.splitlines()
    copied = rclone(team.member, "copy", str(source), "sfs:Projects/backup")
    assert copied.returncode == 0, copied.stderr
    checked = rclone(team.member, "check", str(source), "sfs:Projects/backup")
    assert checked.returncode == 0, checked.stderr
    assert team_tree(team)["backup/r2.bin"] == (source / "r2.bin").read_bytes()
