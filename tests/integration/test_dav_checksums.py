"""oc:checksums: the SHA1 a version keeps when its whole content passed through the server in
order (DAV PUT, REST upload, chunked upload join), carried over by copies and restores, absent
for a sync client's manifest of chunks; OC-Checksum on a plain PUT is checked against it."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sfs.app import Services
from sfs.metadata.file_models import Version
from sfs.protocol.chunk_ids import chunk_id
from sfs.services.files.versions import ManifestEntry
from tests.dav import OC, DavUser, dav_user, entries, propfind
from tests.integration.test_api_http import token_for
from tests.world import CLIENT, Tenant, actor, make_tenant

ASK = (
    f'<d:propfind xmlns:d="DAV:" xmlns:oc="{OC[1:-1]}"><d:prop><d:getetag/><oc:checksums/>'
    "</d:prop></d:propfind>"
)


@pytest.fixture
def acme(services: Services) -> Tenant:
    return make_tenant(services, "Acme")


@pytest.fixture
def alice(services: Services, acme: Tenant) -> DavUser:
    return dav_user(services, acme.user)


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()  # noqa: S324 (the protocol's checksum)


def checksums(client: TestClient, who: DavUser, path: str) -> str | None:
    """The text of oc:checksum in the 200 propstat, or None when the property is not there."""
    answer = propfind(client, f"{who.root}{path}", who.headers, depth="0", body=ASK)
    (found,) = entries(answer).values()
    if f"{OC}checksums" not in found:
        return None
    assert "<oc:checksums><oc:checksum>SHA1:" in answer.text
    start = answer.text.index("<oc:checksum>") + len("<oc:checksum>")
    return answer.text[start : answer.text.index("</oc:checksum>")]


def test_a_dav_put_keeps_the_sha1_and_a_copy_and_a_restore_keep_it_too(
    client: TestClient, alice: DavUser
) -> None:
    data = os.urandom(200_000)
    assert client.put(f"{alice.root}/a.bin", content=data, headers=alice.headers).status_code == 201
    assert checksums(client, alice, "/a.bin") == f"SHA1:{sha1(data)}"

    copied = client.request(
        "COPY", f"{alice.root}/a.bin", headers={**alice.headers, "Destination": "/dav/b.bin"}
    )
    assert copied.status_code == 201, copied.text
    assert checksums(client, alice, "/b.bin") == f"SHA1:{sha1(data)}"

    assert (
        client.put(f"{alice.root}/a.bin", content=b"two", headers=alice.headers).status_code == 204
    )
    assert checksums(client, alice, "/a.bin") == f"SHA1:{sha1(b'two')}"
    listed = entries(propfind(client, f"{alice.root}/", alice.headers, body=ASK))
    assert f"{OC}checksums" not in listed[f"{alice.root}/"]  # a folder has none
    assert f"{OC}checksums" in listed[f"{alice.root}/a.bin"]


def test_a_restored_version_keeps_its_sha1(
    client: TestClient, services: Services, acme: Tenant, alice: DavUser
) -> None:
    client.put(f"{alice.root}/r.txt", content=b"first", headers=alice.headers)
    client.put(f"{alice.root}/r.txt", content=b"second", headers=alice.headers)
    who = actor(services, acme.user)
    services.file_versions.restore_version(
        who, space_id=services.spaces.my_files(who).id, path="/r.txt", number=1, client=CLIENT
    )
    assert checksums(client, alice, "/r.txt") == f"SHA1:{sha1(b'first')}"


def test_a_put_with_a_wrong_oc_checksum_is_refused_and_changes_nothing(
    client: TestClient, services: Services, alice: DavUser
) -> None:
    data = b"the real bytes" * 1000
    versions_before = _versions(services)
    wrong = client.put(
        f"{alice.root}/c.bin",
        content=data,
        headers={**alice.headers, "OC-Checksum": f"SHA1:{sha1(data + b'!')}"},
    )
    assert wrong.status_code == 400
    assert sha1(data) in wrong.text  # says what the server computed
    assert client.get(f"{alice.root}/c.bin", headers=alice.headers).status_code == 404
    assert _versions(services) == versions_before

    md5 = hashlib.md5(data).hexdigest()  # noqa: S324 (the protocol's checksum)
    bad_md5 = client.put(
        f"{alice.root}/c.bin",
        content=data,
        headers={**alice.headers, "OC-Checksum": "MD5:" + "0" * 32},
    )
    assert bad_md5.status_code == 400
    assert _versions(services) == versions_before
    garbled = client.put(
        f"{alice.root}/c.bin", content=data, headers={**alice.headers, "OC-Checksum": "CRC9:0011"}
    )
    assert garbled.status_code == 400

    for header in (f"SHA1:{sha1(data).upper()}", f"MD5:{md5}"):
        right = client.put(
            f"{alice.root}/c.bin", content=data, headers={**alice.headers, "OC-Checksum": header}
        )
        assert right.status_code in (201, 204), right.text
    assert checksums(client, alice, "/c.bin") == f"SHA1:{sha1(data)}"


def test_a_rest_upload_keeps_the_sha1(client: TestClient, acme: Tenant, alice: DavUser) -> None:
    rest = token_for(client, acme.user.email)
    data = os.urandom(70_000)
    uploaded = client.put(
        "/api/v1/spaces/me/content", params={"path": "/rest.bin"}, content=data, headers=rest
    )
    assert uploaded.status_code == 200
    assert checksums(client, alice, "/rest.bin") == f"SHA1:{sha1(data)}"


def test_a_chunked_upload_keeps_the_sha1_of_the_whole_file(
    client: TestClient, alice: DavUser
) -> None:
    parts = [os.urandom(300_000), os.urandom(200_000), os.urandom(5)]
    whole = b"".join(parts)
    base = f"/remote.php/dav/uploads/{alice.view.id}/t-sum"
    assert client.request("MKCOL", base, headers=alice.headers).status_code == 201
    for number, data in enumerate(parts, start=1):
        assert client.put(f"{base}/{number:05d}", content=data, headers=alice.headers).is_success
    done = client.request(
        "MOVE", f"{base}/.file", headers={**alice.headers, "Destination": "/dav/joined.bin"}
    )
    assert done.status_code == 201, done.text
    assert checksums(client, alice, "/joined.bin") == f"SHA1:{sha1(whole)}"


def test_a_sync_client_commit_has_no_sha1_and_propfind_leaves_it_out(
    client: TestClient, services: Services, acme: Tenant, alice: DavUser
) -> None:
    who = actor(services, acme.user)
    data = b"cut and sent by the native client"
    assert who.organization_id is not None
    chunk = chunk_id(services.keyring.keys_for(who.organization_id).chunk_id_key, data)
    services.file_content.put_chunks(who, [(chunk, data)])
    services.file_versions.commit(
        who,
        space_id=services.spaces.my_files(who).id,
        path="/synced.txt",
        manifest=[ManifestEntry(chunk, len(data))],
        modified_at=datetime(2026, 1, 1, tzinfo=UTC),
        base_version=None,
        client=CLIENT,
    )
    assert checksums(client, alice, "/synced.txt") is None
    answer = propfind(client, f"{alice.root}/synced.txt", alice.headers, depth="0", body=ASK)
    assert "<oc:checksum>" not in answer.text and "<oc:checksum/>" not in answer.text


def _versions(services: Services) -> int:
    with services.database.transaction() as session:
        return session.scalar(select(func.count()).select_from(Version)) or 0


def _send_parts(client: TestClient, who: DavUser, transfer: str, parts: dict[int, bytes]) -> str:
    base = f"/remote.php/dav/uploads/{who.view.id}/{transfer}"
    if client.request("PROPFIND", base, headers={**who.headers, "Depth": "0"}).status_code == 404:
        assert client.request("MKCOL", base, headers=who.headers).status_code == 201
    for number, data in parts.items():
        assert client.put(f"{base}/{number:05d}", content=data, headers=who.headers).is_success
    return base


def test_parts_in_order_are_hashed_as_they_arrive_not_read_back_at_join(
    client: TestClient, services: Services, alice: DavUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = {1: os.urandom(250_000), 2: os.urandom(250_000), 3: b"tail"}
    whole = b"".join(parts.values())
    base = _send_parts(client, alice, "in-order", parts)

    def no_read_back(*_: object, **__: object) -> object:
        raise AssertionError("the join read the parts back")

    monkeypatch.setattr(services.chunk_store, "read_many", no_read_back)
    wrong = client.request(
        "MOVE",
        f"{base}/.file",
        headers={
            **alice.headers,
            "Destination": "/dav/ordered.bin",
            "OC-Checksum": f"SHA1:{sha1(whole + b'!')}",
        },
    )
    assert wrong.status_code == 400 and sha1(whole) in wrong.text
    done = client.request(
        "MOVE",
        f"{base}/.file",
        headers={
            **alice.headers,
            "Destination": "/dav/ordered.bin",
            "OC-Checksum": f"SHA1:{sha1(whole)}",
        },
    )
    assert done.status_code == 201, done.text
    monkeypatch.undo()
    assert checksums(client, alice, "/ordered.bin") == f"SHA1:{sha1(whole)}"


def test_parts_out_of_order_or_sent_again_still_get_the_right_sha1(
    client: TestClient, alice: DavUser
) -> None:
    parts = {3: os.urandom(1000), 1: os.urandom(2000), 2: os.urandom(3000)}
    base = _send_parts(client, alice, "shuffled", parts)
    assert client.request(
        "MOVE", f"{base}/.file", headers={**alice.headers, "Destination": "/dav/shuffled.bin"}
    ).is_success
    whole = parts[1] + parts[2] + parts[3]
    assert checksums(client, alice, "/shuffled.bin") == f"SHA1:{sha1(whole)}"

    first = {1: os.urandom(2000), 2: os.urandom(3000), 3: os.urandom(1000)}
    base = _send_parts(client, alice, "again", first)
    second = os.urandom(3000)  # part 2 again, same size, other bytes, after part 3
    _send_parts(client, alice, "again", {2: second})
    assert client.request(
        "MOVE", f"{base}/.file", headers={**alice.headers, "Destination": "/dav/again.bin"}
    ).is_success
    assert checksums(client, alice, "/again.bin") == f"SHA1:{sha1(first[1] + second + first[3])}"
