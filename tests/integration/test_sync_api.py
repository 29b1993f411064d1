"""The calls the sync client lives on: the change feed, long poll, batched chunks and commits."""

import base64
import threading

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sfs.app import Services
from sfs.metadata.file_models import Chunk
from sfs.protocol.chunk_ids import chunk_id
from sfs.services.files.changes import restart_journals
from tests.integration.test_api_http import token_for
from tests.world import make_tenant


def login(client: TestClient, services: Services) -> dict[str, str]:
    return token_for(client, make_tenant(services, "Acme").user.email)


def chunk_key(client: TestClient, auth: dict[str, str]) -> bytes:
    return base64.b64decode(client.get("/api/v1/chunking", headers=auth).json()["chunk_id_key"])


def batch_body(pieces: list[tuple[str, bytes]]) -> bytes:
    return b"".join(bytes.fromhex(i) + len(p).to_bytes(4, "big") + p for i, p in pieces)


def test_the_change_feed_pages_through_the_journal(client: TestClient, services: Services) -> None:
    auth = login(client, services)
    for n in range(5):
        client.post("/api/v1/spaces/me/folders", json={"path": f"/f{n}"}, headers=auth)
    client.post("/api/v1/spaces/me/move", json={"source": "/f0", "target": "/g0"}, headers=auth)
    first = client.get(
        "/api/v1/spaces/me/changes", params={"cursor": 0, "limit": 4}, headers=auth
    ).json()
    assert [c["seq"] for c in first["changes"]] == [1, 2, 3, 4] and first["more"]
    rest = client.get(
        "/api/v1/spaces/me/changes", params={"cursor": first["cursor"]}, headers=auth
    ).json()
    assert [(c["operation"], c["path"], c["old_path"]) for c in rest["changes"]] == [
        ("create", "/f4", None),
        ("move", "/g0", "/f0"),
    ]
    assert not rest["more"] and rest["cursor"] == 6
    ahead = client.get("/api/v1/spaces/me/changes", params={"cursor": 99}, headers=auth)
    assert ahead.status_code == 409 and "list the space afresh" in ahead.json()["message"]


def test_after_a_restore_cursors_from_the_lost_history_are_refused(
    client: TestClient, services: Services
) -> None:
    """`restart_journals` (run by every restore): the backup held seq 1..2, clients had seen up
    to 4; those cursors, and any the restored server could hand out again, are refused (409), and
    the fresh listing's cursor goes on from there."""
    auth = login(client, services)
    for n in range(2):
        client.post("/api/v1/spaces/me/folders", json={"path": f"/kept{n}"}, headers=auth)
    assert restart_journals(services.database) >= 1
    for stale in (0, 1, 2, 4):
        refused = client.get("/api/v1/spaces/me/changes", params={"cursor": stale}, headers=auth)
        assert refused.status_code == 409, stale
    listing = client.get("/api/v1/spaces/me/snapshot", headers=auth).json()
    assert {n["path"] for n in listing["nodes"]} >= {"/kept0", "/kept1"}
    cursor = listing["cursor"]
    client.post("/api/v1/spaces/me/folders", json={"path": "/after"}, headers=auth)
    feed = client.get("/api/v1/spaces/me/changes", params={"cursor": cursor}, headers=auth).json()
    assert [(c["seq"], c["path"]) for c in feed["changes"]] == [(cursor + 1, "/after")]
    waited = client.get("/api/v1/spaces/me/changes", params={"cursor": 1, "wait": 5}, headers=auth)
    assert waited.status_code == 409  # a long poll too: at once, not after the wait


def test_a_long_poll_answers_with_the_change_that_arrives(
    client: TestClient, services: Services
) -> None:
    auth = login(client, services)
    quiet = client.get("/api/v1/spaces/me/changes", params={"cursor": 0, "wait": 0.2}, headers=auth)
    assert quiet.json() == {"changes": [], "cursor": 0, "more": False}
    answers: list[dict[str, object]] = []

    def poll() -> None:
        answers.append(
            client.get(
                "/api/v1/spaces/me/changes", params={"cursor": 0, "wait": 30}, headers=auth
            ).json()
        )

    waiter = threading.Thread(target=poll)
    waiter.start()
    client.post("/api/v1/spaces/me/folders", json={"path": "/new"}, headers=auth)
    waiter.join(timeout=60)
    assert not waiter.is_alive()
    assert [c["path"] for c in answers[0]["changes"]] == ["/new"]  # type: ignore[index]


def test_a_long_poll_is_answered_401_when_its_device_is_revoked_meanwhile(
    client: TestClient, services: Services
) -> None:
    auth = login(client, services)
    answers: list[tuple[int, dict[str, object]]] = []

    def poll() -> None:
        answer = client.get(
            "/api/v1/spaces/me/changes", params={"cursor": 0, "wait": 60}, headers=auth
        )
        answers.append((answer.status_code, answer.json()))

    waiter = threading.Thread(target=poll)
    waiter.start()
    assert client.post("/api/v1/auth/logout", headers=auth).status_code == 204
    # Nothing changes in the space: only the recheck of the token ends the wait.
    waiter.join(timeout=50)
    assert not waiter.is_alive()
    status, body = answers[0]
    assert status == 401 and body["code"] == "not_authenticated"


def test_many_small_chunks_and_commits_in_two_requests(
    client: TestClient, services: Services
) -> None:
    auth = login(client, services)
    key = chunk_key(client, auth)
    files = {f"/small/{n:03}.txt": f"file number {n}\n".encode() * 20 for n in range(50)}
    client.post("/api/v1/spaces/me/folders", json={"path": "/small"}, headers=auth)
    pieces = [(chunk_id(key, data), data) for data in files.values()]
    stored = client.post("/api/v1/chunks/batch", content=batch_body(pieces), headers=auth)
    assert stored.status_code == 200 and stored.json() == {"stored": 50}
    commits = [
        {
            "path": path,
            "manifest": [{"chunk_id": chunk_id(key, data), "size": len(data)}],
            "modified_at": "2026-11-20T10:00:00Z",
        }
        for path, data in files.items()
    ]
    committed = client.post(
        "/api/v1/spaces/me/commit-batch", json={"commits": commits}, headers=auth
    )
    assert committed.status_code == 200
    assert all(r["node"] and r["error"] is None for r in committed.json()["results"])
    back = client.get("/api/v1/spaces/me/content", params={"path": "/small/007.txt"}, headers=auth)
    assert back.content == files["/small/007.txt"]


def test_each_commit_in_a_batch_stands_or_falls_alone(
    client: TestClient, services: Services
) -> None:
    auth = login(client, services)
    key = chunk_key(client, auth)
    data = b"shared body"
    client.post(
        "/api/v1/chunks/batch", content=batch_body([(chunk_id(key, data), data)]), headers=auth
    )
    entry = {
        "manifest": [{"chunk_id": chunk_id(key, data), "size": len(data)}],
        "modified_at": "2026-11-20T10:00:00Z",
    }
    client.post(
        "/api/v1/spaces/me/commit-batch", json={"commits": [{"path": "/a", **entry}]}, headers=auth
    )
    results = client.post(
        "/api/v1/spaces/me/commit-batch",
        json={
            "commits": [
                {"path": "/a", **entry},  # stale: /a exists at version 1
                {"path": "/b", **entry},
                {
                    "path": "/c",
                    "manifest": [{"chunk_id": "e" * 64, "size": 1}],
                    "modified_at": "2026-11-20T10:00:00Z",
                },
                {"path": "/a", "base_version": 1, **entry},
            ]
        },
        headers=auth,
    ).json()["results"]
    assert [r["error"]["code"] if r["error"] else r["node"]["version"] for r in results] == [
        "conflict",
        1,
        "invalid_input",
        2,
    ]
    feed = client.get("/api/v1/spaces/me/changes", params={"cursor": 0}, headers=auth).json()
    assert [(c["seq"], c["path"], c["operation"]) for c in feed["changes"]] == [
        (1, "/a", "create"),
        (2, "/b", "create"),
        (3, "/a", "update"),
    ]


def test_a_batch_with_one_forged_chunk_stores_nothing(
    client: TestClient, services: Services
) -> None:
    auth = login(client, services)
    key = chunk_key(client, auth)
    good = (chunk_id(key, b"good"), b"good")
    forged = (chunk_id(key, b"claimed"), b"actual")
    answer = client.post("/api/v1/chunks/batch", content=batch_body([good, forged]), headers=auth)
    assert answer.status_code == 422
    truncated = client.post("/api/v1/chunks/batch", content=batch_body([good])[:-1], headers=auth)
    assert truncated.status_code == 422 and "ends inside a chunk" in truncated.json()["message"]
    with services.database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Chunk)) == 0


def test_snapshot_manifest_and_chunk_fetch(client: TestClient, services: Services) -> None:
    auth = login(client, services)
    key = chunk_key(client, auth)
    client.post("/api/v1/spaces/me/folders", json={"path": "/A"}, headers=auth)
    client.post("/api/v1/spaces/me/folders", json={"path": "/A/B"}, headers=auth)
    client.put(
        "/api/v1/spaces/me/content",
        params={"path": "/A/B/x.txt"},
        content=b"x" * 5000,
        headers=auth,
    )
    client.put(
        "/api/v1/spaces/me/content", params={"path": "/gone.txt"}, content=b"g", headers=auth
    )
    client.post("/api/v1/spaces/me/folders", json={"path": "/Old"}, headers=auth)
    client.put(
        "/api/v1/spaces/me/content", params={"path": "/Old/inside.txt"}, content=b"i", headers=auth
    )
    client.delete("/api/v1/spaces/me/node", params={"path": "/Old"}, headers=auth)
    snapshot = client.get("/api/v1/spaces/me/snapshot", headers=auth).json()
    assert [(n["path"], n["kind"]) for n in snapshot["nodes"]] == [
        ("/A", "folder"),
        ("/A/B", "folder"),
        ("/A/B/x.txt", "file"),
        ("/gone.txt", "file"),
    ]
    assert snapshot["cursor"] == 7
    manifest = client.get(
        "/api/v1/spaces/me/manifest", params={"path": "/A/B/x.txt"}, headers=auth
    ).json()
    assert manifest["version"] == 1 and sum(c["size"] for c in manifest["chunks"]) == 5000
    ids = [c["chunk_id"] for c in manifest["chunks"]]
    assert ids == [chunk_id(key, b"x" * 5000)]
    fetched = client.post("/api/v1/chunks/fetch", json={"chunk_ids": ids}, headers=auth).content
    assert fetched[:32].hex() == ids[0] and fetched[36:] == b"x" * 5000
    unknown = client.post("/api/v1/chunks/fetch", json={"chunk_ids": ["0" * 64]}, headers=auth)
    assert unknown.status_code == 404


def test_a_version_over_4_gib_keeps_its_size_and_serves_ranges_past_32_bits(
    client: TestClient, services: Services
) -> None:
    auth = login(client, services)
    key = chunk_key(client, auth)
    block = bytes(96 * 1024)
    block_id = chunk_id(key, block)
    client.post("/api/v1/chunks/batch", content=batch_body([(block_id, block)]), headers=auth)
    count = 44_000  # 4.33 GB of one repeated chunk, as a sparse disk image is cut
    commit = {
        "path": "/disk.img",
        "manifest": [{"chunk_id": block_id, "size": len(block)}] * count,
        "modified_at": "2026-11-20T10:00:00Z",
    }
    committed = client.post(
        "/api/v1/spaces/me/commit-batch", json={"commits": [commit]}, headers=auth
    )
    assert committed.status_code == 200, committed.text
    size = count * len(block)
    assert size > 2**32 and committed.json()["results"][0]["node"]["size"] == size
    listed = client.get("/api/v1/spaces/me/snapshot", headers=auth).json()["nodes"]
    assert [(n["path"], n["size"]) for n in listed] == [("/disk.img", size)]
    tail = client.get(
        "/api/v1/spaces/me/content",
        params={"path": "/disk.img"},
        headers={**auth, "Range": f"bytes={2**32 + 5}-{2**32 + 14}"},
    )
    assert tail.status_code == 206
    assert tail.headers["content-range"] == f"bytes {2**32 + 5}-{2**32 + 14}/{size}"
    assert tail.content == bytes(10)


def test_many_folders_in_one_call_each_standing_alone(
    client: TestClient, services: Services
) -> None:
    auth = login(client, services)
    client.put("/api/v1/spaces/me/content", params={"path": "/notes"}, content=b"n", headers=auth)
    client.post("/api/v1/spaces/me/folders", json={"path": "/Old"}, headers=auth)
    before = client.get("/api/v1/spaces/me/changes", headers=auth).json()["cursor"]
    paths = ["/A/B/C", "/A", "/A/B", "/Old", "/notes", "/bad\nname", "/Missing/child", "/a/b"]

    answer = client.post("/api/v1/spaces/me/folders/batch", json={"paths": paths}, headers=auth)

    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [r["path"] for r in results] == paths  # in the order asked
    made = {r["path"]: r["node"]["path"] for r in results if r["node"]}
    # Names differing only in case are the same folder: '/a/b' is the '/A/B' just made.
    assert made == {"/A/B/C": "/A/B/C", "/A": "/A", "/A/B": "/A/B", "/Old": "/Old", "/a/b": "/A/B"}
    errors = {r["path"]: r["error"]["code"] for r in results if r["error"]}
    assert errors == {
        "/notes": "conflict",
        "/bad\nname": "invalid_input",
        "/Missing/child": "not_found",
    }
    after = client.get("/api/v1/spaces/me/changes", params={"cursor": before}, headers=auth).json()
    assert [c["path"] for c in after["changes"]] == ["/A", "/A/B", "/A/B/C"]  # /Old existed


def test_a_folder_batch_is_bounded_and_scoped_to_the_callers_spaces(
    client: TestClient, services: Services
) -> None:
    auth = login(client, services)
    too_many = [f"/f{n}" for n in range(1001)]
    refused = client.post("/api/v1/spaces/me/folders/batch", json={"paths": too_many}, headers=auth)
    assert refused.status_code == 422
    other = token_for(client, make_tenant(services, "Other").user.email)
    their_space = client.get("/api/v1/spaces", headers=other).json()[0]["id"]
    foreign = client.post(
        f"/api/v1/spaces/{their_space}/folders/batch", json={"paths": ["/x"]}, headers=auth
    )
    assert foreign.status_code == 404
    assert client.get("/api/v1/spaces/me/children", headers=other).json() == []


def test_many_manifests_in_one_call_by_node_and_version(
    client: TestClient, services: Services
) -> None:
    auth = login(client, services)
    key = chunk_key(client, auth)
    content = "/api/v1/spaces/me/content"
    first = client.put(content, params={"path": "/a.txt"}, content=b"one", headers=auth).json()
    client.put(content, params={"path": "/a.txt", "base_version": 1}, content=b"two", headers=auth)
    folder = client.post("/api/v1/spaces/me/folders", json={"path": "/F"}, headers=auth).json()
    other = token_for(client, make_tenant(services, "Other").user.email)
    theirs = client.put(
        "/api/v1/spaces/me/content", params={"path": "/t.txt"}, content=b"t", headers=other
    ).json()
    files = [
        {"node_id": first["id"]},
        {"node_id": first["id"], "version": 1},
        {"node_id": first["id"], "version": 9},
        {"node_id": folder["id"]},
        {"node_id": theirs["id"]},  # another organisation's file: not found, nothing leaked
    ]

    answer = client.post("/api/v1/spaces/me/manifests", json={"files": files}, headers=auth)

    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [(r["version"], r["size"]) for r in results[:2]] == [(2, 3), (1, 3)]
    assert results[0]["chunks"] == [{"chunk_id": chunk_id(key, b"two"), "size": 3}]
    assert results[1]["chunks"] == [{"chunk_id": chunk_id(key, b"one"), "size": 3}]
    assert [r["error"]["code"] for r in results[2:]] == ["not_found"] * 3
    assert all(r["chunks"] == [] for r in results[2:])
    too_many = [{"node_id": first["id"]}] * 5001
    refused = client.post("/api/v1/spaces/me/manifests", json={"files": too_many}, headers=auth)
    assert refused.status_code == 422


def test_a_chunk_id_is_no_right_to_a_colleagues_chunk(
    client: TestClient, services: Services
) -> None:
    """Member B (here an organisation admin) computes the id of member A's private content:
    every answer is the one an id nobody stored gets, until B sends those bytes himself."""
    acme = make_tenant(services, "Acme")
    a, b = token_for(client, acme.user.email), token_for(client, acme.admin.email)
    door = b"door code of the server room: 4711\n"
    client.put("/api/v1/spaces/me/content", params={"path": "/door.txt"}, content=door, headers=a)
    key = chunk_key(client, b)
    guessed, unknown = chunk_id(key, door), chunk_id(key, b"content nobody stored")

    missing = client.post("/api/v1/chunks/missing", json={"chunk_ids": [guessed]}, headers=b)
    assert missing.json() == {"missing": [guessed]}
    for ask in (
        lambda i: client.get(f"/api/v1/chunks/{i}", headers=b),
        lambda i: client.post("/api/v1/chunks/fetch", json={"chunk_ids": [i]}, headers=b),
        lambda i: client.post(
            "/api/v1/spaces/me/commit",
            json={
                "path": "/mine.txt",
                "manifest": [{"chunk_id": i, "size": len(door)}],
                "modified_at": "2026-11-20T10:00:00Z",
            },
            headers=b,
        ),
    ):
        refused, nobody = ask(guessed), ask(unknown)
        assert refused.status_code == nobody.status_code in (404, 422)
        assert refused.json() == nobody.json()
    batch = client.post(
        "/api/v1/spaces/me/commit-batch",
        json={
            "commits": [
                {
                    "path": "/mine.txt",
                    "manifest": [{"chunk_id": guessed, "size": len(door)}],
                    "modified_at": "2026-11-20T10:00:00Z",
                }
            ]
        },
        headers=b,
    )
    assert batch.json()["results"][0]["error"]["code"] == "invalid_input"
    assert client.get("/api/v1/spaces/me/changes", headers=b).json()["changes"] == []

    with services.database.transaction() as session:
        rows = session.scalar(select(func.count()).select_from(Chunk))
    packs = len(list(services.chunk_store.pack_ids()))
    sent = client.post("/api/v1/chunks/batch", content=batch_body([(guessed, door)]), headers=b)
    assert sent.json() == {"stored": 0}  # checked against its id, not stored twice
    with services.database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Chunk)) == rows
    assert len(list(services.chunk_store.pack_ids())) == packs
    assert client.post(
        "/api/v1/chunks/missing", json={"chunk_ids": [guessed]}, headers=b
    ).json() == {"missing": []}
    committed = client.post(
        "/api/v1/spaces/me/commit",
        json={
            "path": "/mine.txt",
            "manifest": [{"chunk_id": guessed, "size": len(door)}],
            "modified_at": "2026-11-20T10:00:00Z",
        },
        headers=b,
    )
    assert committed.status_code == 200, committed.text
    assert client.get(f"/api/v1/chunks/{guessed}", headers=b).content == door
    assert client.get(f"/api/v1/chunks/{guessed}", headers=a).content == door

    outsider = token_for(client, make_tenant(services, "Globex").user.email)
    assert client.get(f"/api/v1/chunks/{guessed}", headers=outsider).status_code == 404
    assert client.post(
        "/api/v1/chunks/missing", json={"chunk_ids": [guessed]}, headers=outsider
    ).json() == {"missing": [guessed]}


def test_fetched_chunks_are_streamed_not_gathered(client: TestClient, services: Services) -> None:
    auth = login(client, services)
    key = chunk_key(client, auth)
    pieces = [bytes([n]) * 9_000 for n in range(5)]
    for n, piece in enumerate(pieces):
        client.put(
            "/api/v1/spaces/me/content", params={"path": f"/{n}.bin"}, content=piece, headers=auth
        )
    ids = [chunk_id(key, piece) for piece in pieces]
    with client.stream(
        "POST", "/api/v1/chunks/fetch", json={"chunk_ids": ids}, headers=auth
    ) as answer:
        assert answer.status_code == 200
        body = answer.read()
    framed = b"".join(
        bytes.fromhex(i) + (9_000).to_bytes(4, "big") + p for i, p in zip(ids, pieces, strict=True)
    )
    assert body == framed
    # Its length said up front (the blocks go to the socket unframed by HTTP chunking).
    assert answer.headers["content-length"] == str(len(framed))
    refused = client.post(
        "/api/v1/chunks/fetch", json={"chunk_ids": [*ids, "0" * 64]}, headers=auth
    )
    assert refused.status_code == 404 and refused.json()["message"] == "No such chunk."
