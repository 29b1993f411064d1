"""Team folders over WebDAV at /remote.php/dav/spaces/{id}/: members read, Editors write, a
Viewer's every write is 403 and changes nothing, a non-member finds nothing, and a Destination
never crosses from one space into another."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sfs.app import Services
from tests.dav import DavUser, dav_user, propfind
from tests.integration.test_dav_tenancy import LOCK_BODY, PATCH_BODY, state
from tests.integration.test_files_api import chunk_rows
from tests.integration.test_team_folders import colleague
from tests.world import CLIENT, actor, make_tenant

WRITES = [
    ("PUT", "/plan.txt", {}, "overwritten"),
    ("PUT", "/new.txt", {}, "planted"),
    ("MKCOL", "/planted", {}, ""),
    ("DELETE", "/plan.txt", {}, ""),
    ("PROPPATCH", "/plan.txt", {}, PATCH_BODY),
    ("COPY", "/plan.txt", {"Destination": "{root}/copy.txt"}, ""),
    ("MOVE", "/plan.txt", {"Destination": "{root}/moved.txt"}, ""),
    ("LOCK", "/plan.txt", {}, LOCK_BODY),
]


@pytest.fixture
def team(services: Services, client: TestClient) -> tuple[str, dict[str, DavUser]]:
    acme = make_tenant(services, "Acme")
    admin = actor(services, acme.admin)
    folder = services.team_folders.create(admin, "Projects", client=CLIENT).id
    viewer = colleague(services, acme, "viewer")
    outsider = colleague(services, acme, "outsider")
    services.team_folders.set_user_role(admin, folder, acme.user.email, "editor", client=CLIENT)
    services.team_folders.set_user_role(admin, folder, viewer.email, "viewer", client=CLIENT)
    people = {
        "editor": dav_user(services, acme.user),
        "viewer": dav_user(services, services.accounts.get_user(admin, viewer.user_id)),
        "outsider": dav_user(services, services.accounts.get_user(admin, outsider.user_id)),
    }
    root = f"/remote.php/dav/spaces/{folder}"
    put = client.put(f"{root}/plan.txt", content=b"the plan", headers=people["editor"].headers)
    assert put.status_code == 201, put.text
    return root, people


def test_members_read_and_the_editor_writes(
    client: TestClient, team: tuple[str, dict[str, DavUser]]
) -> None:
    root, people = team
    listing = propfind(client, root + "/", people["viewer"].headers)
    assert listing.status_code == 207 and f"{root}/plan.txt" in listing.text
    got = client.get(f"{root}/plan.txt", headers=people["viewer"].headers)
    assert got.status_code == 200 and got.content == b"the plan"
    editor = people["editor"].headers
    assert client.request("MKCOL", f"{root}/Docs", headers=editor).status_code == 201
    moved = client.request(
        "MOVE", f"{root}/plan.txt", headers={**editor, "Destination": f"{root}/Docs/plan.txt"}
    )
    assert moved.status_code == 201, moved.text
    # Nothing of it is in the editor's My Files.
    assert client.get("/dav/Docs/plan.txt", headers=editor).status_code == 404


@pytest.mark.parametrize(("method", "path", "headers", "body"), WRITES)
def test_a_viewer_may_not_write_and_a_non_member_finds_nothing(
    client: TestClient,
    services: Services,
    team: tuple[str, dict[str, DavUser]],
    method: str,
    path: str,
    headers: dict[str, str],
    body: str,
) -> None:
    root, people = team
    before, chunks_before = state(services), chunk_rows(services)
    filled = {k: v.format(root=root) for k, v in headers.items()}
    for who, status in (("viewer", 403), ("outsider", 404)):
        answer = client.request(
            method,
            root + path,
            headers={**people[who].headers, **filled},
            content=body.encode(),
        )
        assert answer.status_code == status, (who, method, answer.status_code, answer.text)
        if status == 403:
            assert "Viewer" in answer.text
    assert state(services) == before
    assert chunk_rows(services) == chunks_before  # a Viewer's PUT is refused before its body
    got = client.get(f"{root}/plan.txt", headers=people["editor"].headers)
    assert got.content == b"the plan"


@pytest.mark.parametrize("method", ["COPY", "MOVE"])
def test_a_destination_never_crosses_between_spaces(
    client: TestClient,
    services: Services,
    team: tuple[str, dict[str, DavUser]],
    method: str,
) -> None:
    root, people = team
    editor = people["editor"].headers
    client.put("/dav/mine.txt", content=b"mine", headers=editor)
    before = state(services)
    out = client.request(
        method, f"{root}/plan.txt", headers={**editor, "Destination": "/dav/plan.txt"}
    )
    into = client.request(
        method, "/dav/mine.txt", headers={**editor, "Destination": f"{root}/mine.txt"}
    )
    assert (out.status_code, into.status_code) == (502, 502)
    assert state(services) == before
    for bad in ("/remote.php/dav/spaces/not-an-id/", "/remote.php/dav/spaces/"):
        assert propfind(client, bad, editor).status_code == 404
