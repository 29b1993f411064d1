"""Team folders at the top of one's files, at /remote.php/dav/files/{user}/ and /dav/, as
Nextcloud shows group folders: listed with M in their permissions, read and written through
their name with the member's role, never deleted, moved or crossed into from a client (403 /
502), the top folder's ETag moving when a team folder changes, chunked uploads landing in them,
a My Files folder of the same name winning the name, and nobody else's team folder in sight."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.domain.actor import Actor
from tests.dav import DavUser, dav_user, propfind
from tests.integration.test_dav_tenancy import state
from tests.integration.test_team_folders import colleague
from tests.world import CLIENT, Tenant, actor, make_tenant

PROPS = (
    '<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop><d:getetag/>'
    "<d:resourcetype/><oc:permissions/><oc:size/><oc:fileid/></d:prop></d:propfind>"
)


@pytest.fixture
def acme(services: Services) -> Tenant:
    return make_tenant(services, "Acme")


@pytest.fixture
def team(services: Services, client: TestClient, acme: Tenant) -> dict[str, DavUser]:
    admin = actor(services, acme.admin)
    folder = services.team_folders.create(admin, "Projects", client=CLIENT).id
    viewer = colleague(services, acme, "viewer")
    outsider = colleague(services, acme, "outsider")
    services.team_folders.set_user_role(admin, folder, acme.user.email, "editor", client=CLIENT)
    services.team_folders.set_user_role(admin, folder, viewer.email, "viewer", client=CLIENT)
    people = {
        "editor": dav_user(services, acme.user),
        "viewer": dav_user(services, view_of(services, admin, viewer)),
        "outsider": dav_user(services, view_of(services, admin, outsider)),
        "stranger": dav_user(services, make_tenant(services, "Globex").user),
    }
    editor = people["editor"]
    put = client.put(f"{editor.root}/Projects/plan.txt", content=b"plan", headers=editor.headers)
    assert put.status_code == 201, put.text
    return people


def view_of(services: Services, admin: Actor, who: Actor) -> object:
    return services.accounts.get_user(admin, who.user_id)


def hrefs(answer: object) -> list[str]:
    return re.findall(r"<d:href>([^<]+)</d:href>", answer.text)  # type: ignore[attr-defined]


def entry(answer: object, href: str) -> str:
    text: str = answer.text  # type: ignore[attr-defined]
    start = text.index(f"<d:href>{href}</d:href>")
    return text[start : text.index("</d:response>", start)]


def test_members_see_the_team_folder_at_the_top_of_their_files(
    client: TestClient, team: dict[str, DavUser]
) -> None:
    for name in ("editor", "viewer"):
        who = team[name]
        top = propfind(client, who.root + "/", who.headers, body=PROPS)
        assert top.status_code == 207
        assert f"{who.root}/Projects/" in hrefs(top), name
        mounted = entry(top, f"{who.root}/Projects/")
        assert "<d:collection/>" in mounted and "<oc:size>4</oc:size>" in mounted
        permissions = re.search(r"<oc:permissions>(\w+)</oc:permissions>", mounted)
        assert permissions is not None
        assert permissions.group(1) == ("MGCK" if name == "editor" else "MG")
        inside = propfind(client, f"{who.root}/Projects/", who.headers, body=PROPS)
        assert f"{who.root}/Projects/plan.txt" in hrefs(inside)
        got = client.get(f"{who.root}/Projects/plan.txt", headers=who.headers)
        assert got.content == b"plan"
        alias = propfind(client, "/dav/", who.headers)
        assert "/dav/Projects/" in hrefs(alias)
    for name in ("outsider", "stranger"):
        who = team[name]
        assert "Projects" not in propfind(client, who.root + "/", who.headers).text
        assert client.get(f"{who.root}/Projects/plan.txt", headers=who.headers).status_code == 404


def test_the_viewer_cannot_write_and_the_editor_can(
    client: TestClient, services: Services, team: dict[str, DavUser]
) -> None:
    viewer, editor = team["viewer"], team["editor"]
    before = state(services)
    assert (
        client.put(
            f"{viewer.root}/Projects/new.txt", content=b"x", headers=viewer.headers
        ).status_code
        == 403
    )
    assert (
        client.request("MKCOL", f"{viewer.root}/Projects/sub", headers=viewer.headers).status_code
        == 403
    )
    assert (
        client.delete(f"{viewer.root}/Projects/plan.txt", headers=viewer.headers).status_code == 403
    )
    assert state(services) == before
    assert (
        client.request("MKCOL", f"{editor.root}/Projects/Docs", headers=editor.headers).status_code
        == 201
    )
    moved = client.request(
        "MOVE",
        f"{editor.root}/Projects/plan.txt",
        headers={**editor.headers, "Destination": f"{editor.root}/Projects/Docs/plan.txt"},
    )
    assert moved.status_code == 201
    assert (
        client.get(f"{viewer.root}/Projects/Docs/plan.txt", headers=viewer.headers).content
        == b"plan"
    )


def test_the_team_folder_itself_stays_and_nothing_crosses_its_edge(
    client: TestClient, team: dict[str, DavUser]
) -> None:
    editor = team["editor"]
    h, root = editor.headers, editor.root
    assert client.put(f"{root}/mine.txt", content=b"mine", headers=h).status_code == 201
    assert client.delete(f"{root}/Projects", headers=h).status_code == 403
    assert client.request("MKCOL", f"{root}/Projects", headers=h).status_code == 405
    assert client.put(f"{root}/Projects", content=b"x", headers=h).status_code == 405
    for source, target in (
        (f"{root}/Projects", f"{root}/Renamed"),
        (f"{root}/Projects/plan.txt", f"{root}/plan.txt"),
        (f"{root}/mine.txt", f"{root}/Projects/mine.txt"),
        (f"{root}/mine.txt", "/dav/Projects/mine.txt"),
    ):
        for method in ("MOVE", "COPY"):
            answer = client.request(method, source, headers={**h, "Destination": target})
            assert answer.status_code in (403, 502), (method, source, target, answer.text)
    assert client.get(f"{root}/mine.txt", headers=h).content == b"mine"
    assert client.get(f"{root}/Projects/plan.txt", headers=h).content == b"plan"
    assert client.get(f"{root}/plan.txt", headers=h).status_code == 404


def test_the_top_etag_moves_when_a_team_folder_changes(
    client: TestClient, team: dict[str, DavUser]
) -> None:
    editor, viewer = team["editor"], team["viewer"]

    def top_etag() -> str:
        answer = propfind(client, viewer.root + "/", viewer.headers, depth="0", body=PROPS)
        found = re.search(r"<d:getetag>([^<]+)</d:getetag>", answer.text)
        assert found is not None
        return found.group(1)

    first = top_etag()
    assert top_etag() == first
    changed = client.put(
        f"{editor.root}/Projects/plan.txt", content=b"new plan", headers=editor.headers
    )
    assert changed.status_code == 204
    assert top_etag() != first


def test_a_chunked_upload_lands_in_the_team_folder(
    client: TestClient, services: Services, team: dict[str, DavUser]
) -> None:
    editor = team["editor"]
    base = f"/remote.php/dav/uploads/{editor.view.id}/t-1"
    assert client.request("MKCOL", base, headers=editor.headers).status_code == 201
    assert client.put(f"{base}/00001", content=b"big ", headers=editor.headers).status_code == 201
    assert client.put(f"{base}/00002", content=b"file", headers=editor.headers).status_code == 201
    joined = client.request(
        "MOVE",
        f"{base}/.file",
        headers={**editor.headers, "Destination": f"{editor.root}/Projects/big.bin"},
    )
    assert joined.status_code == 201, joined.text
    viewer = team["viewer"]
    assert (
        client.get(f"{viewer.root}/Projects/big.bin", headers=viewer.headers).content == b"big file"
    )
    assert client.get(f"{editor.root}/big.bin", headers=editor.headers).status_code == 404


def test_a_my_files_folder_of_the_same_name_keeps_it(
    client: TestClient, services: Services, acme: Tenant, team: dict[str, DavUser]
) -> None:
    viewer = team["viewer"]
    me = actor(services, viewer.view)  # type: ignore[arg-type]
    services.file_tree.create_folder(
        me, space_id=services.spaces.my_files(me).id, path="/projects", client=CLIENT
    )
    top = hrefs(propfind(client, viewer.root + "/", viewer.headers))
    assert f"{viewer.root}/projects/" in top
    assert f"{viewer.root}/Projects%20%28team%20folder%29/" in top
    got = client.get(
        f"{viewer.root}/Projects%20%28team%20folder%29/plan.txt", headers=viewer.headers
    )
    assert got.content == b"plan"
    # Everybody else still sees the team folder under its own name.
    editor = team["editor"]
    assert f"{editor.root}/Projects/" in hrefs(propfind(client, editor.root + "/", editor.headers))
