"""Two app instances over one database, sharing nothing in memory (two Services, two engines),
as two `sfs serve` behind a round-robin load balancer: consecutive requests of one client land
on either, and nothing a client started on one is unknown to the other."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from sfs.app import Services, build_services
from sfs.auth.throttle import RateLimiters
from sfs.config import Settings
from sfs.crypto.master_key import MasterKeyError
from sfs.crypto.passwords import PasswordHasher
from sfs.mail.outbox import OutboxMailer
from sfs.metadata.db import Database
from sfs.services.storage.keyring import Keyring
from sfs.web.server import create_app
from tests.dav import DavUser, dav_user
from tests.integration.test_api_http import token_for
from tests.integration.test_dav_locks import EXCLUSIVE
from tests.integration.test_login_flow import grant, poll, start
from tests.signed_in import log_in
from tests.support import FAST_HASH, FakeClock
from tests.world import make_tenant


@pytest.fixture
def other_services(settings: Settings, clock: FakeClock) -> Iterator[Services]:
    """A second instance: its own engine, caches, change signal and upload slots; the same
    database, data folder (blobs, as S3 would be) and master key."""
    database = Database.from_url(settings.database_url)
    built = build_services(
        settings,
        database=database,
        clock=clock,
        mailer=OutboxMailer(settings.outbox_dir),
        hasher=PasswordHasher(FAST_HASH),
        limiters=RateLimiters.from_storage_uri("memory://"),
        master_key=bytes(range(32)),
    )
    yield built
    database.dispose()


@pytest.fixture
def other(other_services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(other_services), base_url="http://127.0.0.1:8081") as client:
        yield client


@pytest.fixture
def alice(services: Services) -> DavUser:
    return dav_user(services, make_tenant(services, "Acme").user)


def test_a_device_token_from_one_instance_works_on_the_other(
    client: TestClient, other: TestClient, services: Services
) -> None:
    auth = token_for(client, make_tenant(services, "Acme").user.email)
    assert other.post("/api/v1/spaces/me/folders", json={"path": "/x"}, headers=auth).is_success
    listed = client.get("/api/v1/spaces/me/changes", params={"cursor": 0}, headers=auth).json()
    assert [c["path"] for c in listed["changes"]] == ["/x"]


def test_a_webdav_lock_taken_on_one_instance_binds_the_other(
    client: TestClient, other: TestClient, alice: DavUser
) -> None:
    assert client.put("/dav/doc.odt", content=b"v1", headers=alice.headers).status_code == 201
    taken = client.request("LOCK", "/dav/doc.odt", headers=alice.headers, content=EXCLUSIVE)
    token = taken.headers["lock-token"]
    assert other.put("/dav/doc.odt", content=b"v2", headers=alice.headers).status_code == 423
    with_token = {**alice.headers, "If": f"({token})"}
    assert other.put("/dav/doc.odt", content=b"v2", headers=with_token).status_code == 204
    unlock = {**alice.headers, "Lock-Token": token}
    released = other.request("UNLOCK", "/dav/doc.odt", headers=unlock)
    assert released.status_code == 204
    assert client.put("/dav/doc.odt", content=b"v3", headers=alice.headers).status_code == 204


def test_a_chunked_upload_whose_parts_alternate_between_instances_joins_whole(
    client: TestClient, other: TestClient, alice: DavUser
) -> None:
    parts = [os.urandom(200_000) for _ in range(4)]
    whole = b"".join(parts)
    folder = f"/remote.php/dav/uploads/{alice.view.id}/t-two"
    assert client.request("MKCOL", folder, headers=alice.headers).status_code == 201
    for number, part in enumerate(parts, start=1):
        door = client if number % 2 else other
        sent = door.put(f"{folder}/{number:05d}", content=part, headers=alice.headers)
        assert sent.status_code == 201, sent.text
    joined = other.request(
        "MOVE",
        f"{folder}/.file",
        headers={**alice.headers, "Destination": f"http://127.0.0.1:8081{alice.root}/big.bin"},
    )
    assert joined.status_code == 201, joined.text
    assert client.get(f"{alice.root}/big.bin", headers=alice.headers).content == whole
    checksums = client.request(
        "PROPFIND",
        f"{alice.root}/big.bin",
        headers={**alice.headers, "Depth": "0"},
        content=b'<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">'
        b"<d:prop><oc:checksums/></d:prop></d:propfind>",
    )
    assert hashlib.sha1(whole).hexdigest() in checksums.text.lower()  # noqa: S324 (the protocol's)


def test_an_instance_with_another_master_key_is_refused_at_start(services: Services) -> None:
    tenant = make_tenant(services, "Acme")
    services.keyring.keys_for(tenant.organisation.id)
    services.keyring.check_master_key()  # the same key: fine
    stranger = Keyring(services.database, services.clock, services.randomness, bytes(32))
    with pytest.raises(MasterKeyError, match="same master key file"):
        stranger.check_master_key()


def test_login_flow_v2_started_on_one_instance_is_granted_and_collected_on_the_other(
    client: TestClient, other: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    endpoint, token, login = start(client)
    assert poll(other, endpoint, token).status_code == 404  # known there, not granted yet
    other.get(login, follow_redirects=False)
    log_in(other, acme.user.email)
    assert grant(other, login).status_code == 200
    handed = poll(client, endpoint, token)
    assert handed.status_code == 200 and handed.json()["loginName"] == acme.user.email
    assert poll(other, endpoint, token).status_code == 404  # handed out once, everywhere
