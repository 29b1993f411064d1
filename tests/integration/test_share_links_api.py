"""Share links over the REST API: create, list, revoke; the organisation's list for its
administrator; each refusal a precise status with nothing made."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sfs.app import Services
from tests.integration.test_api_http import token_for
from tests.world import Tenant, make_tenant


@pytest.fixture
def acme(services: Services) -> Tenant:
    return make_tenant(services, "Acme")


@pytest.fixture
def auth(client: TestClient, acme: Tenant) -> dict[str, str]:
    return token_for(client, acme.user.email)


def test_create_list_open_and_revoke(
    client: TestClient, services: Services, acme: Tenant, auth: dict[str, str]
) -> None:
    put = client.put(
        "/api/v1/spaces/me/content", params={"path": "/Plan.txt"}, content=b"plan", headers=auth
    )
    assert put.status_code == 200
    made = client.post(
        "/api/v1/spaces/me/links",
        json={"path": "/Plan.txt", "password": "a-long-pass", "expires": "2026-12-31"},
        headers=auth,
    )
    assert made.status_code == 201, made.text
    url = made.json()["url"]
    assert "/s/" in url and "Plan" not in url
    link = made.json()["link"]
    assert link["has_password"] and link["expires_at"].startswith("2027-01-01")
    assert "password" not in made.text.replace("has_password", "")
    listed = client.get("/api/v1/links", headers=auth).json()
    assert [item["id"] for item in listed] == [link["id"]]
    admin = token_for(client, acme.admin.email)
    assert [i["id"] for i in client.get("/api/v1/organisation/links", headers=admin).json()] == [
        link["id"]
    ]
    assert client.get("/api/v1/organisation/links", headers=auth).status_code == 403
    revoked = client.delete(f"/api/v1/links/{link['id']}", headers=auth)
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert client.get(url.split("127.0.0.1:8080", 1)[-1]).status_code == 410
    assert client.get("/api/v1/organisation/links", headers=admin).json() == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"path": "/nothing-here"}, 404),
        ({"path": "/Plan.txt", "upload_only": True}, 422),
        ({"path": "/Plan.txt", "password": "short"}, 422),
        ({"path": "/Plan.txt", "max_downloads": 0}, 422),
        ({"path": "/Plan.txt", "expires": "2020-01-01"}, 422),
        ({"path": "/Plan.txt", "expires": "9999-12-31"}, 422),
        ({"path": "/../Plan.txt"}, 422),
        ({"path": "/Plan.txt", "surprise": 1}, 422),
    ],
)
def test_bad_requests_make_nothing(
    client: TestClient, auth: dict[str, str], body: dict[str, object], status: int
) -> None:
    client.put(
        "/api/v1/spaces/me/content", params={"path": "/Plan.txt"}, content=b"x", headers=auth
    )
    answer = client.post("/api/v1/spaces/me/links", json=body, headers=auth)
    assert answer.status_code == status, answer.text
    assert client.get("/api/v1/links", headers=auth).json() == []


def test_another_organisations_space_and_links_are_not_found(
    client: TestClient, services: Services, auth: dict[str, str]
) -> None:
    globex = make_tenant(services, "Globex")
    theirs = token_for(client, globex.user.email)
    client.put("/api/v1/spaces/me/content", params={"path": "/T.txt"}, content=b"x", headers=theirs)
    their_space = client.get("/api/v1/spaces", headers=theirs).json()[0]["id"]
    refused = client.post(
        f"/api/v1/spaces/{their_space}/links", json={"path": "/T.txt"}, headers=auth
    )
    assert refused.status_code == 404
    made = client.post("/api/v1/spaces/me/links", json={"path": "/T.txt"}, headers=theirs)
    assert (
        client.delete(f"/api/v1/links/{made.json()['link']['id']}", headers=auth).status_code == 404
    )


def test_patch_changes_only_the_fields_sent_and_null_removes(
    client: TestClient, services: Services, acme: Tenant, auth: dict[str, str]
) -> None:
    client.put("/api/v1/spaces/me/content", params={"path": "/P.txt"}, content=b"p", headers=auth)
    made = client.post(
        "/api/v1/spaces/me/links",
        json={"path": "/P.txt", "password": "a-long-pass", "max_downloads": 3},
        headers=auth,
    ).json()
    url = f"/api/v1/links/{made['link']['id']}"
    changed = client.patch(url, json={"expires": "2026-12-31"}, headers=auth)
    assert changed.status_code == 200, changed.text
    out = changed.json()
    assert out["has_password"] and out["max_downloads"] == 3
    assert out["expires_at"].startswith("2027-01-01")
    out = client.patch(
        url, json={"password": None, "max_downloads": None, "expires": None}, headers=auth
    ).json()
    assert (out["has_password"], out["max_downloads"], out["expires_at"]) == (False, None, None)
    public = made["url"].split("127.0.0.1:8080", 1)[-1]
    assert client.get(public + "/download").content == b"p"
    for bad in ({"password": "short"}, {"max_downloads": 0}, {"upload_only": True}, {"x": 1}):
        assert client.patch(url, json=bad, headers=auth).status_code == 422, bad


def test_patch_of_someone_elses_link_is_not_found_and_an_admin_may_only_revoke(
    client: TestClient, services: Services, acme: Tenant, auth: dict[str, str]
) -> None:
    client.put("/api/v1/spaces/me/content", params={"path": "/P.txt"}, content=b"p", headers=auth)
    made = client.post("/api/v1/spaces/me/links", json={"path": "/P.txt"}, headers=auth).json()
    url = f"/api/v1/links/{made['link']['id']}"
    globex = make_tenant(services, "Globex")
    for email in (globex.user.email, globex.admin.email):
        assert (
            client.patch(
                url, json={"max_downloads": 2}, headers=token_for(client, email)
            ).status_code
            == 404
        )
    admin = token_for(client, acme.admin.email)
    assert client.patch(url, json={"max_downloads": 2}, headers=admin).status_code == 403
    assert (
        client.patch(
            "/api/v1/links/00000000-0000-0000-0000-000000000000", json={}, headers=auth
        ).status_code
        == 404
    )
    assert client.get("/api/v1/links", headers=auth).json()[0]["max_downloads"] is None
