"""WebDAV locks: kept in the database (every instance honours them), ended by their timeout on
the injected clock, released only with their token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.web.server import create_app
from tests.dav import DavUser, dav_user
from tests.support import FakeClock
from tests.world import make_tenant

EXCLUSIVE = (
    '<d:lockinfo xmlns:d="DAV:"><d:lockscope><d:exclusive/></d:lockscope>'
    "<d:locktype><d:write/></d:locktype><d:owner><d:href>mailto:me</d:href></d:owner>"
    "</d:lockinfo>"
)


@pytest.fixture
def alice(client: TestClient, services: Services) -> DavUser:
    user = dav_user(services, make_tenant(services, "Acme").user)
    assert client.put("/dav/doc.odt", content=b"v1", headers=user.headers).status_code == 201
    return user


@pytest.fixture
def second_instance(services: Services) -> Iterator[TestClient]:
    """Another server process on the same database: it shares nothing in memory."""
    with TestClient(create_app(services), base_url="http://127.0.0.1:8081") as other:
        yield other


def take_lock(client: TestClient, who: DavUser, path: str, **headers: str) -> str:
    answer = client.request("LOCK", path, headers={**who.headers, **headers}, content=EXCLUSIVE)
    assert answer.status_code in (200, 201), answer.text
    return answer.headers["lock-token"]


def test_a_lock_holds_on_every_instance_until_unlocked(
    client: TestClient, second_instance: TestClient, alice: DavUser
) -> None:
    token = take_lock(client, alice, "/dav/doc.odt", Timeout="Second-600")
    assert (
        "mailto:me"
        in client.request("PROPFIND", "/dav/doc.odt", headers={**alice.headers, "Depth": "0"}).text
    )
    refused = second_instance.put("/dav/doc.odt", content=b"v2", headers=alice.headers)
    assert refused.status_code == 423
    allowed = second_instance.put(
        "/dav/doc.odt", content=b"v2", headers={**alice.headers, "If": f"({token})"}
    )
    assert allowed.status_code == 204
    unlocked = second_instance.request(
        "UNLOCK", "/dav/doc.odt", headers={**alice.headers, "Lock-Token": token}
    )
    assert unlocked.status_code == 204
    assert client.put("/dav/doc.odt", content=b"v3", headers=alice.headers).status_code == 204


def test_a_lock_ends_at_its_timeout(client: TestClient, clock: FakeClock, alice: DavUser) -> None:
    take_lock(client, alice, "/dav/doc.odt", Timeout="Second-60")
    clock.advance(seconds=59)
    assert client.put("/dav/doc.odt", content=b"x", headers=alice.headers).status_code == 423
    clock.advance(seconds=2)
    assert client.put("/dav/doc.odt", content=b"x", headers=alice.headers).status_code == 204


def test_a_refresh_extends_the_lock(client: TestClient, clock: FakeClock, alice: DavUser) -> None:
    token = take_lock(client, alice, "/dav/doc.odt", Timeout="Second-60")
    clock.advance(seconds=50)
    refreshed = client.request(
        "LOCK",
        "/dav/doc.odt",
        headers={**alice.headers, "If": f"({token})", "Timeout": "Second-60"},
    )
    assert refreshed.status_code == 200 and "Second-60" in refreshed.text
    clock.advance(seconds=50)
    assert client.put("/dav/doc.odt", content=b"x", headers=alice.headers).status_code == 423


def test_the_token_is_the_accounts_on_any_device_and_a_wrong_one_releases_nothing(
    client: TestClient, services: Services, alice: DavUser
) -> None:
    token = take_lock(client, alice, "/dav/doc.odt")
    # The same account on another device holds the same files: a second app password.
    laptop = dav_user(services, alice.view)
    assert (
        client.put(
            "/dav/doc.odt", content=b"x", headers={**laptop.headers, "If": f"({token})"}
        ).status_code
        == 204
    )  # the token is the account's, whichever device sends it
    wrong = token.replace("-", "0", 1)
    refused = client.request(
        "UNLOCK", "/dav/doc.odt", headers={**alice.headers, "Lock-Token": wrong}
    )
    assert refused.status_code == 409
    assert client.put("/dav/doc.odt", content=b"y", headers=laptop.headers).status_code == 423


def test_a_lock_on_a_new_name_makes_an_empty_file_and_a_deep_lock_guards_what_is_below(
    client: TestClient, alice: DavUser
) -> None:
    created = client.request("LOCK", "/dav/new.txt", headers=alice.headers, content=EXCLUSIVE)
    assert created.status_code == 201
    assert client.get("/dav/new.txt", headers=alice.headers).content == b""
    client.request("MKCOL", "/dav/box", headers=alice.headers)
    token = take_lock(client, alice, "/dav/box")
    assert client.put("/dav/box/in.txt", content=b"x", headers=alice.headers).status_code == 423
    assert client.request("MKCOL", "/dav/box/sub", headers=alice.headers).status_code == 423
    assert client.delete("/dav/box", headers=alice.headers).status_code == 423
    inside = client.put(
        "/dav/box/in.txt", content=b"x", headers={**alice.headers, "If": f"({token})"}
    )
    assert inside.status_code == 201
    conflicting = client.request(
        "LOCK", "/dav/box/in.txt", headers=alice.headers, content=EXCLUSIVE
    )
    assert conflicting.status_code == 423


def test_a_put_meets_its_refusals_in_order_before_the_lock(
    client: TestClient, alice: DavUser
) -> None:
    """The checks before a PUT's body are read together; the door still answers the first
    that fails: a stale If-Match (412) or a missing folder (409) before the lock (423)."""
    take_lock(client, alice, "/dav/doc.odt")
    stale = client.put(
        "/dav/doc.odt", content=b"v2", headers={**alice.headers, "If-Match": '"stale"'}
    )
    assert stale.status_code == 412
    client.request("MKCOL", "/dav/box", headers=alice.headers)
    take_lock(client, alice, "/dav/box", Depth="0")
    assert client.put("/dav/box/no/in.txt", content=b"x", headers=alice.headers).status_code == 409
    assert client.put("/dav/box/in.txt", content=b"x", headers=alice.headers).status_code == 423
    assert client.put("/dav/doc.odt", content=b"v2", headers=alice.headers).status_code == 423
    assert client.get("/dav/doc.odt", headers=alice.headers).content == b"v1"
