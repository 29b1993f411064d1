"""WebDAV and the sync protocol see one store: a WebDAV write is a new version in the journal the
sync clients follow, and what the REST API uploads shows in PROPFIND with the same ETag."""

from __future__ import annotations

from fastapi.testclient import TestClient

from sfs.app import Services
from tests.dav import D, dav_user, entries, propfind
from tests.integration.test_api_http import token_for
from tests.world import make_tenant


def test_webdav_writes_reach_the_change_feed_and_rest_uploads_reach_propfind(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    dav = dav_user(services, acme.user)
    rest = token_for(client, acme.user.email)
    feed = client.get("/api/v1/spaces/me/changes", headers=rest).json()

    assert client.put("/dav/both.txt", content=b"one", headers=dav.headers).status_code == 201
    updated = client.put("/dav/both.txt", content=b"two", headers=dav.headers)
    assert updated.status_code == 204
    after = client.get(
        "/api/v1/spaces/me/changes", params={"cursor": feed["cursor"]}, headers=rest
    ).json()
    assert [(c["operation"], c["path"], c["version"]) for c in after["changes"]] == [
        ("create", "/both.txt", 1),
        ("update", "/both.txt", 2),
    ]
    versions = client.get(
        "/api/v1/spaces/me/versions", params={"path": "/both.txt"}, headers=rest
    ).json()
    assert [v["number"] for v in versions] == [2, 1]
    listed = client.get("/api/v1/spaces/me/children", params={"path": "/"}, headers=rest).json()
    assert {n["name"]: n["size"] for n in listed} == {"both.txt": 3}
    downloaded = client.get("/api/v1/spaces/me/content", params={"path": "/both.txt"}, headers=rest)
    assert downloaded.content == b"two"

    uploaded = client.put(
        "/api/v1/spaces/me/content",
        params={"path": "/from-rest.txt"},
        content=b"rest",
        headers=rest,
    )
    assert uploaded.status_code == 200
    found = entries(propfind(client, "/dav/", dav.headers))
    assert found["/dav/from-rest.txt"][f"{D}getcontentlength"] == "4"
    fetched = client.get("/dav/from-rest.txt", headers=dav.headers)
    assert fetched.content == b"rest"
    assert found["/dav/from-rest.txt"][f"{D}getetag"] == fetched.headers["etag"]
    moved = client.post(
        "/api/v1/spaces/me/move",
        json={"source": "/from-rest.txt", "target": "/renamed.txt"},
        headers=rest,
    )
    assert moved.status_code == 200
    assert set(entries(propfind(client, "/dav/", dav.headers))) == {
        "/dav/",
        "/dav/both.txt",
        "/dav/renamed.txt",
    }
