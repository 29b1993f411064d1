"""Bad input at the WebDAV door: a precise status, nothing changed, nothing leaked, no 5xx."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sfs.app import Services
from sfs.metadata.file_models import Space
from sfs.metadata.models import User
from tests.dav import basic, dav_user, propfind
from tests.integration.test_second_factor import enrol_totp
from tests.support import GOOD_PASSWORD, FakeClock
from tests.world import CLIENT, Tenant, actor, make_tenant

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    '<d:propfind xmlns:d="DAV:"><d:prop><d:displayname>&lol3;</d:displayname></d:prop>'
    "</d:propfind>"
)


@pytest.fixture
def acme(services: Services) -> Tenant:
    return make_tenant(services, "Acme")


@pytest.fixture
def auth(services: Services, acme: Tenant, client: TestClient) -> Iterator[dict[str, str]]:
    user = dav_user(services, acme.user)
    assert client.put("/dav/keep.txt", content=b"keep", headers=user.headers).status_code == 201
    yield user.headers


def journal(services: Services) -> list[int]:
    """Every space's journal position: what any change would move."""
    with services.database.transaction() as session:
        return list(session.scalars(select(Space.journal_seq).order_by(Space.id)))


@pytest.mark.parametrize(
    ("method", "path", "extra", "body", "status"),
    [
        ("PROPFIND", "/dav/", {"Depth": "1"}, "not xml at all", 400),
        ("PROPFIND", "/dav/", {"Depth": "1"}, BILLION_LAUGHS, 400),
        ("PROPFIND", "/dav/", {"Depth": "1"}, "<x:other xmlns:x='urn:x'/>", 400),
        ("PROPFIND", "/dav/", {"Depth": "2"}, "", 400),
        ("PROPPATCH", "/dav/keep.txt", {}, BILLION_LAUGHS, 400),
        ("LOCK", "/dav/keep.txt", {}, "<lockinfo", 400),
        ("GET", "/dav/%2e%2e/etc/passwd", {}, "", 400),
        ("GET", "/dav/a%2Fb", {}, "", 400),
        ("PUT", "/dav/a/%2E%2E", {}, "x", 400),
        ("GET", "/dav/%ff", {}, "", 400),
        ("GET", "/dav/missing.txt", {}, "", 404),
        ("LOCK", "/dav/no/such/parent.txt", {}, "", 400),
        ("MKCOL", "/dav/no/such", {}, "", 409),
        ("PUT", "/dav/no/such.txt", {}, "x", 409),
        ("PUT", "/dav/keep.txt/inside", {}, "x", 409),
        ("MOVE", "/dav/keep.txt", {"Destination": "/elsewhere/x"}, "", 502),
        ("MOVE", "/dav/keep.txt", {}, "", 400),
        ("COPY", "/dav/keep.txt", {"Destination": "/dav/k2", "Overwrite": "maybe"}, "", 400),
        ("DELETE", "/dav/", {}, "", 403),
        ("PUT", "/dav/keep.txt", {"Content-Range": "bytes 0-1/4"}, "ke", 400),
        ("PUT", "/dav/keep.txt", {"X-OC-Mtime": "yesterday"}, "k", 400),
        ("UNLOCK", "/dav/keep.txt", {"Lock-Token": "<opaquelocktoken:nope>"}, "", 409),
        ("UNLOCK", "/dav/keep.txt", {}, "", 400),
        ("PUT", "/dav/keep.txt", {"If": "(<opaquelocktoken:nope>"}, "k", 400),
        ("PUT", "/dav/keep.txt", {"If": "(<opaquelocktoken:nope>)"}, "k", 412),
        ("PATCH", "/dav/keep.txt", {}, "", 405),
    ],
)
def test_bad_requests_get_a_precise_status_and_change_nothing(
    client: TestClient,
    services: Services,
    auth: dict[str, str],
    method: str,
    path: str,
    extra: dict[str, str],
    body: str,
    status: int,
) -> None:
    before = journal(services)
    answer = client.request(method, path, headers={**auth, **extra}, content=body.encode())
    assert answer.status_code == status, answer.text
    assert journal(services) == before
    assert client.get("/dav/keep.txt", headers=auth).content == b"keep"


def test_a_lock_on_a_missing_parent_is_a_conflict(
    client: TestClient, services: Services, auth: dict[str, str]
) -> None:
    body = (
        '<d:lockinfo xmlns:d="DAV:"><d:lockscope><d:exclusive/></d:lockscope>'
        "<d:locktype><d:write/></d:locktype></d:lockinfo>"
    )
    before = journal(services)
    answer = client.request("LOCK", "/dav/no/such/parent.txt", headers=auth, content=body)
    assert answer.status_code == 409
    assert journal(services) == before


def test_a_huge_xml_body_is_refused_before_it_is_read(
    client: TestClient, auth: dict[str, str]
) -> None:
    huge = b"<d:propfind xmlns:d='DAV:'>" + b" " * (2 * 1024 * 1024) + b"</d:propfind>"
    answer = client.request("PROPFIND", "/dav/", headers={**auth, "Depth": "0"}, content=huge)
    assert answer.status_code == 413


def test_move_onto_an_existing_folder_needs_overwrite(
    client: TestClient, services: Services, auth: dict[str, str]
) -> None:
    client.request("MKCOL", "/dav/target", headers=auth)
    client.put("/dav/target/inside.txt", content=b"inside", headers=auth)
    before = journal(services)
    answer = client.request(
        "MOVE", "/dav/keep.txt", headers={**auth, "Destination": "/dav/target", "Overwrite": "F"}
    )
    assert answer.status_code == 412
    assert journal(services) == before
    assert client.get("/dav/target/inside.txt", headers=auth).content == b"inside"


def test_other_accounts_are_not_found_and_nothing_tells_them_apart(
    client: TestClient, services: Services, acme: Tenant, auth: dict[str, str]
) -> None:
    other = make_tenant(services, "Globex")
    answers = [
        client.request("PROPFIND", f"/remote.php/dav/files/{who}/", headers={**auth, "Depth": "0"})
        for who in (
            other.user.id,  # another organisation's user
            acme.admin.id,  # another member of the same organisation
            acme.admin.email,
            "00000000-0000-0000-0000-000000000000",  # nobody
            "nobody@example.com",
        )
    ]
    assert {a.status_code for a in answers} == {404}
    assert len({a.text for a in answers}) == 1
    own = client.request(
        "PROPFIND", f"/remote.php/dav/files/{acme.user.email}/", headers={**auth, "Depth": "0"}
    )
    assert own.status_code == 207


def test_unauthenticated_requests_are_challenged(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Basic !!!"}, {"Authorization": "Digest x"}):
        answer = client.request("PROPFIND", "/dav/", headers={**headers, "Depth": "0"})
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"].startswith("Basic realm=")


def test_the_account_password_of_a_second_factor_account_is_refused(
    client: TestClient, services: Services, acme: Tenant, clock: FakeClock
) -> None:
    services.organisations.update_policy(
        actor(services, acme.admin),
        organization_id=acme.organisation.id,
        client=CLIENT,
        allow_account_password_clients=True,
    )
    headers = {**basic(acme.user.email, GOOD_PASSWORD), "Depth": "0"}
    assert client.request("PROPFIND", "/dav/", headers=headers).status_code == 207
    enrol_totp(services, actor(services, acme.user), clock)
    refused = client.request("PROPFIND", "/dav/", headers=headers)
    assert refused.status_code == 401 and "app password" in refused.text


def test_repeated_bad_credentials_are_throttled(
    client: TestClient, services: Services, acme: Tenant
) -> None:
    wrong = {**basic(acme.user.email, "not-the-right-password"), "Depth": "0"}
    codes = [client.request("PROPFIND", "/dav/", headers=wrong).status_code for _ in range(11)]
    assert codes == [401] * 10 + [429]
    throttled = client.request("PROPFIND", "/dav/", headers=wrong)
    assert int(throttled.headers["retry-after"]) > 0


def test_a_disabled_account_is_refused_at_once(
    client: TestClient, services: Services, acme: Tenant, auth: dict[str, str]
) -> None:
    with services.database.transaction() as session:
        row = session.get(User, acme.user.id)
        assert row is not None
        row.status = "disabled"
    assert propfind(client, "/dav/", auth, depth="0").status_code == 401


def test_a_full_quota_refuses_the_upload(
    client: TestClient, services: Services, acme: Tenant, auth: dict[str, str]
) -> None:
    with services.database.transaction() as session:
        row = session.get(User, acme.user.id)
        assert row is not None
        row.quota_bytes = 1000
    before = journal(services)
    answer = client.put("/dav/big.bin", content=b"x" * 5000, headers=auth)
    assert answer.status_code == 507
    assert journal(services) == before
    asked = '<d:propfind xmlns:d="DAV:"><d:prop><d:quota-available-bytes/></d:prop></d:propfind>'
    listed = propfind(client, "/dav/", auth, depth="0", body=asked)
    assert "<d:quota-available-bytes>" in listed.text
