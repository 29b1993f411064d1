"""Shares over WebDAV at /remote.php/dav/spaces/{share id}/: the recipient sees the shared
folder and nothing beside it, a Viewer's every write is 403 and changes nothing, an Editor
writes where the owner sees it, and neither `..` nor a Destination leads out of the share."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sfs.app import Services
from tests.dav import DavUser, dav_user, propfind
from tests.integration.test_dav_team_folders import WRITES
from tests.integration.test_dav_tenancy import state
from tests.integration.test_files_api import chunk_rows
from tests.integration.test_team_folders import colleague
from tests.world import CLIENT, actor, make_tenant


@pytest.fixture
def shared(services: Services, client: TestClient) -> dict[str, tuple[str, DavUser]]:
    """The owner's /Team/plan.txt, shared as Viewer and Editor; /secret.txt beside it. Each
    person with the root of what they reach (the owner: their own files)."""
    acme, globex = make_tenant(services, "Acme"), make_tenant(services, "Globex")
    admin = actor(services, acme.admin)
    owner = dav_user(services, acme.user)
    people = {
        name: dav_user(
            services,
            services.accounts.get_user(admin, colleague(services, acme, name).user_id),
        )
        for name in ("viewer", "editor", "outsider")
    }
    people["stranger"] = dav_user(services, globex.user)
    for path, body in (("/dav/Team", None), ("/dav/Team/plan.txt", b"the plan")):
        made = (
            client.request("MKCOL", path, headers=owner.headers)
            if body is None
            else client.put(path, content=body, headers=owner.headers)
        )
        assert made.status_code == 201, made.text
    assert (
        client.put("/dav/secret.txt", content=b"secret", headers=owner.headers).status_code == 201
    )
    me = actor(services, acme.user)
    mine = services.spaces.my_files(me).id
    roots = {"owner": ("/dav", owner)}
    for role in ("viewer", "editor"):
        made = services.shares.create(
            me,
            space_id=mine,
            path="/Team",
            role=role,
            client=CLIENT,
            user_email=people[role].view.email,
        )
        roots[role] = (f"/remote.php/dav/spaces/{made.id}", people[role])
    viewer_root = roots["viewer"][0]
    roots["outsider"] = (viewer_root, people["outsider"])
    roots["stranger"] = (viewer_root, people["stranger"])
    return roots


def test_the_recipient_sees_the_shared_folder_and_nothing_beside_it(
    client: TestClient, shared: dict[str, tuple[str, DavUser]]
) -> None:
    root, viewer = shared["viewer"]
    listing = propfind(client, root + "/", viewer.headers)
    assert listing.status_code == 207 and f"{root}/plan.txt" in listing.text
    assert "secret" not in listing.text and "Team" not in listing.text.replace(root, "")
    got = client.get(f"{root}/plan.txt", headers=viewer.headers)
    assert got.status_code == 200 and got.content == b"the plan"
    for escape in ("/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt"):
        answer = client.get(root + escape, headers=viewer.headers)
        assert answer.status_code in (400, 404), (escape, answer.status_code)
        assert answer.content != b"secret"


def test_an_editor_writes_and_the_owner_sees_it(
    client: TestClient, shared: dict[str, tuple[str, DavUser]]
) -> None:
    root, editor = shared["editor"]
    _, owner = shared["owner"]
    assert (
        client.put(f"{root}/notes.txt", content=b"eddie", headers=editor.headers).status_code == 201
    )
    moved = client.request(
        "MOVE", f"{root}/notes.txt", headers={**editor.headers, "Destination": f"{root}/n.txt"}
    )
    assert moved.status_code == 201, moved.text
    assert client.get("/dav/Team/n.txt", headers=owner.headers).content == b"eddie"
    # The shared folder itself stays: neither deleted nor moved by a recipient.
    assert client.request("DELETE", root + "/", headers=editor.headers).status_code in (
        403,
        405,
        409,
    )
    assert client.get("/dav/Team/plan.txt", headers=owner.headers).status_code == 200


@pytest.mark.parametrize("method", ["COPY", "MOVE"])
def test_a_destination_never_leads_out_of_the_share(
    client: TestClient, services: Services, shared: dict[str, tuple[str, DavUser]], method: str
) -> None:
    root, editor = shared["editor"]
    before = state(services)
    for destination in ("/dav/plan.txt", "/remote.php/dav/files/x/plan.txt", f"{root}/../out.txt"):
        answer = client.request(
            method, f"{root}/plan.txt", headers={**editor.headers, "Destination": destination}
        )
        assert answer.status_code in (400, 403, 404, 502), (destination, answer.status_code)
    assert state(services) == before


@pytest.mark.parametrize(("method", "path", "headers", "body"), WRITES)
def test_a_viewer_may_not_write_and_no_one_else_finds_anything(
    client: TestClient,
    services: Services,
    shared: dict[str, tuple[str, DavUser]],
    method: str,
    path: str,
    headers: dict[str, str],
    body: str,
) -> None:
    root, _ = shared["viewer"]
    before, chunks_before = state(services), chunk_rows(services)
    filled = {k: v.format(root=root) for k, v in headers.items()}
    for who, status in (("viewer", 403), ("outsider", 404), ("stranger", 404)):
        answer = client.request(
            method, root + path, headers={**shared[who][1].headers, **filled}, content=body.encode()
        )
        assert answer.status_code == status, (who, method, answer.status_code, answer.text)
    assert state(services) == before
    assert chunk_rows(services) == chunks_before


def test_a_shared_folder_shows_at_the_top_of_the_recipients_files(
    client: TestClient, services: Services, shared: dict[str, tuple[str, DavUser]]
) -> None:
    """Like a team folder: the Nextcloud clients sync what colleagues share with no set-up. A
    folder of the recipient's own keeps its name; the share shows as "Team (shared)"; a shared
    single file is not a folder to mount; an Editor writes through the mount, a Viewer cannot;
    the top folder's ETag moves when the share's content does; a removed share is gone."""
    _, editor = shared["editor"]
    _, viewer = shared["viewer"]
    _, owner = shared["owner"]
    top = f"/remote.php/dav/files/{editor.view.id}"
    listing = propfind(client, top + "/", editor.headers)
    assert listing.status_code == 207 and f"{top}/Team/" in listing.text
    assert "secret" not in listing.text
    assert client.get(f"{top}/Team/plan.txt", headers=editor.headers).content == b"the plan"

    top_before = propfind(client, top + "/", editor.headers, depth="0").text  # its getetag
    assert (
        client.put(f"{top}/Team/notes.txt", content=b"n", headers=editor.headers).status_code == 201
    )
    assert client.get("/dav/Team/notes.txt", headers=owner.headers).content == b"n"
    assert propfind(client, top + "/", editor.headers, depth="0").text != top_before

    vtop = f"/remote.php/dav/files/{viewer.view.id}"
    assert client.put(f"{vtop}/Team/x.txt", content=b"x", headers=viewer.headers).status_code == 403
    assert client.request("MKCOL", f"{vtop}/Team", headers=viewer.headers).status_code == 405
    # The viewer makes a folder "TEAM" of their own: it keeps the name, the share moves aside.
    me = actor(services, viewer.view)
    own = services.spaces.my_files(me).id
    services.file_tree.create_folders(me, space_id=own, paths=["/TEAM"], client=CLIENT)
    listing = propfind(client, vtop + "/", viewer.headers).text
    assert f"{vtop}/TEAM/" in listing and f"{vtop}/Team%20%28shared%29/" in listing
    assert client.get(f"{vtop}/Team%20(shared)/plan.txt", headers=viewer.headers).content == (
        b"the plan"
    )

    owner_actor = actor(services, owner.view)
    mine = services.spaces.my_files(owner_actor).id
    services.shares.create(
        owner_actor,
        space_id=mine,
        path="/secret.txt",
        role="viewer",
        client=CLIENT,
        user_email=viewer.view.email,
    )
    assert "secret" not in propfind(client, vtop + "/", viewer.headers).text
    for made in services.shares.shares_by(owner_actor):
        services.shares.delete(owner_actor, made.id, client=CLIENT)
    assert "Team%20%28shared%29" not in propfind(client, vtop + "/", viewer.headers).text
    assert client.get(f"{top}/Team/plan.txt", headers=editor.headers).status_code == 404
