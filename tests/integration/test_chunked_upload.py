"""Chunked upload v2 over HTTP, as the Nextcloud clients drive it: MKCOL an upload folder, PUT
numbered parts (both numbering schemes), list them to resume, MOVE `.file` into place."""

from __future__ import annotations

import hashlib
import os
import zlib
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.domain.actor import operator
from sfs.services.storage.maintenance import StorageMaintenance
from tests.dav import OC, D, DavUser, dav_user, entries, propfind
from tests.support import FakeClock
from tests.world import CLIENT, Tenant, make_tenant

MTIME = 1_700_000_000


@pytest.fixture
def acme(services: Services) -> Tenant:
    return make_tenant(services, "Acme")


@pytest.fixture
def alice(services: Services, acme: Tenant) -> DavUser:
    return dav_user(services, acme.user)


def uploads(who: DavUser, transfer: str) -> str:
    return f"/remote.php/dav/uploads/{who.view.id}/{transfer}"


def sha1(data: bytes) -> str:
    return "SHA1:" + hashlib.sha1(data).hexdigest()  # noqa: S324 (the protocol's checksum)


def mkcol(client: TestClient, who: DavUser, transfer: str, **headers: str) -> httpx.Response:
    return client.request("MKCOL", uploads(who, transfer), headers={**who.headers, **headers})


def put_part(
    client: TestClient, who: DavUser, transfer: str, name: str, data: bytes, **headers: str
) -> httpx.Response:
    return client.put(
        f"{uploads(who, transfer)}/{name}", content=data, headers={**who.headers, **headers}
    )


def join(
    client: TestClient, who: DavUser, transfer: str, destination: str, **headers: str
) -> httpx.Response:
    return client.request(
        "MOVE",
        f"{uploads(who, transfer)}/.file",
        headers={**who.headers, "Destination": destination, **headers},
    )


def test_sixteen_digit_parts_from_zero_become_one_file_with_the_etag_propfind_reports(
    client: TestClient, alice: DavUser
) -> None:
    parts = [os.urandom(300_000), os.urandom(300_000), os.urandom(123_456)]
    whole = b"".join(parts)
    assert mkcol(client, alice, "t-1", **{"OC-Total-Length": str(len(whole))}).status_code == 201
    for number, data in enumerate(parts):
        assert put_part(client, alice, "t-1", f"{number:016d}", data).status_code == 201
    listed = entries(propfind(client, uploads(alice, "t-1"), alice.headers))
    sizes = {href.rsplit("/", 1)[1]: p.get(f"{D}getcontentlength") for href, p in listed.items()}
    assert sizes == {"": None, **{f"{n:016d}": str(len(d)) for n, d in enumerate(parts)}}

    done = join(
        client,
        alice,
        "t-1",
        f"{alice.root}/big.bin",
        **{
            "OC-Checksum": sha1(whole),
            "OC-Total-Length": str(len(whole)),
            "X-OC-Mtime": str(MTIME),
        },
    )
    assert done.status_code == 201, done.text
    assert done.headers["etag"] == done.headers["oc-etag"]
    assert done.headers["x-oc-mtime"] == "accepted"
    assert client.get(f"{alice.root}/big.bin", headers=alice.headers).content == whole
    body = (
        f'<d:propfind xmlns:d="DAV:" xmlns:oc="{OC[1:-1]}"><d:prop><d:getetag/><oc:id/><oc:fileid/>'
        "<d:getlastmodified/><d:getcontentlength/></d:prop></d:propfind>"
    )
    (found,) = entries(
        propfind(client, f"{alice.root}/big.bin", alice.headers, depth="0", body=body)
    ).values()
    assert found[f"{D}getetag"] == done.headers["etag"]
    assert found[f"{OC}id"] == done.headers["oc-fileid"]
    assert found[f"{OC}fileid"].isdigit()
    assert found[f"{D}getcontentlength"] == str(len(whole))
    assert found[f"{D}getlastmodified"] == "Tue, 14 Nov 2023 22:13:20 GMT"
    # The upload is over.
    assert propfind(client, uploads(alice, "t-1"), alice.headers).status_code == 404


def test_five_digit_parts_from_one_with_destinations_in_any_order_update_a_file(
    client: TestClient, alice: DavUser
) -> None:
    client.put("/dav/notes.bin", content=b"old", headers=alice.headers)
    current = client.head("/dav/notes.bin", headers=alice.headers).headers["etag"]
    target = f"http://127.0.0.1:8080{alice.root}/notes.bin"
    parts = [os.urandom(200_000) for _ in range(3)]
    assert mkcol(client, alice, "web-7", Destination=target).status_code == 201
    for number in (3, 1, 2):
        answer = put_part(
            client, alice, "web-7", f"{number:05d}", parts[number - 1], Destination=target
        )
        assert answer.status_code == 201
    done = join(client, alice, "web-7", target, **{"If-Match": current})
    assert done.status_code == 204
    assert client.get("/dav/notes.bin", headers=alice.headers).content == b"".join(parts)


def test_a_stale_if_match_is_refused_and_changes_nothing(
    client: TestClient, alice: DavUser
) -> None:
    client.put("/dav/doc.bin", content=b"v1", headers=alice.headers)
    stale = client.head("/dav/doc.bin", headers=alice.headers).headers["etag"]
    client.put("/dav/doc.bin", content=b"v2", headers=alice.headers)
    mkcol(client, alice, "t-2")
    put_part(client, alice, "t-2", "00001", b"v3")
    refused = join(client, alice, "t-2", f"{alice.root}/doc.bin", **{"If-Match": stale})
    assert refused.status_code == 412
    assert client.get("/dav/doc.bin", headers=alice.headers).content == b"v2"
    assert propfind(client, uploads(alice, "t-2"), alice.headers).status_code == 207
    # Overwrite: F onto an existing file is refused too.
    refused = join(client, alice, "t-2", f"{alice.root}/doc.bin", Overwrite="F")
    assert refused.status_code == 412


def test_an_interrupted_upload_resumes_from_the_parts_that_arrived(
    client: TestClient, alice: DavUser
) -> None:
    parts = [os.urandom(150_000) for _ in range(3)]
    mkcol(client, alice, "resume")
    put_part(client, alice, "resume", "0000000000000000", parts[0])
    put_part(client, alice, "resume", "0000000000000001", parts[1][:1000])  # cut off
    listed = entries(propfind(client, uploads(alice, "resume"), alice.headers))
    assert len(listed) == 3
    again = put_part(client, alice, "resume", "0000000000000001", parts[1])
    assert again.status_code == 204  # replaced
    put_part(client, alice, "resume", "0000000000000002", parts[2])
    whole = b"".join(parts)
    done = join(client, alice, "resume", "/dav/resumed.bin", **{"OC-Checksum": sha1(whole)})
    assert done.status_code == 201
    assert client.get("/dav/resumed.bin", headers=alice.headers).content == whole


def test_a_checksum_or_length_mismatch_is_refused_and_changes_nothing(
    client: TestClient, alice: DavUser
) -> None:
    data = os.urandom(100_000)
    mkcol(client, alice, "t-3")
    put_part(client, alice, "t-3", "00001", data)
    wrong = join(client, alice, "t-3", "/dav/x.bin", **{"OC-Checksum": sha1(data + b"!")})
    assert wrong.status_code == 400 and "SHA1" in wrong.text
    short = join(client, alice, "t-3", "/dav/x.bin", **{"OC-Total-Length": "99999"})
    assert short.status_code == 400 and "100000" in short.text
    unknown = join(client, alice, "t-3", "/dav/x.bin", **{"OC-Checksum": "CRC9:abcdef01"})
    assert unknown.status_code == 400
    assert client.head("/dav/x.bin", headers=alice.headers).status_code == 404
    # The upload is still there: the right checksum completes it.
    done = join(client, alice, "t-3", "/dav/x.bin", **{"OC-Checksum": sha1(data)})
    assert done.status_code == 201


def test_a_missing_part_or_a_wrong_announced_length_stops_the_join(
    client: TestClient, alice: DavUser
) -> None:
    mkcol(client, alice, "gap")
    put_part(client, alice, "gap", "00001", b"a")
    put_part(client, alice, "gap", "00003", b"c")
    missing = join(client, alice, "gap", "/dav/gap.bin")
    assert missing.status_code == 409 and "Part 2" in missing.text
    mkcol(client, alice, "len", **{"OC-Total-Length": "10"})
    put_part(client, alice, "len", "00001", b"abc")
    assert join(client, alice, "len", "/dav/len.bin").status_code == 400
    assert client.head("/dav/gap.bin", headers=alice.headers).status_code == 404


def test_bad_requests_get_precise_answers(client: TestClient, alice: DavUser) -> None:
    assert mkcol(client, alice, "dup").status_code == 201
    assert mkcol(client, alice, "dup").status_code == 405
    assert put_part(client, alice, "dup", "first", b"x").status_code == 400
    assert put_part(client, alice, "nothing", "00001", b"x").status_code == 404
    assert mkcol(client, alice, "neg", **{"OC-Total-Length": "-1"}).status_code == 400
    assert client.get(f"{uploads(alice, 'dup')}/00001", headers=alice.headers).status_code == 403
    no_destination = client.request("MOVE", f"{uploads(alice, 'dup')}/.file", headers=alice.headers)
    assert no_destination.status_code == 400
    assert join(client, alice, "dup", "/elsewhere/x").status_code == 502
    assert join(client, alice, "dup", "/dav/").status_code == 403
    assert join(client, alice, "dup", "/dav/no/such/folder.bin").status_code == 409
    assert mkcol(client, alice, "bad name!").status_code == 404


def test_an_upload_idle_for_a_day_expires(
    client: TestClient, services: Services, alice: DavUser, clock: FakeClock
) -> None:
    mkcol(client, alice, "slow")
    put_part(client, alice, "slow", "00001", b"first")
    clock.advance(hours=23)
    assert put_part(client, alice, "slow", "00002", b"second").status_code == 201  # touched
    clock.advance(hours=23)
    assert propfind(client, uploads(alice, "slow"), alice.headers).status_code == 207
    clock.advance(hours=2)
    assert put_part(client, alice, "slow", "00003", b"third").status_code == 404
    assert propfind(client, uploads(alice, "slow"), alice.headers).status_code == 404
    assert join(client, alice, "slow", "/dav/slow.bin").status_code == 404
    assert services.upload_sessions.drop_idle() == 1
    assert services.upload_sessions.drop_idle() == 0
    assert mkcol(client, alice, "slow").status_code == 201  # the name is free again


def test_delete_aborts_an_upload(client: TestClient, alice: DavUser) -> None:
    mkcol(client, alice, "gone")
    put_part(client, alice, "gone", "00001", b"x")
    deleted = client.delete(uploads(alice, "gone"), headers=alice.headers)
    assert deleted.status_code == 204
    assert propfind(client, uploads(alice, "gone"), alice.headers).status_code == 404
    assert client.delete(uploads(alice, "gone"), headers=alice.headers).status_code == 404


def test_garbage_collection_keeps_the_parts_of_an_upload_in_progress(
    client: TestClient, services: Services, alice: DavUser, clock: FakeClock
) -> None:
    data = os.urandom(400_000)
    mkcol(client, alice, "kept")
    put_part(client, alice, "kept", "00001", data)
    clock.advance(hours=5)  # far beyond the collector's grace period
    maintenance = StorageMaintenance(
        services.database, services.chunk_store, services.keyring, services.clock
    )
    report = maintenance.collect_garbage()
    assert report.chunks_deleted == 0 and report.chunks_restored == 0
    done = join(client, alice, "kept", "/dav/kept.bin", **{"OC-Checksum": sha1(data)})
    assert done.status_code == 201
    assert client.get("/dav/kept.bin", headers=alice.headers).content == data
    # An abandoned upload's chunks do go, once it expired.
    mkcol(client, alice, "abandoned")
    put_part(client, alice, "abandoned", "00001", os.urandom(100_000))
    clock.advance(hours=25)
    assert services.upload_sessions.drop_idle() == 1
    clock.advance(hours=2)
    assert maintenance.collect_garbage().chunks_deleted > 0


def test_the_quota_is_checked_when_the_upload_opens(
    client: TestClient, services: Services, acme: Tenant, alice: DavUser
) -> None:
    services.retention.set_quota(
        operator(),
        organization_id=acme.organisation.id,
        user_id=acme.user.id,
        quota_bytes=1000,
        client=CLIENT,
    )
    refused = mkcol(client, alice, "huge", **{"OC-Total-Length": str(10**9)})
    assert refused.status_code == 507


def test_the_upload_folder_lists_open_uploads(client: TestClient, alice: DavUser) -> None:
    mkcol(client, alice, "a1")
    mkcol(client, alice, "a2")
    listed = entries(propfind(client, f"/remote.php/dav/uploads/{alice.view.id}/", alice.headers))
    names = {h.rstrip("/").rsplit("/", 1)[1] for h in listed}
    assert names == {str(alice.view.id), "a1", "a2"}


def test_the_mtime_header_must_be_unix_seconds(client: TestClient, alice: DavUser) -> None:
    mkcol(client, alice, "m")
    put_part(client, alice, "m", "00001", b"x")
    assert join(client, alice, "m", "/dav/m.bin", **{"X-OC-Mtime": "yesterday"}).status_code == 400
    assert client.head("/dav/m.bin", headers=alice.headers).status_code == 404


@pytest.mark.parametrize(
    ("kind", "compute"),
    [
        ("MD5", lambda data: hashlib.md5(data).hexdigest()),  # noqa: S324 (the protocol's)
        ("ADLER32", lambda data: f"{zlib.adler32(data):08x}"),
    ],
)
def test_md5_and_adler32_checksums_are_verified_too(
    client: TestClient, alice: DavUser, kind: str, compute: Callable[[bytes], str]
) -> None:
    parts = [os.urandom(70_000), os.urandom(5)]
    mkcol(client, alice, kind)
    for number, data in enumerate(parts, start=1):
        put_part(client, alice, kind, f"{number:05d}", data)
    whole = b"".join(parts)
    wrong = join(client, alice, kind, "/dav/sum.bin", **{"OC-Checksum": f"{kind}:{compute(b'')}"})
    assert wrong.status_code == 400
    right = join(client, alice, kind, "/dav/sum.bin", **{"OC-Checksum": f"{kind}:{compute(whole)}"})
    assert right.status_code in (201, 204)
