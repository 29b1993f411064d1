"""The files REST API over HTTP; content really goes through the encrypted chunk store."""

import base64
import hashlib
import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sfs.app import Services
from sfs.metadata.file_models import Chunk
from sfs.metadata.models import Organization
from sfs.protocol.chunk_ids import chunk_id
from tests.integration.test_api_http import token_for
from tests.world import make_tenant

MARKER = b"SECRET-MARKER-7f3a9c"


@pytest.fixture
def auth(client: TestClient, services: Services) -> dict[str, str]:
    return token_for(client, make_tenant(services, "Acme").user.email)


def upload(client: TestClient, auth: dict[str, str], path: str, data: bytes, **params: object):  # type: ignore[no-untyped-def]
    return client.put(
        "/api/v1/spaces/me/content", params={"path": path, **params}, content=data, headers=auth
    )


def payload(size: int) -> bytes:
    body = os.urandom(size)
    return body[: size // 2] + MARKER + body[size // 2 :]


def chunk_rows(services: Services) -> int:
    with services.database.transaction() as session:
        return session.scalar(select(func.count()).select_from(Chunk)) or 0


def test_upload_and_download_round_trip_with_etag_and_ranges(
    client: TestClient, auth: dict[str, str]
) -> None:
    data = payload(300_000)
    stored = upload(client, auth, "/Report final.bin", data)
    assert stored.status_code == 200, stored.text
    assert stored.json()["size"] == len(data) and stored.json()["version"] == 1
    whole = client.get(
        "/api/v1/spaces/me/content", params={"path": "/Report final.bin"}, headers=auth
    )
    assert whole.status_code == 200 and whole.content == data
    etag = whole.headers["etag"]
    assert "filename*=UTF-8''Report%20final.bin" in whole.headers["content-disposition"]
    cached = client.get(
        "/api/v1/spaces/me/content",
        params={"path": "/Report final.bin"},
        headers={**auth, "If-None-Match": etag},
    )
    assert cached.status_code == 304
    for header, expected in [
        ("bytes=10-19", data[10:20]),
        ("bytes=-5", data[-5:]),
        ("bytes=299990-", data[299990:]),
        ("bytes=100000-160000", data[100000:160001]),
    ]:
        part = client.get(
            "/api/v1/spaces/me/content",
            params={"path": "/Report final.bin"},
            headers={**auth, "Range": header},
        )
        assert part.status_code == 206, header
        assert part.content == expected, header
    beyond = client.get(
        "/api/v1/spaces/me/content",
        params={"path": "/Report final.bin"},
        headers={**auth, "Range": "bytes=400000-"},
    )
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(data)}"


def test_an_empty_file_round_trips(client: TestClient, auth: dict[str, str]) -> None:
    assert upload(client, auth, "/empty.txt", b"").json()["size"] == 0
    answer = client.get("/api/v1/spaces/me/content", params={"path": "/empty.txt"}, headers=auth)
    assert answer.status_code == 200 and answer.content == b""


def test_replacing_needs_the_base_version(client: TestClient, auth: dict[str, str]) -> None:
    upload(client, auth, "/doc.txt", b"first")
    assert upload(client, auth, "/doc.txt", b"second", base_version=1).json()["version"] == 2
    stale = upload(client, auth, "/doc.txt", b"third", base_version=1)
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"
    current = client.get("/api/v1/spaces/me/content", params={"path": "/doc.txt"}, headers=auth)
    assert current.content == b"second"
    versions = client.get(
        "/api/v1/spaces/me/versions", params={"path": "/doc.txt"}, headers=auth
    ).json()
    assert [v["number"] for v in versions] == [2, 1]
    old = client.get(
        "/api/v1/spaces/me/content", params={"path": "/doc.txt", "version": 1}, headers=auth
    )
    assert old.content == b"first"
    restored = client.post(
        "/api/v1/spaces/me/versions/restore", json={"path": "/doc.txt", "number": 1}, headers=auth
    )
    assert restored.json()["version"] == 3


def test_the_same_content_is_stored_once(
    client: TestClient, auth: dict[str, str], services: Services
) -> None:
    data = payload(200_000)
    upload(client, auth, "/a.bin", data)
    before = chunk_rows(services)
    upload(client, auth, "/b.bin", data)
    assert chunk_rows(services) == before


def test_no_plaintext_name_or_chunk_id_reaches_the_blob_backend(
    client: TestClient, auth: dict[str, str], services: Services
) -> None:
    data = payload(100_000)
    upload(client, auth, "/Quarterly-Secrets.txt", data)
    with services.database.transaction() as session:
        ids = list(session.scalars(select(Chunk.chunk_id)))
    blobs = Path(services.settings.blob_url.removeprefix("file://"))
    files = [p for p in blobs.rglob("*") if p.is_file()]
    assert files
    for stored in files:
        raw = stored.read_bytes()
        assert MARKER not in raw
        assert b"Quarterly-Secrets" not in raw and b"Quarterly-Secrets" not in str(stored).encode()
        for chunk in ids:
            assert chunk.encode() not in raw and bytes.fromhex(chunk) not in raw
            assert chunk not in str(stored)


def test_a_flipped_byte_is_a_clear_error_naming_the_file(
    client: TestClient, auth: dict[str, str], services: Services
) -> None:
    upload(client, auth, "/ledger.xlsx", payload(50_000))
    blobs = Path(services.settings.blob_url.removeprefix("file://"))
    pack = next(p for p in blobs.rglob("*") if p.is_file())
    raw = bytearray(pack.read_bytes())
    raw[100] ^= 0x01
    pack.write_bytes(bytes(raw))
    answer = client.get("/api/v1/spaces/me/content", params={"path": "/ledger.xlsx"}, headers=auth)
    assert answer.status_code == 500
    assert answer.json()["code"] == "damaged_file"
    assert "/ledger.xlsx is damaged" in answer.json()["message"]


def test_chunk_level_upload_and_commit(
    client: TestClient, auth: dict[str, str], services: Services
) -> None:
    params = client.get("/api/v1/chunking", headers=auth).json()
    key = base64.b64decode(params["chunk_id_key"])
    pieces = [b"alpha" * 1000, b"beta" * 1000]
    ids = [chunk_id(key, piece) for piece in pieces]
    missing = client.post("/api/v1/chunks/missing", json={"chunk_ids": ids}, headers=auth).json()
    assert missing == {"missing": ids}
    wrong = client.put(f"/api/v1/chunks/{ids[0]}", content=pieces[1], headers=auth)
    assert wrong.status_code == 422
    for chunk, piece in zip(ids, pieces, strict=True):
        assert client.put(f"/api/v1/chunks/{chunk}", content=piece, headers=auth).status_code == 204
    assert client.post("/api/v1/chunks/missing", json={"chunk_ids": ids}, headers=auth).json() == {
        "missing": []
    }
    committed = client.post(
        "/api/v1/spaces/me/commit",
        json={
            "path": "/synced.txt",
            "manifest": [{"chunk_id": c, "size": len(p)} for c, p in zip(ids, pieces, strict=True)],
            "modified_at": "2026-11-20T10:00:00Z",
        },
        headers=auth,
    )
    assert committed.status_code == 200, committed.text
    content = client.get("/api/v1/spaces/me/content", params={"path": "/synced.txt"}, headers=auth)
    assert content.content == b"".join(pieces)
    assert client.get(f"/api/v1/chunks/{ids[1]}", headers=auth).content == pieces[1]


def test_tree_operations_and_trash(client: TestClient, auth: dict[str, str]) -> None:
    assert (
        client.post("/api/v1/spaces/me/folders", json={"path": "/Docs"}, headers=auth).status_code
        == 201
    )
    upload(client, auth, "/Docs/a.txt", b"a")
    moved = client.post(
        "/api/v1/spaces/me/move", json={"source": "/Docs/a.txt", "target": "/b.txt"}, headers=auth
    )
    assert moved.json()["path"] == "/b.txt"
    copied = client.post(
        "/api/v1/spaces/me/copy", json={"source": "/b.txt", "target": "/Docs/c.txt"}, headers=auth
    )
    assert copied.status_code == 201
    listing = client.get("/api/v1/spaces/me/children", params={"path": "/"}, headers=auth).json()
    assert [(n["name"], n["kind"]) for n in listing] == [("Docs", "folder"), ("b.txt", "file")]
    assert (
        client.delete("/api/v1/spaces/me/node", params={"path": "/b.txt"}, headers=auth).status_code
        == 204
    )
    gone = client.get("/api/v1/spaces/me/node", params={"path": "/b.txt"}, headers=auth)
    assert gone.status_code == 404
    trash = client.get("/api/v1/spaces/me/trash", headers=auth).json()
    assert [t["path"] for t in trash] == ["/b.txt"]
    restored = client.post(f"/api/v1/spaces/me/trash/{trash[0]['id']}/restore", headers=auth)
    assert restored.json()["path"] == "/b.txt"
    bad = client.post("/api/v1/spaces/me/folders", json={"path": "/x/../../etc"}, headers=auth)
    assert bad.status_code == 422 and "'..' is not allowed" in bad.json()["message"]


def test_another_organisation_gets_404_for_spaces_and_chunks(
    client: TestClient, auth: dict[str, str], services: Services
) -> None:
    upload(client, auth, "/mine.txt", b"mine" * 100)
    space_id = client.get("/api/v1/spaces", headers=auth).json()[0]["id"]
    with services.database.transaction() as session:
        some_chunk = session.scalars(select(Chunk.chunk_id)).first()
    other = token_for(client, make_tenant(services, "Globex").user.email)
    for url, params in [
        (f"/api/v1/spaces/{space_id}/children", {"path": "/"}),
        (f"/api/v1/spaces/{space_id}/content", {"path": "/mine.txt"}),
        (f"/api/v1/spaces/{space_id}/node", {"path": "/mine.txt"}),
        (f"/api/v1/chunks/{some_chunk}", {}),
    ]:
        answer = client.get(url, params=params, headers=other)
        assert answer.status_code == 404, url
    assert (
        client.delete(
            f"/api/v1/spaces/{space_id}/node", params={"path": "/mine.txt"}, headers=other
        ).status_code
        == 404
    )


def test_quota_exceeded_keeps_nothing(
    client: TestClient, auth: dict[str, str], services: Services
) -> None:
    with services.database.transaction() as session:
        for org in session.scalars(select(Organization)):
            org.quota_bytes = 50_000
    answer = upload(client, auth, "/big.bin", os.urandom(100_000))
    assert answer.status_code == 507 and answer.json()["code"] == "quota_exceeded"
    assert chunk_rows(services) == 0
    missing = client.get("/api/v1/spaces/me/node", params={"path": "/big.bin"}, headers=auth)
    assert missing.status_code == 404


def test_large_uploads_stream_without_a_body_limit(
    client: TestClient, auth: dict[str, str]
) -> None:
    data = os.urandom(3 * 1024 * 1024)
    assert upload(client, auth, "/large.bin", data).status_code == 200
    back = client.get("/api/v1/spaces/me/content", params={"path": "/large.bin"}, headers=auth)
    assert hashlib.sha256(back.content).digest() == hashlib.sha256(data).digest()
