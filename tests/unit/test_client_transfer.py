"""`sfs.client.transfer` against an in-memory fake of the chunk API (`httpx.MockTransport`): the
calls `sfs sync` makes (chunk batches, manifests, chunk fetches), which `sfs put`/`get` share."""

from __future__ import annotations

import base64
import io
import json
import os
import random
import stat
import threading
import uuid
from pathlib import Path

import httpx
import pytest

from sfs.client import credentials
from sfs.client.api import ApiError
from sfs.client.credentials import Credentials
from sfs.client.sync.remote import SyncApi
from sfs.client.transfer import RemoteChanged, TransferError, download_file, upload_file
from sfs.protocol.chunk_frames import LENGTH_BYTES, FrameReader
from sfs.protocol.chunk_ids import chunk_id
from sfs.protocol.chunking import CHUNK_PARAMS, iter_chunks

KEY = bytes(range(32))
SEED = 1234


class FakeServer:
    """Just enough of the API for transfers: chunks, commits, files' manifests."""

    def __init__(self) -> None:
        self.chunks: dict[str, bytes] = {}
        self.files: dict[str, tuple[int, bytes]] = {}
        self.chunk_puts = 0  # chunks received in batches
        self.missing_asked = 0  # chunk ids asked about
        self.requests: list[str] = []  # the route of every call, in order
        self.drop_from_fetch: str | None = None  # a chunk id the fetch answer leaves out
        self.fail_download_after: int | None = None
        self.quota_left: int | None = None
        self.batch_max_bytes: int | None = None  # what /chunking says (nothing: an older server)
        self.batch_sizes: list[int] = []  # the body of every chunk batch, in bytes
        self.lock = threading.Lock()  # chunk PUTs arrive from several threads

    def node(self, path: str) -> dict[str, object]:
        version, content = self.files[path]
        return {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, path)),
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "kind": "file",
            "size": len(content),
            "modified_at": "2026-11-25T09:00:00+00:00",
            "version": version,
            "etag": "e",
        }

    def __call__(self, request: httpx.Request) -> httpx.Response:
        route = request.url.path.removeprefix("/api/v1")
        path = request.url.params.get("path", "")
        self.requests.append(route)
        if route == "/chunking":
            return httpx.Response(
                200,
                json={
                    "min_size": CHUNK_PARAMS.min_size,
                    "avg_size": CHUNK_PARAMS.avg_size,
                    "max_size": CHUNK_PARAMS.max_size,
                    "chunk_id_key": base64.b64encode(KEY).decode(),
                    "seed": SEED,
                }
                | (
                    {}
                    if self.batch_max_bytes is None
                    else {"batch_max_bytes": self.batch_max_bytes}
                ),
            )
        if route == "/spaces/me/node":
            if path not in self.files:
                return httpx.Response(404, json={"code": "not_found", "message": "No such file."})
            return httpx.Response(200, json=self.node(path))
        if route == "/chunks/missing":
            ids = json.loads(request.content)["chunk_ids"]
            self.missing_asked += len(ids)
            return httpx.Response(200, json={"missing": [i for i in ids if i not in self.chunks]})
        if route == "/chunks/batch":
            reader = FrameReader()
            self.batch_sizes.append(len(request.read()))
            received = reader.feed(request.read())
            reader.finish()
            with self.lock:  # batches arrive from the sender's thread
                for claimed, data in received:
                    assert chunk_id(KEY, data) == claimed
                    if self.quota_left is not None:
                        if self.quota_left < len(data):
                            return httpx.Response(
                                507, json={"code": "quota_exceeded", "message": "Quota exceeded."}
                            )
                        self.quota_left -= len(data)
                    self.chunks[claimed] = data
                    self.chunk_puts += 1
            return httpx.Response(200, json={"stored": len(received)})
        if route == "/spaces/me/commit":
            body = json.loads(request.content)
            current = self.files.get(body["path"])
            if (current[0] if current else None) != body["base_version"]:
                return httpx.Response(409, json={"code": "conflict", "message": "Changed."})
            content = b"".join(self.chunks[e["chunk_id"]] for e in body["manifest"])
            self.files[body["path"]] = ((current[0] if current else 0) + 1, content)
            return httpx.Response(200, json=self.node(body["path"]))
        if route == "/spaces/me/manifests":
            return httpx.Response(
                200,
                json={"results": [self.manifest(f) for f in json.loads(request.content)["files"]]},
            )
        if route == "/chunks/fetch":
            ids = [i for i in json.loads(request.content)["chunk_ids"] if i != self.drop_from_fetch]
            body = b"".join(
                bytes.fromhex(i)
                + len(self.chunks[i]).to_bytes(LENGTH_BYTES, "big")
                + self.chunks[i]
                for i in ids
            )
            if self.fail_download_after is not None:
                return httpx.Response(200, stream=BrokenStream(body, self.fail_download_after))
            return httpx.Response(200, content=body)
        raise AssertionError(f"unexpected {request.method} {request.url}")

    def manifest(self, wanted: dict[str, object]) -> dict[str, object]:
        path = next(p for p in self.files if self.node(p)["id"] == wanted["node_id"])
        version, content = self.files[path]
        if wanted["version"] not in (None, version):
            return {"node_id": wanted["node_id"], "error": {"code": "not_found", "message": "No."}}
        chunks = []
        for data in iter_chunks(io.BytesIO(content), CHUNK_PARAMS, seed=SEED):
            self.chunks[chunk_id(KEY, data)] = data
            chunks.append({"chunk_id": chunk_id(KEY, data), "size": len(data)})
        return {
            "node_id": wanted["node_id"],
            "version": version,
            "size": len(content),
            "modified_at": "2026-11-25T09:00:00+00:00",
            "content_digest": "e",
            "chunks": chunks,
        }


class BrokenStream(httpx.SyncByteStream):
    def __init__(self, content: bytes, after: int) -> None:
        self.content, self.after = content, after

    def __iter__(self):  # type: ignore[no-untyped-def]
        yield self.content[: self.after]
        raise httpx.ReadError("connection reset")


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def api(server: FakeServer) -> SyncApi:
    return SyncApi("http://sfs.test", token="t", transport=httpx.MockTransport(server))


def random_bytes(size: int, seed: int = 7) -> bytearray:
    return bytearray(random.Random(seed).randbytes(size))


def test_an_upload_sends_each_missing_chunk_once_and_commits(
    api: SyncApi, server: FakeServer, tmp_path: Path
) -> None:
    local = tmp_path / "a.bin"
    content = random_bytes(600_000)
    local.write_bytes(content * 2)  # the second half repeats the first: its chunks dedup

    result = upload_file(api, local, "/a.bin", device_name="laptop")

    assert server.files["/a.bin"] == (1, bytes(content * 2))
    assert result.node.version == 1
    assert result.bytes_sent < len(content) * 2
    assert server.chunk_puts == result.chunks_sent == len(server.chunks)


def test_a_changed_file_sends_only_the_chunks_around_the_edit(
    api: SyncApi, server: FakeServer, tmp_path: Path
) -> None:
    local = tmp_path / "a.bin"
    content = random_bytes(3_000_000)
    local.write_bytes(content)
    upload_file(api, local, "/a.bin")

    content[1_500_000:1_504_096] = random_bytes(4096, seed=8)
    local.write_bytes(content)
    second = upload_file(api, local, "/a.bin")

    assert second.node.version == 2
    assert 0 < second.bytes_sent <= 3 * CHUNK_PARAMS.max_size
    assert server.files["/a.bin"][1] == bytes(content)


def test_a_put_of_an_unchanged_file_sends_no_chunk_bytes(
    api: SyncApi, server: FakeServer, tmp_path: Path
) -> None:
    local = tmp_path / "a.bin"
    local.write_bytes(random_bytes(2_000_000))
    upload_file(api, local, "/a.bin")
    stored = server.chunk_puts

    again = upload_file(api, local, "/a.bin")

    assert (again.chunks_sent, again.bytes_sent) == (0, 0)
    assert server.chunk_puts == stored
    assert again.node.version == 2 and server.files["/a.bin"][1] == local.read_bytes()


def test_a_put_cut_short_and_tried_again_sends_only_what_the_server_lacks(
    api: SyncApi, server: FakeServer, tmp_path: Path
) -> None:
    local = tmp_path / "a.bin"
    content = bytes(random_bytes(3_000_000))
    local.write_bytes(content)
    # The first try stored the chunks of the file's first half, then died before its commit.
    pieces = list(iter_chunks(io.BytesIO(content), CHUNK_PARAMS, seed=SEED))
    held = pieces[: len(pieces) // 2]
    server.chunks.update((chunk_id(KEY, data), data) for data in held)

    result = upload_file(api, local, "/a.bin")

    assert result.bytes_sent == len(content) - sum(len(d) for d in held)
    assert result.chunks_sent == len(pieces) - len(held)
    assert server.files["/a.bin"] == (1, content)


def test_a_put_sends_chunks_in_batches_as_sync_does(
    api: SyncApi, server: FakeServer, tmp_path: Path
) -> None:
    local = tmp_path / "a.bin"
    local.write_bytes(random_bytes(8_000_000))  # about 300 chunks

    result = upload_file(api, local, "/a.bin")

    batches = server.requests.count("/chunks/batch")
    assert result.chunks_sent > 100
    assert 1 <= batches <= 3  # a batch carries up to 6 MiB, not one chunk
    assert server.requests.count("/chunks/missing") == batches
    assert server.requests[-1] == "/spaces/me/commit"


@pytest.mark.parametrize("server_max", [None, 24 * 1024 * 1024])
def test_chunk_batches_are_as_big_as_the_server_says_it_takes(
    api: SyncApi, server: FakeServer, tmp_path: Path, server_max: int | None
) -> None:
    server.batch_max_bytes = server_max
    local = tmp_path / "a.bin"
    content = random_bytes(40_000_000)
    local.write_bytes(content)

    upload_file(api, local, "/a.bin")

    # A server that does not say takes 8 MiB (those before `batch_max_bytes`): 6 MiB batches.
    old = 8 * 1024 * 1024
    largest = max(server.batch_sizes)
    if server_max is None:
        assert old - 3 * 1024 * 1024 < largest <= old
    else:  # fewer, bigger batches: each costs the server a pack and a transaction
        assert old < largest <= server_max
    assert server.files["/a.bin"] == (1, content)


def test_a_stale_base_version_is_a_conflict(
    api: SyncApi, server: FakeServer, tmp_path: Path
) -> None:
    local = tmp_path / "a.bin"
    local.write_bytes(b"mine")
    server.files["/a.bin"] = (4, b"theirs")
    original_node = server.node

    def node_with_old_version(path: str) -> dict[str, object]:
        return {**original_node(path), "version": 3}

    answers = iter([node_with_old_version, original_node])
    server.node = lambda path: next(answers)(path)  # type: ignore[method-assign]
    with pytest.raises(RemoteChanged, match=r"changed on the server .*now version 4"):
        upload_file(api, local, "/a.bin")
    assert server.files["/a.bin"] == (4, b"theirs")


def test_a_refused_chunk_stops_the_upload_before_the_commit(
    api: SyncApi, server: FakeServer, tmp_path: Path
) -> None:
    local = tmp_path / "a.bin"
    local.write_bytes(random_bytes(2_000_000))
    server.quota_left = 500_000
    with pytest.raises(ApiError) as caught:
        upload_file(api, local, "/a.bin")
    assert (caught.value.status, caught.value.message) == (507, "Quota exceeded.")
    assert server.files == {}


def test_an_empty_file_commits_an_empty_manifest(
    api: SyncApi, server: FakeServer, tmp_path: Path
) -> None:
    (tmp_path / "empty").write_bytes(b"")
    result = upload_file(api, tmp_path / "empty", "/empty")
    assert (result.chunks, result.bytes_sent) == (0, 0)
    assert server.files["/empty"] == (1, b"")


def test_a_download_lands_whole_with_the_remote_time(
    api: SyncApi, server: FakeServer, tmp_path: Path
) -> None:
    server.files["/a.bin"] = (1, bytes(random_bytes(200_000)))
    target = tmp_path / "a.bin"
    download_file(api, "/a.bin", target)
    assert target.read_bytes() == server.files["/a.bin"][1]
    assert target.stat().st_mtime == 1795597200.0  # 2026-11-25T09:00:00Z
    assert os.listdir(tmp_path) == ["a.bin"]


def test_an_interrupted_download_leaves_the_old_file_and_no_part(
    api: SyncApi, server: FakeServer, tmp_path: Path
) -> None:
    server.files["/a.bin"] = (1, bytes(random_bytes(200_000)))
    server.fail_download_after = 1000
    target = tmp_path / "a.bin"
    target.write_bytes(b"the old content")

    with pytest.raises(ApiError) as caught:
        download_file(api, "/a.bin", target)

    assert caught.value.unreachable
    assert target.read_bytes() == b"the old content"
    assert os.listdir(tmp_path) == ["a.bin"]


def test_a_download_fetches_chunks_in_batches(
    api: SyncApi, server: FakeServer, tmp_path: Path
) -> None:
    server.files["/a.bin"] = (1, bytes(random_bytes(12_000_000)))
    result = download_file(api, "/a.bin", tmp_path / "a.bin")
    assert (tmp_path / "a.bin").read_bytes() == server.files["/a.bin"][1]
    assert result.size == 12_000_000
    assert 3 <= server.requests.count("/chunks/fetch") <= 6  # about 4 MiB a batch


def test_a_version_the_file_does_not_have_is_refused_before_any_byte(
    api: SyncApi, server: FakeServer, tmp_path: Path
) -> None:
    server.files["/a.bin"] = (2, b"two")
    with pytest.raises(TransferError, match="has no version 7"):
        download_file(api, "/a.bin", tmp_path / "a.bin", version=7)
    assert os.listdir(tmp_path) == []
    assert "/chunks/fetch" not in server.requests


def test_an_answer_that_lacks_a_chunk_places_nothing(
    api: SyncApi, server: FakeServer, tmp_path: Path
) -> None:
    content = bytes(random_bytes(1_000_000))
    server.files["/a.bin"] = (1, content)
    pieces = list(iter_chunks(io.BytesIO(content), CHUNK_PARAMS, seed=SEED))
    server.drop_from_fetch = chunk_id(KEY, pieces[-1])
    with pytest.raises(ApiError, match="lacks chunk"):
        download_file(api, "/a.bin", tmp_path / "a.bin")
    assert os.listdir(tmp_path) == []


def test_a_folder_is_not_downloaded(api: SyncApi, server: FakeServer, tmp_path: Path) -> None:
    server.files["/Docs"] = (1, b"")
    original_node = server.node
    server.node = lambda path: {**original_node(path), "kind": "folder"}  # type: ignore[method-assign]
    with pytest.raises(TransferError, match="is a folder"):
        download_file(api, "/Docs", tmp_path / "Docs")


def test_credentials_are_written_private_and_read_back(tmp_path: Path) -> None:
    folder = tmp_path / "config" / "sfs"
    saved = Credentials("https://files.example.com", "tok", "a@example.com", "laptop", "id-1")
    path = credentials.save(folder, saved)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert credentials.load(folder) == saved
    assert os.listdir(folder) == ["credentials.json"]
    assert credentials.remove(folder)
    assert credentials.load(folder) is None


def test_the_config_folder_follows_the_environment(tmp_path: Path) -> None:
    assert credentials.config_dir({"SFS_CLIENT_CONFIG_DIR": "/x/y"}) == Path("/x/y")
    assert credentials.config_dir({"XDG_CONFIG_HOME": "/cfg"}) == Path("/cfg/sfs")
    assert credentials.config_dir({}) == Path.home() / ".config" / "sfs"
