"""The reads a WebDAV client makes around every small file it puts (rclone: a MKCOL of the
folder, the PUT, a PROPFIND of the file) run on the event loop on SQLite, with the caller
remembered from moments ago; what cannot be answered that way still goes through a worker
thread, with every check it had (web/loop_reads.py, web/dav/app.py)."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from typing import Any

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.domain.actor import ClientInfo
from tests.dav import DavUser, basic, dav_user, propfind
from tests.world import CLIENT, make_tenant, operator

RCLONE_PROPS = (
    '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:displayname/>'
    "<d:getlastmodified/><d:getcontentlength/><d:resourcetype/></d:prop></d:propfind>"
)
TEST_CLIENT = ClientInfo(address="testclient", user_agent="testclient")


@pytest.fixture
def alice(client: TestClient, services: Services) -> DavUser:
    return dav_user(services, make_tenant(services, "Acme").user)


@pytest.fixture
def thread_trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of each function sent to a worker thread."""
    trips: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def counted(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        trips.append(getattr(function, "__name__", None) or type(function).__name__)
        return await run_sync(function, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    return trips


def test_the_reads_around_a_small_file_take_no_worker_thread_on_sqlite(
    client: TestClient, services: Services, alice: DavUser, thread_trips: list[str]
) -> None:
    assert client.request("MKCOL", "/dav/small", headers=alice.headers).status_code == 201
    remember(client, alice)
    thread_trips.clear()
    on_loop = services.database.engine.dialect.name == "sqlite"

    exists = client.request("MKCOL", "/dav/small/", headers=alice.headers)
    assert exists.status_code == 405
    assert len(thread_trips) == (0 if on_loop else 1), thread_trips
    thread_trips.clear()

    put = client.put("/dav/small/f.bin", content=os.urandom(4096), headers=alice.headers)
    assert put.status_code == 201
    # Only the end of the upload (its pack written, the version committed) takes a thread.
    assert len(thread_trips) == (1 if on_loop else 3), thread_trips
    thread_trips.clear()

    found = propfind(client, "/dav/small/f.bin", alice.headers, depth="0", body=RCLONE_PROPS)
    assert found.status_code == 207 and b"<d:getcontentlength>4096<" in found.content
    assert len(thread_trips) == (0 if on_loop else 1), thread_trips


def test_a_write_with_an_if_header_and_an_unknown_caller_still_go_to_a_thread(
    client: TestClient, services: Services, alice: DavUser, thread_trips: list[str]
) -> None:
    stored = client.put("/dav/a.txt", content=b"one", headers=alice.headers)
    remember(client, alice)
    thread_trips.clear()
    if_header = {"If": f"([{stored.headers['etag']}])"}
    again = client.put("/dav/a.txt", content=b"two", headers={**alice.headers, **if_header})
    assert again.status_code == 204
    assert len(thread_trips) == 3, thread_trips  # the checks, the start, the end
    thread_trips.clear()
    wrong = {"Authorization": "Basic bm9ib2R5QGV4YW1wbGUuY29tOm5vcGU="}  # nobody@...:nope
    assert client.request("PROPFIND", "/dav/", headers=wrong).status_code == 401
    assert thread_trips == ["_caller"]


def test_listings_sums_over_an_account_and_quota_checks_still_go_to_a_thread(
    client: TestClient, services: Services, alice: DavUser, thread_trips: list[str]
) -> None:
    tenant_id = alice.view.organization_id
    assert tenant_id is not None
    services.retention.set_quota(
        operator(), organization_id=tenant_id, quota_bytes=10_000, client=CLIENT
    )
    remember(client, alice)
    thread_trips.clear()
    assert propfind(client, "/dav/", alice.headers, depth="1").status_code == 207
    assert len(thread_trips) == 1, thread_trips
    thread_trips.clear()
    room = '<d:propfind xmlns:d="DAV:"><d:prop><d:quota-available-bytes/></d:prop></d:propfind>'
    assert propfind(client, "/dav/", alice.headers, depth="0", body=room).status_code == 207
    assert len(thread_trips) == 1, thread_trips
    thread_trips.clear()
    put = client.put("/dav/f.bin", content=os.urandom(600), headers=alice.headers)
    assert put.status_code == 201
    # On SQLite the checks run on the loop; the room under the quota is counted in a thread.
    on_loop = services.database.engine.dialect.name == "sqlite"
    assert len(thread_trips) == (2 if on_loop else 3), thread_trips


def test_a_remembered_app_password_is_not_taken_on_the_loop_while_its_account_is_throttled(
    client: TestClient, services: Services, alice: DavUser
) -> None:
    remember(client, alice)
    wrong = basic(alice.view.email, "not-the-password")
    while propfind(client, "/dav/", wrong, depth="0").status_code != 429:
        pass  # wrong passwords until the account's login limit holds it back
    assert propfind(client, "/dav/", alice.headers, depth="0").status_code == 429
    remembered = services.client_passwords.remembered(
        email=alice.view.email, password=_secret_of(alice), client=TEST_CLIENT
    )
    assert remembered is None


def test_an_app_password_is_remembered_for_the_client_it_came_from_only(
    client: TestClient, services: Services, alice: DavUser
) -> None:
    remember(client, alice)
    found = services.client_passwords.remembered(
        email=alice.view.email.upper(), password=_secret_of(alice), client=TEST_CLIENT
    )
    assert found is not None and found.actor.user_id == alice.view.id
    other_client = ClientInfo(address="192.0.2.1", user_agent="testclient")
    assert (
        services.client_passwords.remembered(
            email=alice.view.email, password=_secret_of(alice), client=other_client
        )
        is None
    )


def remember(client: TestClient, user: DavUser) -> None:
    """Requests until the app password is remembered (its first use is written down, and a
    credential is remembered from a check that saw no change)."""
    for _ in range(2):
        assert propfind(client, "/dav/", user.headers, depth="0").status_code == 207


def _secret_of(user: DavUser) -> str:
    decoded = base64.b64decode(user.headers["Authorization"].removeprefix("Basic ")).decode()
    return decoded.partition(":")[2]
