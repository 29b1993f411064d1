"""Shares between colleagues over the REST API: the owner shares, lists, changes and removes;
the recipient finds the share under /shared-with-me and in /spaces and works in it through the
files routes with their role; and the tenancy matrix: every share route, aimed at another
organisation's ids or another member's private ids, by each role, is answered 404."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sfs.app import Services
from sfs.metadata.share_models import NodeShare
from tests.integration.test_api_http import token_for
from tests.integration.test_team_folders_api import add_user
from tests.world import make_tenant

API = "/api/v1"
Headers = dict[str, str]


@dataclass
class People:
    owner: Headers
    viewer: Headers
    editor: Headers
    outsider: Headers  # same organisation, nothing shared with them
    admin: Headers  # the organisation's admin: no right to a member's shares either
    stranger: Headers  # another organisation
    viewer_email: str
    editor_email: str
    stranger_email: str


@pytest.fixture
def people(client: TestClient, services: Services) -> People:
    acme, globex = make_tenant(services, "Acme"), make_tenant(services, "Globex")
    viewer_email, editor_email = add_user(services, acme, "vera"), add_user(services, acme, "eddie")
    add_user(services, acme, "otto")
    return People(
        owner=token_for(client, acme.user.email),
        viewer=token_for(client, viewer_email),
        editor=token_for(client, editor_email),
        outsider=token_for(client, "otto@acme.example.com"),
        admin=token_for(client, acme.admin.email),
        stranger=token_for(client, globex.user.email),
        viewer_email=viewer_email,
        editor_email=editor_email,
        stranger_email=globex.user.email,
    )


def put(client: TestClient, who: Headers, space: str, path: str, body: bytes) -> int:
    answer = client.put(
        f"{API}/spaces/{space}/content", params={"path": path}, content=body, headers=who
    )
    return answer.status_code


def share(client: TestClient, who: Headers, path: str, **body: str) -> dict[str, str]:
    answer = client.post(f"{API}/spaces/me/shares", json={"path": path, **body}, headers=who)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


@pytest.fixture
def shared(client: TestClient, people: People) -> dict[str, str]:
    """The owner's /Team (report.txt) shared with vera (Viewer) and eddie (Editor); /Private
    (salary.txt) beside it."""
    owner = people.owner
    for folder in ("/Team", "/Private"):
        made = client.post(f"{API}/spaces/me/folders", json={"path": folder}, headers=owner)
        assert made.status_code == 201, made.text
    assert put(client, owner, "me", "/Team/report.txt", b"report") == 200
    assert put(client, owner, "me", "/Private/salary.txt", b"salary") == 200
    return {
        "viewer": share(client, owner, "/Team", with_user=people.viewer_email)["id"],
        "editor": share(client, owner, "/Team", with_user=people.editor_email, role="editor")["id"],
    }


def test_a_colleague_finds_the_share_and_works_in_it_with_their_role(
    client: TestClient, people: People, shared: dict[str, str]
) -> None:
    viewer, editor, owner = people.viewer, people.editor, people.owner
    (found,) = client.get(f"{API}/shared-with-me", headers=viewer).json()
    assert (found["id"], found["name"], found["kind"], found["role"]) == (
        shared["viewer"],
        "Team",
        "folder",
        "viewer",
    )
    spaces = client.get(f"{API}/spaces", headers=viewer).json()
    assert [(s["name"], s["kind"], s["role"]) for s in spaces] == [
        ("My Files", "personal", "owner"),
        ("Team", "share", "viewer"),
    ]
    assert spaces[1]["id"] == shared["viewer"]
    children = client.get(f"{API}/spaces/{shared['viewer']}/children", headers=viewer).json()
    assert [c["path"] for c in children] == ["/report.txt"]
    got = client.get(
        f"{API}/spaces/{shared['viewer']}/content", params={"path": "/report.txt"}, headers=viewer
    )
    assert got.content == b"report"
    refused = client.put(
        f"{API}/spaces/{shared['viewer']}/content",
        params={"path": "/new.txt"},
        content=b"x",
        headers=viewer,
    )
    assert refused.status_code == 403
    assert refused.json()["message"] == "You may only read Team: your role there is Viewer."
    outside = client.get(
        f"{API}/spaces/{shared['viewer']}/content",
        params={"path": "/../Private/salary.txt"},
        headers=viewer,
    )
    assert outside.status_code in (404, 422)
    assert put(client, editor, shared["editor"], "/from-eddie.txt", b"eddie") == 200
    mine = client.get(f"{API}/spaces/me/children", params={"path": "/Team"}, headers=owner).json()
    assert [c["name"] for c in mine] == ["from-eddie.txt", "report.txt"]
    # The feed of a share holds only its own paths.
    feed = client.get(
        f"{API}/spaces/{shared['viewer']}/changes", params={"cursor": 0}, headers=viewer
    )
    assert feed.status_code == 200, feed.text
    assert all("Private" not in c["path"] for c in feed.json()["changes"])


def test_the_owner_lists_changes_and_removes_a_share(
    client: TestClient, people: People, shared: dict[str, str]
) -> None:
    owner, viewer = people.owner, people.viewer
    listed = client.get(f"{API}/spaces/me/shares", params={"path": "/Team"}, headers=owner)
    assert [(s["recipient"], s["role"]) for s in listed.json()] == [
        (people.editor_email, "editor"),
        (people.viewer_email, "viewer"),
    ]
    assert [s["id"] for s in client.get(f"{API}/shares", headers=owner).json()] == [
        s["id"] for s in listed.json()
    ]
    changed = client.patch(
        f"{API}/shares/{shared['viewer']}", json={"role": "editor"}, headers=owner
    )
    assert changed.status_code == 200 and changed.json()["role"] == "editor"
    assert put(client, viewer, shared["viewer"], "/now-i-may.txt", b"yes") == 200
    bad = client.patch(f"{API}/shares/{shared['viewer']}", json={"role": "manager"}, headers=owner)
    assert bad.status_code == 422
    assert client.delete(f"{API}/shares/{shared['viewer']}", headers=owner).status_code == 204
    assert client.get(f"{API}/shared-with-me", headers=viewer).json() == []
    gone = client.get(f"{API}/spaces/{shared['viewer']}/children", headers=viewer)
    assert gone.status_code == 404


def test_sharing_with_another_organisation_or_oneself_is_refused_without_telling(
    client: TestClient, services: Services, people: People, shared: dict[str, str]
) -> None:
    owner = people.owner
    for body in (
        {"with_user": people.stranger_email},
        {"with_user": "nobody@acme.example.com"},
        {"with_group": "Nobody"},
    ):
        answer = client.post(
            f"{API}/spaces/me/shares", json={"path": "/Team", **body}, headers=owner
        )
        assert answer.status_code == 404
        assert answer.json()["message"] == (
            "No colleague or group of that name in your organisation."
        )
    me = client.get(f"{API}/me", headers=owner).json()["email"]
    myself = client.post(
        f"{API}/spaces/me/shares", json={"path": "/Team", "with_user": me}, headers=owner
    )
    assert myself.status_code == 422
    twice = client.post(
        f"{API}/spaces/me/shares",
        json={"path": "/Team", "with_user": people.viewer_email},
        headers=owner,
    )
    assert twice.status_code == 409
    with services.database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(NodeShare)) == 2


# (method, route, body): every share route, aimed at the owner's share or at the share itself.
SHARE_ROUTES = [
    ("GET", "/shares/{share}", None),
    ("PATCH", "/shares/{share}", {"role": "editor"}),
    ("DELETE", "/shares/{share}", None),
    ("GET", "/spaces/{share}/children", None),
    ("GET", "/spaces/{share}/node?path=/", None),
    ("GET", "/spaces/{share}/changes?cursor=0", None),
    ("GET", "/spaces/{share}/snapshot", None),
    ("POST", "/spaces/{share}/shares", {"path": "/report.txt", "with_user": "x@acme.example.com"}),
    ("GET", "/spaces/{share}/shares?path=/report.txt", None),
]


@pytest.mark.parametrize("who", ["outsider", "admin", "stranger"])
@pytest.mark.parametrize(("method", "route", "body"), SHARE_ROUTES)
def test_nobody_else_reaches_a_share_by_any_route(
    client: TestClient,
    services: Services,
    people: People,
    shared: dict[str, str],
    who: str,
    method: str,
    route: str,
    body: dict[str, str] | None,
) -> None:
    headers = getattr(people, who)
    url = API + route.format(share=shared["viewer"])
    answer = client.request(method, url, json=body, headers=headers)
    assert answer.status_code == 404, (who, method, route, answer.text)
    assert client.get(f"{API}/shared-with-me", headers=people.viewer).json()[0]["role"] == "viewer"


@pytest.mark.parametrize("who", ["viewer", "editor"])
def test_recipients_may_not_manage_or_reshare_their_share(
    client: TestClient, people: People, shared: dict[str, str], who: str
) -> None:
    headers, mine = getattr(people, who), shared[who]
    for method, route, body in (
        ("GET", f"/shares/{mine}", None),
        ("PATCH", f"/shares/{mine}", {"role": "editor"}),
        ("DELETE", f"/shares/{mine}", None),
    ):
        assert client.request(method, API + route, json=body, headers=headers).status_code == 404
    reshare = client.post(
        f"{API}/spaces/{mine}/shares",
        json={"path": "/report.txt", "with_user": "otto@acme.example.com"},
        headers=headers,
    )
    assert reshare.status_code == 403
    # Nor the owner's other files, by the space id the share lives in.
    (entry,) = client.get(f"{API}/shares", headers=people.owner).json()[:1]
    my_files_of_owner = entry["space_id"]
    other = client.get(f"{API}/spaces/{my_files_of_owner}/children", headers=headers)
    assert other.status_code == 404
