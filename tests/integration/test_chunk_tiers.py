"""Big files are cut in bigger chunks (`ChunkSizes`): `/chunking` lists the tiers, the server
cuts a body by the size its door was told (Content-Length; a Nextcloud upload's total length),
and a client cutting by that answer names the same chunks, so a file put over WebDAV and synced
later shares its chunks. Tiers here start at 64 KiB, so the files stay small."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.client.api import Chunking
from sfs.client.sync.engine import SyncEngine
from sfs.client.sync.remote import SyncApi
from sfs.protocol.chunk_ids import chunk_id
from sfs.protocol.chunking import ChunkParams, ChunkSizes, ChunkTier, iter_chunks
from tests.dav import DavUser, dav_user
from tests.integration.test_api_http import token_for
from tests.world import Tenant, actor, make_tenant

SMALL = ChunkParams(min_size=1024, avg_size=1024, max_size=4096)
LARGE = ChunkParams(min_size=8192, avg_size=8192, max_size=32768)
TIERS = ChunkSizes((ChunkTier(0, SMALL), ChunkTier(64 * 1024, LARGE)))


@pytest.fixture(autouse=True)
def tiered(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services.chunk_store, "sizes", TIERS)


@pytest.fixture
def acme(services: Services) -> Tenant:
    return make_tenant(services, "Acme")


@pytest.fixture
def alice(services: Services, acme: Tenant) -> DavUser:
    return dav_user(services, acme.user)


def chunking(client: TestClient, acme: Tenant) -> dict[str, object]:
    answer = client.get("/api/v1/chunking", headers=token_for(client, acme.user.email))
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def stored_ids(services: Services, acme: Tenant, path: str) -> list[str]:
    me = actor(services, acme.user)
    space_id = services.spaces.my_files(me).id
    _, _, entries = services.file_versions.manifest(me, space_id=space_id, path=path)
    return [entry.chunk_id for entry in entries]


def client_chunking(client: TestClient, acme: Tenant) -> Chunking:
    """The `/chunking` answer as the sync client reads it."""
    token = token_for(client, acme.user.email)["Authorization"].removeprefix("Bearer ")
    with SyncApi(str(client.base_url), token=token, transport=client._transport) as api:
        return api.chunking()


def cut_as_a_client(told: Chunking, data: bytes) -> list[str]:
    """The ids a sync client told `told` gives `data`'s chunks, cutting it as a whole file."""
    params = told.sizes.for_size(len(data))
    return [chunk_id(told.chunk_id_key, p) for p in iter_chunks([data], params, seed=told.seed)]


def test_chunking_lists_the_tiers_and_keeps_the_first_for_older_clients(
    client: TestClient, acme: Tenant
) -> None:
    answer = chunking(client, acme)
    assert answer["tiers"] == [
        {"from_size": 0, "min_size": 1024, "avg_size": 1024, "max_size": 4096},
        {"from_size": 65536, "min_size": 8192, "avg_size": 8192, "max_size": 32768},
    ]
    assert (answer["min_size"], answer["avg_size"], answer["max_size"]) == (1024, 1024, 4096)


@pytest.mark.parametrize("size", [20_000, 64 * 1024, 300_000])
def test_a_webdav_put_is_cut_as_a_client_cuts_a_file_of_its_size(
    client: TestClient, services: Services, acme: Tenant, alice: DavUser, size: int
) -> None:
    data = os.urandom(size)
    put = client.put(f"{alice.root}/clip.bin", content=data, headers=alice.headers)
    assert put.status_code == 201, put.text
    stored = stored_ids(services, acme, "/clip.bin")
    assert stored == cut_as_a_client(client_chunking(client, acme), data)
    # Above the tier the chunks really are the large ones (a mean near 16 KiB, not 2 KiB).
    assert (len(stored) < size // 8192) == (size >= 64 * 1024)


def test_a_body_of_unknown_length_is_cut_as_the_smallest_files_are(
    client: TestClient, services: Services, acme: Tenant, alice: DavUser
) -> None:
    data = os.urandom(300_000)
    blocks = (data[start : start + 50_000] for start in range(0, len(data), 50_000))
    put = client.put(f"{alice.root}/stream.bin", content=blocks, headers=alice.headers)
    assert put.status_code == 201, put.text
    told = client_chunking(client, acme)
    expected = [chunk_id(told.chunk_id_key, p) for p in iter_chunks([data], SMALL, seed=told.seed)]
    assert stored_ids(services, acme, "/stream.bin") == expected


def test_a_sync_client_may_send_chunks_as_big_as_the_largest_tier_and_no_bigger(
    client: TestClient, acme: Tenant
) -> None:
    auth = token_for(client, acme.user.email)
    key = client_chunking(client, acme).chunk_id_key
    for size, status in ((LARGE.max_size, 200), (LARGE.max_size + 1, 422)):
        piece = os.urandom(size)
        body = bytes.fromhex(chunk_id(key, piece)) + size.to_bytes(4, "big") + piece
        sent = client.post("/api/v1/chunks/batch", content=body, headers=auth)
        assert sent.status_code == status, sent.text
    assert "at most 32768 bytes" in sent.json()["message"]


def test_a_file_synced_and_the_same_put_over_webdav_share_their_chunks(
    client: TestClient, services: Services, acme: Tenant, alice: DavUser, tmp_path: Path
) -> None:
    """The sync client cuts by the tiers it was told: the server's cut of the same bytes (a
    WebDAV PUT) names the same chunks, so the second upload stores nothing new."""
    data = os.urandom(300_000)
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "synced.bin").write_bytes(data)
    token = token_for(client, acme.user.email)["Authorization"].removeprefix("Bearer ")
    with SyncApi(str(client.base_url), token=token, transport=client._transport) as api:
        api.use_space(None)
        engine = SyncEngine(folder, api, device="laptop")
        try:
            engine.sync_once()
        finally:
            engine.close()
    synced = stored_ids(services, acme, "/synced.bin")
    assert synced == cut_as_a_client(client_chunking(client, acme), data)
    assert len(synced) < len(data) // 8192  # the large tier's chunks
    packs = set(services.chunk_store.pack_ids())
    put = client.put(f"{alice.root}/put.bin", content=data, headers=alice.headers)
    assert put.status_code == 201, put.text
    assert stored_ids(services, acme, "/put.bin") == synced
    assert set(services.chunk_store.pack_ids()) == packs  # nothing stored twice
