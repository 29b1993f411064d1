"""Every OCS and chunked-upload route against another organisation's user, another member of
the same organisation and no credentials: 401 without credentials, 404 for what is someone
else's, and nothing of theirs in any answer."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from sfs.app import Services
from tests.dav import DavUser, dav_user
from tests.world import make_tenant

OCS_ROUTES = [
    ("GET", "/ocs/v1.php/cloud/user?format=json"),
    ("GET", "/ocs/v2.php/cloud/user?format=json"),
    ("DELETE", "/ocs/v1.php/core/apppassword?format=json"),
    ("DELETE", "/ocs/v2.php/core/apppassword?format=json"),
]


@pytest.fixture
def people(services: Services) -> dict[str, DavUser]:
    acme, globex = make_tenant(services, "Acme"), make_tenant(services, "Globex")
    return {
        "alice": dav_user(services, acme.user),
        "member": dav_user(services, acme.admin),
        "stranger": dav_user(services, globex.user),
    }


def upload_requests(owner: DavUser, transfer: str) -> list[tuple[str, str, dict[str, str]]]:
    base = f"/remote.php/dav/uploads/{owner.view.id}/{transfer}"
    return [
        ("MKCOL", base, {}),
        ("PUT", f"{base}/00002", {}),
        ("PROPFIND", base, {"Depth": "1"}),
        ("PROPFIND", f"{base}/00001", {"Depth": "0"}),
        ("MOVE", f"{base}/.file", {"Destination": "/dav/taken.bin"}),
        ("DELETE", base, {}),
    ]


def send(
    client: TestClient, method: str, url: str, headers: dict[str, str], body: bytes = b"x"
) -> httpx.Response:
    content = body if method == "PUT" else b""
    return client.request(method, url, headers=headers, content=content)


def open_upload(client: TestClient, who: DavUser, transfer: str) -> None:
    base = f"/remote.php/dav/uploads/{who.view.id}/{transfer}"
    assert client.request("MKCOL", base, headers=who.headers).status_code == 201
    assert client.put(f"{base}/00001", content=b"secret", headers=who.headers).status_code == 201


@pytest.mark.parametrize(("method", "url"), OCS_ROUTES)
def test_ocs_routes_need_credentials(client: TestClient, method: str, url: str) -> None:
    answer = client.request(method, url)
    assert answer.status_code == 401 and answer.headers["www-authenticate"].startswith("Basic")


def test_ocs_answers_only_about_the_caller(client: TestClient, people: dict[str, DavUser]) -> None:
    for name, who in people.items():
        data = client.get("/ocs/v2.php/cloud/user?format=json", headers=who.headers).json()
        assert data["ocs"]["data"]["id"] == str(who.view.id), name
    # Revoking the caller's app password touches nobody else's.
    gone = client.delete("/ocs/v2.php/core/apppassword", headers=people["member"].headers)
    assert gone.status_code == 200
    alice = client.get("/ocs/v2.php/cloud/user", headers=people["alice"].headers)
    assert alice.status_code == 200


@pytest.mark.parametrize("caller", ["member", "stranger"])
def test_someone_elses_upload_folder_is_not_found(
    client: TestClient, people: dict[str, DavUser], caller: str
) -> None:
    alice, other = people["alice"], people[caller]
    open_upload(client, alice, "t")
    for method, url, headers in upload_requests(alice, "t"):
        answer = send(client, method, url, {**other.headers, **headers})
        assert answer.status_code == 404, (method, url, answer.text)
        assert alice.view.email not in answer.text and "secret" not in answer.text
    by_email = f"/remote.php/dav/uploads/{alice.view.email}/t"
    assert send(client, "PROPFIND", by_email, other.headers).status_code == 404
    # Under their own name, Alice's upload id is just a name nobody used.
    for method, url, headers in upload_requests(other, "t")[1:]:
        answer = send(client, method, url, {**other.headers, **headers})
        assert answer.status_code == 404, (method, url, answer.text)
    # Alice's upload is untouched.
    listed = send(client, "PROPFIND", f"/remote.php/dav/uploads/{alice.view.id}/t", alice.headers)
    assert listed.status_code == 207 and "00001" in listed.text


def test_uploads_need_credentials(client: TestClient, people: dict[str, DavUser]) -> None:
    alice = people["alice"]
    open_upload(client, alice, "t")
    for method, url, headers in upload_requests(alice, "t"):
        answer = send(client, method, url, headers)
        assert answer.status_code == 401, (method, url)
        assert answer.headers["www-authenticate"].startswith("Basic")
    wrong = {"Authorization": "Basic dXNlckBhY21lLmV4YW1wbGUuY29tOm5vcGU="}
    answer = send(client, "PROPFIND", f"/remote.php/dav/uploads/{alice.view.id}/t", wrong)
    assert answer.status_code == 401


@pytest.mark.parametrize("caller", ["member", "stranger"])
def test_an_upload_cannot_land_in_someone_elses_files(
    client: TestClient, people: dict[str, DavUser], caller: str
) -> None:
    alice, other = people["alice"], people[caller]
    open_upload(client, other, "mine")
    into_alice = f"/remote.php/dav/files/{alice.view.id}/planted.bin"
    answer = client.request(
        "MOVE",
        f"/remote.php/dav/uploads/{other.view.id}/mine/.file",
        headers={**other.headers, "Destination": into_alice},
    )
    assert answer.status_code == 502
    assert client.head(into_alice, headers=alice.headers).status_code == 404
