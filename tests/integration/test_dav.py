"""The WebDAV door over HTTP: reads, writes, properties, ETags, through the real file services."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.domain.actor import Actor
from tests.dav import OC, D, DavUser, dav_user, entries, propfind
from tests.world import CLIENT, actor, make_tenant


@pytest.fixture
def alice(client: TestClient, services: Services) -> DavUser:
    return dav_user(services, make_tenant(services, "Acme").user)


def put(client: TestClient, who: DavUser, path: str, data: bytes, **headers: str):  # type: ignore[no-untyped-def]
    return client.put(f"/dav{path}", content=data, headers={**who.headers, **headers})


def test_options_announce_class_2_and_windows_authoring(client: TestClient) -> None:
    answer = client.options("/dav/")
    assert answer.status_code == 200
    assert answer.headers["dav"] == "1, 2" and answer.headers["ms-author-via"] == "DAV"
    assert "PROPFIND" in answer.headers["allow"] and "LOCK" in answer.headers["allow"]


def test_a_file_goes_in_and_comes_out_whole_and_in_ranges(
    client: TestClient, alice: DavUser
) -> None:
    data = os.urandom(300_000)
    stored = put(client, alice, "/report.bin", data)
    assert stored.status_code == 201
    assert stored.headers["etag"] == stored.headers["oc-etag"]
    again = put(client, alice, "/report.bin", data[:1000])
    assert again.status_code == 204 and again.headers["etag"] != stored.headers["etag"]
    whole = client.get(f"{alice.root}/report.bin", headers=alice.headers)
    assert whole.status_code == 200 and whole.content == data[:1000]
    assert whole.headers["etag"] == again.headers["etag"]
    part = client.get("/dav/report.bin", headers={**alice.headers, "Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == data[10:20]
    assert part.headers["content-range"] == "bytes 10-19/1000"
    tail = client.get("/dav/report.bin", headers={**alice.headers, "Range": "bytes=-5"})
    assert tail.content == data[995:1000]
    beyond = client.get("/dav/report.bin", headers={**alice.headers, "Range": "bytes=5000-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == "bytes */1000"
    head = client.head("/dav/report.bin", headers=alice.headers)
    assert head.status_code == 200 and head.headers["content-length"] == "1000"
    assert head.content == b""
    cached = client.get(
        "/dav/report.bin", headers={**alice.headers, "If-None-Match": whole.headers["etag"]}
    )
    assert cached.status_code == 304


def test_a_chunked_upload_streams_in(client: TestClient, alice: DavUser) -> None:
    blocks = [os.urandom(70_000) for _ in range(20)]

    def body() -> Iterator[bytes]:
        yield from blocks  # no Content-Length: Transfer-Encoding: chunked

    stored = client.put("/dav/streamed.bin", content=body(), headers=alice.headers)
    assert stored.status_code == 201
    assert client.get("/dav/streamed.bin", headers=alice.headers).content == b"".join(blocks)


def test_propfind_lists_a_folder_with_quoted_etags_and_a_charset(
    client: TestClient, alice: DavUser
) -> None:
    assert client.request("MKCOL", "/dav/Docs", headers=alice.headers).status_code == 201
    put(client, alice, "/Docs/a b.txt", b"hello")
    answer = propfind(client, "/dav/Docs", alice.headers)
    assert answer.headers["content-type"] == "application/xml; charset=utf-8"
    listed = entries(answer)
    assert set(listed) == {"/dav/Docs/", "/dav/Docs/a%20b.txt"}
    file = listed["/dav/Docs/a%20b.txt"]
    assert file[f"{D}getcontentlength"] == "5" and file[f"{D}resourcetype"] == ""
    assert file[f"{D}getcontenttype"] == "text/plain"
    assert (file[f"{D}getetag"] or "").startswith('"') and (file[f"{D}getetag"] or "").endswith('"')
    assert listed["/dav/Docs/"][f"{D}resourcetype"] == "collection"
    only_self = entries(propfind(client, "/dav/Docs/", alice.headers, depth="0"))
    assert list(only_self) == ["/dav/Docs/"]


def test_propfind_infinity_is_refused_with_the_precondition(
    client: TestClient, alice: DavUser
) -> None:
    for depth in ("infinity", None):
        headers = dict(alice.headers) if depth is None else {**alice.headers, "Depth": depth}
        answer = client.request("PROPFIND", "/dav/", headers=headers)
        assert answer.status_code == 403
        assert "propfind-finite-depth" in answer.text


def test_folder_etags_change_with_anything_below_and_both_parents_of_a_move(
    client: TestClient, alice: DavUser
) -> None:
    for folder in ("/a", "/a/deep", "/b"):
        client.request("MKCOL", f"/dav{folder}", headers=alice.headers)

    def etags() -> dict[str, str | None]:
        listed = entries(propfind(client, "/dav/", alice.headers))
        deep = entries(propfind(client, "/dav/a/deep", alice.headers, depth="0"))
        return {
            "/": listed["/dav/"][f"{D}getetag"],
            "a": listed["/dav/a/"][f"{D}getetag"],
            "b": listed["/dav/b/"][f"{D}getetag"],
            "deep": deep["/dav/a/deep/"][f"{D}getetag"],
        }

    before = etags()
    put(client, alice, "/a/deep/x.txt", b"x")
    after_put = etags()
    assert {k for k in before if before[k] != after_put[k]} == {"/", "a", "deep"}
    moved = client.request(
        "MOVE",
        "/dav/a/deep/x.txt",
        headers={**alice.headers, "Destination": "http://testserver/dav/b/x.txt"},
    )
    assert moved.status_code == 201
    after_move = etags()
    assert {k for k in after_move if after_move[k] != after_put[k]} == {"/", "a", "b", "deep"}
    assert etags() == after_move  # stable while nothing changes


def test_a_mkcol_that_loses_the_race_for_its_folder_is_told_it_exists(
    client: TestClient, services: Services, alice: DavUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rclone sends a MKCOL of the folder from each of its transfers at once: the ones that
    find it made in between get 405 (it exists), as a later MKCOL would, not 409."""
    looked = services.dav_listings.kind_at

    def made_by_another_request_first(who: Actor, *, space_id: uuid.UUID, path: str) -> str | None:
        monkeypatch.setattr(services.dav_listings, "kind_at", looked)
        services.file_tree.create_folder(who, space_id=space_id, path=path, client=CLIENT)
        return None  # what this request saw before the other one committed

    monkeypatch.setattr(services.dav_listings, "kind_at", made_by_another_request_first)
    assert client.request("MKCOL", "/dav/race", headers=alice.headers).status_code == 405
    assert client.request("MKCOL", "/dav/none/x", headers=alice.headers).status_code == 409


def test_mkcol_delete_copy_and_move_follow_rfc_4918(
    client: TestClient, services: Services, alice: DavUser
) -> None:
    h = alice.headers
    assert client.request("MKCOL", "/dav/src", headers=h).status_code == 201
    assert client.request("MKCOL", "/dav/src", headers=h).status_code == 405
    assert client.request("MKCOL", "/dav/none/x", headers=h).status_code == 409
    assert client.request("MKCOL", "/dav/x", headers=h, content=b"<x/>").status_code == 415
    put(client, alice, "/src/f.txt", b"one")
    copied = client.request("COPY", "/dav/src", headers={**h, "Destination": "/dav/copy"})
    assert copied.status_code == 201
    assert client.get("/dav/copy/f.txt", headers=h).content == b"one"
    put(client, alice, "/other.txt", b"two")
    refused = client.request(
        "MOVE", "/dav/other.txt", headers={**h, "Destination": "/dav/copy", "Overwrite": "F"}
    )
    assert refused.status_code == 412
    assert client.get("/dav/copy/f.txt", headers=h).content == b"one"  # nothing changed
    replaced = client.request("MOVE", "/dav/other.txt", headers={**h, "Destination": "/dav/copy"})
    assert replaced.status_code == 204
    assert client.get("/dav/copy", headers=h).content == b"two"
    assert client.delete("/dav/src", headers=h).status_code == 204
    assert client.get("/dav/src/f.txt", headers=h).status_code == 404
    space = services.spaces.my_files(actor(services, alice.view)).id
    trash = {n.name for n in services.file_tree.trash(actor(services, alice.view), space_id=space)}
    assert trash == {"src", "copy"}  # deleted, and replaced by the move: both recoverable
    assert client.delete("/dav/", headers=h).status_code == 403
    same = client.request("MOVE", "/dav/copy", headers={**h, "Destination": "/dav/copy"})
    assert same.status_code == 403
    renamed = client.request("MOVE", "/dav/copy", headers={**h, "Destination": "/dav/COPY"})
    assert renamed.status_code == 201
    assert "/dav/COPY" in entries(propfind(client, "/dav/", h))


def test_proppatch_keeps_dead_properties_and_sets_the_modification_time(
    client: TestClient, alice: DavUser
) -> None:
    put(client, alice, "/p.txt", b"p")
    body = (
        '<?xml version="1.0"?><d:propertyupdate xmlns:d="DAV:" xmlns:z="urn:z">'
        '<d:set><d:prop><z:colour xml:lang="en">blue <z:b>really</z:b></z:colour>'
        "<d:getlastmodified>Wed, 01 Jan 2025 10:00:00 GMT</d:getlastmodified>"
        "</d:prop></d:set></d:propertyupdate>"
    )
    patched = client.request("PROPPATCH", "/dav/p.txt", headers=alice.headers, content=body)
    assert patched.status_code == 207 and "424" not in patched.text
    asked = (
        '<d:propfind xmlns:d="DAV:" xmlns:z="urn:z"><d:prop><z:colour/><d:getlastmodified/>'
        "</d:prop></d:propfind>"
    )
    found = entries(propfind(client, "/dav/p.txt", alice.headers, depth="0", body=asked))
    props = found["/dav/p.txt"]
    assert props["{urn:z}colour"] == "blue "
    assert props[f"{D}getlastmodified"] == "Wed, 01 Jan 2025 10:00:00 GMT"
    protected = (
        '<d:propertyupdate xmlns:d="DAV:" xmlns:z="urn:z"><d:set><d:prop>'
        "<d:getetag>x</d:getetag><z:other>1</z:other></d:prop></d:set></d:propertyupdate>"
    )
    refused = client.request("PROPPATCH", "/dav/p.txt", headers=alice.headers, content=protected)
    assert "403 Forbidden" in refused.text and "424 Failed Dependency" in refused.text
    other = '<d:propfind xmlns:d="DAV:" xmlns:z="urn:z"><d:prop><z:other/></d:prop></d:propfind>'
    missing = entries(propfind(client, "/dav/p.txt", alice.headers, depth="0", body=other))
    assert "{urn:z}other" not in missing["/dav/p.txt"]  # all or nothing


def test_nextcloud_upload_headers_and_properties(client: TestClient, alice: DavUser) -> None:
    stored = put(client, alice, "/n.txt", b"nn", **{"X-OC-Mtime": "1700000000"})
    assert stored.headers["x-oc-mtime"] == "accepted"
    asked = (
        '<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop>'
        "<d:getetag/><d:getlastmodified/><oc:id/><oc:fileid/><oc:permissions/><oc:size/>"
        "<d:quota-used-bytes/><d:quota-available-bytes/></d:prop></d:propfind>"
    )
    listed = entries(propfind(client, "/dav/", alice.headers, body=asked))
    file = listed["/dav/n.txt"]
    assert file[f"{D}getetag"] == stored.headers["etag"]
    # OC-FileId is the opaque oc:id; oc:fileid is the number the Android app parses (toLong).
    assert file[f"{OC}id"] == stored.headers["oc-fileid"]
    assert file[f"{OC}fileid"].isdigit() and 0 < int(file[f"{OC}fileid"]) < 2**63
    assert file[f"{OC}permissions"] == "GDNVW"
    assert file[f"{D}getlastmodified"] == datetime.fromtimestamp(1700000000, UTC).strftime(
        "%a, %d %b %Y %H:%M:%S GMT"
    )
    root = listed["/dav/"]
    assert root[f"{OC}size"] == "2" and root[f"{D}quota-used-bytes"] == "2"
    assert f"{D}quota-available-bytes" not in root  # no quota: not reported
    stale = put(client, alice, "/n.txt", b"x", **{"If-Match": '"not-the-etag"'})
    assert stale.status_code == 412
    assert client.get("/dav/n.txt", headers=alice.headers).content == b"nn"


def test_proppatch_refuses_a_modification_time_outside_the_window(
    client: TestClient, alice: DavUser
) -> None:
    put(client, alice, "/w.txt", b"w")
    asked = '<d:propfind xmlns:d="DAV:"><d:prop><d:getlastmodified/></d:prop></d:propfind>'
    before = entries(propfind(client, "/dav/w.txt", alice.headers, depth="0", body=asked))
    for far in ("Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 1900 00:00:00 GMT"):
        body = (
            '<?xml version="1.0"?><d:propertyupdate xmlns:d="DAV:"><d:set><d:prop>'
            f"<d:getlastmodified>{far}</d:getlastmodified></d:prop></d:set></d:propertyupdate>"
        )
        answer = client.request("PROPPATCH", "/dav/w.txt", headers=alice.headers, content=body)
        assert answer.status_code == 400, answer.text
        assert "modified_at must lie from 1970-01-01" in answer.text
        after = entries(propfind(client, "/dav/w.txt", alice.headers, depth="0", body=asked))
        assert after == before  # nothing changed
