"""Commit bodies: capped near a real manifest's size (413, nothing changed), parsed off the event
loop, and a full 1,000-file commit-batch of real manifests still fits."""

import json
import os
from collections.abc import Iterator

from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.protocol.chunk_ids import chunk_id
from sfs.web.server import MAX_MANIFEST_BODY
from tests.integration.test_sync_api import batch_body, chunk_key, login

MIB = 1024 * 1024


def manifest_entries(count: int) -> list[dict[str, object]]:
    """A new file's manifest as the client sends it (~97 bytes of JSON a chunk)."""
    return [{"chunk_id": os.urandom(32).hex(), "size": 24576} for _ in range(count)]


def node_status(client: TestClient, auth: dict[str, str], path: str) -> int:
    return client.get("/api/v1/spaces/me/node", params={"path": path}, headers=auth).status_code


def test_an_oversized_commit_is_refused_413_and_changes_nothing(
    client: TestClient, services: Services
) -> None:
    auth = login(client, services)
    headers = {**auth, "content-type": "application/json"}
    one = {"path": "/huge.bin", "modified_at": "2026-11-20T10:00:00Z"}
    single_cap = MAX_MANIFEST_BODY  # one file's manifest: a new file of about 24 GB
    body = json.dumps({**one, "manifest": manifest_entries(single_cap // 97 + 1000)}).encode()
    assert len(body) > single_cap
    answer = client.post("/api/v1/spaces/me/commit", content=body, headers=headers)
    assert answer.status_code == 413
    assert answer.json() == {
        "code": "request_too_large",
        "message": f"Request body over {single_cap} bytes.",
    }

    def chunked() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for start in range(0, len(body), MIB):
            yield body[start : start + MIB]

    refused = client.post("/api/v1/spaces/me/commit", content=chunked(), headers=headers)
    assert refused.status_code == 413
    assert refused.json()["code"] == "request_too_large"

    batch_cap = services.settings.commit_body_max_bytes  # many files' manifests together
    entries = manifest_entries(batch_cap // 97 + 1000)
    batch = json.dumps({"commits": [{**one, "manifest": entries}]}).encode()
    assert batch_cap < len(batch) < single_cap
    refused = client.post("/api/v1/spaces/me/commit-batch", content=batch, headers=headers)
    assert refused.status_code == 413
    assert refused.json()["message"] == f"Request body over {batch_cap} bytes."
    # The same manifest in a commit of its own is within that commit's ceiling: it is parsed
    # and refused only for what it names (chunks nobody uploaded), not for its size.
    alone = client.post("/api/v1/spaces/me/commit", json={**one, "manifest": entries}, headers=auth)
    assert alone.status_code == 422, alone.text[:300]
    assert node_status(client, auth, "/huge.bin") == 404


def test_a_commit_batch_of_a_thousand_files_of_real_manifests_is_accepted(
    client: TestClient, services: Services
) -> None:
    auth = login(client, services)
    key = chunk_key(client, auth)
    pieces = [os.urandom(24576) for _ in range(43)]  # ~1 MiB of chunks
    ids = [chunk_id(key, piece) for piece in pieces]
    stored = client.post(
        "/api/v1/chunks/batch",
        content=batch_body(list(zip(ids, pieces, strict=True))),
        headers=auth,
    )
    assert stored.status_code == 200, stored.text
    manifest = [{"chunk_id": i, "size": 24576} for i in ids]
    commits = [
        {"path": f"/f{n:04}.bin", "manifest": manifest, "modified_at": "2026-11-20T10:00:00Z"}
        for n in range(1000)
    ]
    body = json.dumps({"commits": commits}).encode()
    assert len(body) > 4 * MIB  # 1,000 files of 1 MiB each: well under the cap
    answer = client.post(
        "/api/v1/spaces/me/commit-batch",
        content=body,
        headers={**auth, "content-type": "application/json"},
    )
    assert answer.status_code == 200, answer.text[:500]
    results = answer.json()["results"]
    assert len(results) == 1000 and all(r["error"] is None for r in results)
    assert node_status(client, auth, "/f0999.bin") == 200


def test_a_malformed_commit_body_is_a_clear_4xx(client: TestClient, services: Services) -> None:
    auth = login(client, services)
    headers = {**auth, "content-type": "application/json"}
    broken = client.post("/api/v1/spaces/me/commit", content=b'{"path": "/a"', headers=headers)
    # Parsed in a thread, answered as FastAPI's own parsing is (the JSON error's status is the
    # API error mapping's to choose).
    assert broken.status_code in (400, 422) and "JSON" in broken.json()["message"]
    short = client.post(
        "/api/v1/spaces/me/commit",
        json={
            "path": "/a",
            "manifest": [{"chunk_id": "ab", "size": 1}],
            "modified_at": "2026-11-20T10:00:00Z",
        },
        headers=auth,
    )
    assert short.status_code == 422, short.text
    assert short.json()["code"] == "invalid_input"
    assert short.json()["field"].startswith("manifest.0")
    assert node_status(client, auth, "/a") == 404


def test_a_chunk_batch_may_be_as_big_as_chunking_says_and_no_bigger(
    client: TestClient, services: Services
) -> None:
    auth = login(client, services)
    key = chunk_key(client, auth)
    ceiling = client.get("/api/v1/chunking", headers=auth).json()["batch_max_bytes"]
    assert ceiling > 8 * MIB  # bigger than an older server took: fewer packs and transactions
    pieces = [os.urandom(65536) for _ in range(ceiling // 65536 - 1)]
    chunks = [(chunk_id(key, piece), piece) for piece in pieces]
    body = batch_body(chunks)
    assert 8 * MIB < len(body) <= ceiling
    stored = client.post("/api/v1/chunks/batch", content=body, headers=auth)
    assert stored.status_code == 200, stored.text
    assert stored.json() == {"stored": len(chunks)}

    more = [(chunk_id(key, piece), piece) for piece in (os.urandom(65536) for _ in range(3))]
    too_big = batch_body(chunks + more)
    assert len(too_big) > ceiling
    refused = client.post("/api/v1/chunks/batch", content=too_big, headers=auth)
    assert refused.status_code == 413
    missing = client.post(
        "/api/v1/chunks/missing", json={"chunk_ids": [i for i, _ in more]}, headers=auth
    )
    assert missing.json()["missing"] == [i for i, _ in more]  # nothing of it kept
