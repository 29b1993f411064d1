"""Groups and team folders over the REST API: managed by the organisation admin, reached by
members through the /spaces routes with their role, refused to Viewers and everyone else."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.domain.actor import operator
from sfs.domain.roles import Role
from tests.integration.test_api_http import token_for
from tests.integration.test_files_api import chunk_rows
from tests.support import GOOD_PASSWORD
from tests.world import CLIENT, Tenant, make_tenant

API = "/api/v1"


def add_user(services: Services, tenant: Tenant, name: str) -> str:
    email = f"{name}@{tenant.organisation.name.lower()}.example.com"
    services.accounts.create_user(
        operator(),
        organization_id=tenant.organisation.id,
        email=email,
        display_name=name.title(),
        password=GOOD_PASSWORD,
        role=Role.USER,
        client=CLIENT,
    )
    return email


@pytest.fixture
def acme(services: Services) -> Tenant:
    return make_tenant(services, "Acme")


@pytest.fixture
def admin(client: TestClient, acme: Tenant) -> dict[str, str]:
    return token_for(client, acme.admin.email)


def test_admin_builds_a_team_folder_members_reach_it_with_their_roles(
    client: TestClient, services: Services, acme: Tenant, admin: dict[str, str]
) -> None:
    viewer_email = add_user(services, acme, "vera")
    add_user(services, acme, "olaf")
    created = client.post(f"{API}/team-folders", json={"name": "Projects"}, headers=admin)
    assert created.status_code == 201, created.text
    folder = created.json()["id"]
    again = client.post(f"{API}/team-folders", json={"name": "PROJECTS"}, headers=admin)
    assert again.status_code == 409 and again.json()["code"] == "already_exists"
    group = client.post(f"{API}/groups", json={"name": "Editors"}, headers=admin).json()
    added = client.post(
        f"{API}/groups/{group['id']}/members", json={"email": acme.user.email}, headers=admin
    )
    assert added.status_code == 200 and added.json()["members"][0]["email"] == acme.user.email
    for body in (
        {"group_id": group["id"], "role": "editor"},
        {"email": viewer_email, "role": "viewer"},
    ):
        answer = client.put(f"{API}/team-folders/{folder}/members", json=body, headers=admin)
        assert answer.status_code == 200, answer.text
    members = {(m["label"], m["role"]) for m in answer.json()["members"]}
    assert members == {("Editors", "editor"), (viewer_email, "viewer")}

    editor = token_for(client, acme.user.email)
    viewer = token_for(client, viewer_email)
    outsider = token_for(client, "olaf@acme.example.com")
    spaces = client.get(f"{API}/spaces", headers=viewer).json()
    assert [(s["name"], s["kind"], s["role"]) for s in spaces] == [
        ("My Files", "personal", "owner"),
        ("Projects", "team", "viewer"),
    ]
    assert [s["kind"] for s in client.get(f"{API}/spaces", headers=outsider).json()] == ["personal"]

    content = f"{API}/spaces/{folder}/content"
    stored = client.put(content, params={"path": "/plan.txt"}, content=b"plan", headers=editor)
    assert stored.status_code == 200, stored.text
    read = client.get(content, params={"path": "/plan.txt"}, headers=viewer)
    assert read.status_code == 200 and read.content == b"plan"

    before = chunk_rows(services)
    refused = client.put(content, params={"path": "/mine.txt"}, content=b"x" * 5000, headers=viewer)
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    assert "Viewer" in refused.json()["message"] and "Projects" in refused.json()["message"]
    assert chunk_rows(services) == before  # refused before any byte was kept
    for method, path, kwargs in (
        ("POST", "/folders", {"json": {"path": "/New"}}),
        ("DELETE", "/node", {"params": {"path": "/plan.txt"}}),
        ("POST", "/move", {"json": {"source": "/plan.txt", "target": "/p.txt"}}),
    ):
        answer = client.request(method, f"{API}/spaces/{folder}{path}", headers=viewer, **kwargs)
        assert answer.status_code == 403, (path, answer.text)
        gone = client.request(method, f"{API}/spaces/{folder}{path}", headers=outsider, **kwargs)
        assert gone.status_code == 404, (path, gone.text)
    assert client.get(content, params={"path": "/plan.txt"}, headers=outsider).status_code == 404
    listing = client.get(f"{API}/spaces/{folder}/children", params={"path": "/"}, headers=editor)
    assert [n["name"] for n in listing.json()] == ["plan.txt"]


def test_only_the_organisation_admin_or_a_manager_manages(
    client: TestClient, services: Services, acme: Tenant, admin: dict[str, str]
) -> None:
    folder = client.post(f"{API}/team-folders", json={"name": "Projects"}, headers=admin).json()
    user = token_for(client, acme.user.email)
    assert client.post(f"{API}/team-folders", json={"name": "X"}, headers=user).status_code == 403
    assert client.post(f"{API}/groups", json={"name": "X"}, headers=user).status_code == 403
    group = client.post(f"{API}/groups", json={"name": "Design"}, headers=admin).json()
    client.post(
        f"{API}/groups/{group['id']}/members", json={"email": acme.admin.email}, headers=admin
    )
    # Members see the groups' names (to add one to a folder they manage), not who is in them.
    assert client.get(f"{API}/groups", headers=user).json() == [
        {"id": group["id"], "name": "Design", "members": []}
    ]
    assert client.get(f"{API}/groups/{group['id']}", headers=user).json()["members"] == []
    assert len(client.get(f"{API}/groups/{group['id']}", headers=admin).json()["members"]) == 1
    assert client.get(f"{API}/team-folders/{folder['id']}", headers=user).status_code == 404
    client.put(
        f"{API}/team-folders/{folder['id']}/members",
        json={"email": acme.user.email, "role": "manager"},
        headers=admin,
    )
    manager_view = client.get(f"{API}/team-folders/{folder['id']}", headers=user)
    assert manager_view.status_code == 200
    renamed = client.patch(f"{API}/team-folders/{folder['id']}", json={"name": "Y"}, headers=user)
    assert renamed.status_code == 403
    for body, field in (
        ({"email": acme.user.email, "role": "owner"}, "role"),
        ({"email": acme.user.email, "group_id": folder["id"], "role": "viewer"}, "email"),
        ({"role": "viewer"}, "email"),
    ):
        bad = client.put(f"{API}/team-folders/{folder['id']}/members", json=body, headers=admin)
        assert bad.status_code == 422 and bad.json().get("field") == field, bad.text
    assert client.delete(f"{API}/team-folders/{folder['id']}", headers=admin).status_code == 204
    assert client.get(f"{API}/team-folders/{folder['id']}", headers=admin).status_code == 404


def test_another_organisations_folders_groups_and_people_are_not_found(
    client: TestClient, services: Services, acme: Tenant, admin: dict[str, str]
) -> None:
    globex = make_tenant(services, "Globex")
    theirs = token_for(client, globex.admin.email)
    their_folder = client.post(f"{API}/team-folders", json={"name": "Secret"}, headers=theirs)
    their_group = client.post(f"{API}/groups", json={"name": "Secret"}, headers=theirs)
    folder_id, group_id = their_folder.json()["id"], their_group.json()["id"]
    mine = client.post(f"{API}/team-folders", json={"name": "Projects"}, headers=admin).json()
    for method, path, body in (
        ("GET", f"/team-folders/{folder_id}", None),
        ("PATCH", f"/team-folders/{folder_id}", {"name": "Mine"}),
        ("DELETE", f"/team-folders/{folder_id}", None),
        ("GET", f"/groups/{group_id}", None),
        ("DELETE", f"/groups/{group_id}", None),
        ("PUT", f"/team-folders/{mine['id']}/members", {"group_id": group_id, "role": "editor"}),
        ("GET", f"/spaces/{folder_id}/children?path=/", None),
    ):
        answer = client.request(method, API + path, json=body, headers=admin)
        assert answer.status_code == 404, (path, answer.text)
    messages = set()
    for email in (globex.user.email, "nobody@nowhere.example.com"):
        answer = client.put(
            f"{API}/team-folders/{mine['id']}/members",
            json={"email": email, "role": "viewer"},
            headers=admin,
        )
        assert answer.status_code == 422  # on the address: the folder exists
        messages.add(answer.json()["message"])
    assert len(messages) == 1
    assert [f["name"] for f in client.get(f"{API}/team-folders", headers=theirs).json()] == [
        "Secret"
    ]
    assert client.get(f"{API}/groups/{group_id}", headers=theirs).json()["members"] == []
