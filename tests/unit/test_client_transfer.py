"""`sfs.client.transfer` against an in-memory fake of the chunk API (`httpx.MockTransport`)."""

from __future__ import annotations

import base64
import json
import os
import random
import stat
import threading
from pathlib import Path

import httpx
import pytest

from sfs.client import credentials
from sfs.client.api import ApiClient, ApiError
from sfs.client.credentials import Credentials
from sfs.client.transfer import RemoteChanged, TransferError, download_file, upload_file
from sfs.protocol.chunk_ids import chunk_id
from sfs.protocol.chunking import CHUNK_PARAMS

KEY = bytes(range(32))
SEED = 1234


class FakeServer:
    """Just enough of the API for transfers: chunks, commits, one file's content."""

    def __init__(self) -> None:
        self.chunks: dict[str, bytes] = {}
        self.files: dict[str, tuple[int, bytes]] = {}
        self.chunk_puts = 0
        self.fail_download_after: int | None = None
        self.quota_left: int | None = None
        self.lock = threading.Lock()  # chunk PUTs arrive from several threads

    def node(self, path: str) -> dict[str, object]:
        version, content = self.files[path]
        return {
            "id": "6f1c1f4e-64c4-4d38-9d8e-4f0c2a8f0b11",
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
        if route == "/chunking":
            return httpx.Response(
                200,
                json={
                    "min_size": CHUNK_PARAMS.min_size,
                    "avg_size": CHUNK_PARAMS.avg_size,
                    "max_size": CHUNK_PARAMS.max_size,
                    "chunk_id_key": base64.b64encode(KEY).decode(),
                    "seed": SEED,
                },
            )
        if route == "/spaces/me/node":
            if path not in self.files:
                return httpx.Response(404, json={"code": "not_found", "message": "No such file."})
            return httpx.Response(200, json=self.node(path))
        if route == "/chunks/missing":
            ids = json.loads(request.content)["chunk_ids"]
            return httpx.Response(200, json={"missing": [i for i in ids if i not in self.chunks]})
        if route.startswith("/chunks/"):
            data = request.read()
            assert chunk_id(KEY, data) == route.removeprefix("/chunks/")
            with self.lock:
                if self.quota_left is not None:
                    if self.quota_left < len(data):
                        return httpx.Response(
                            507, json={"code": "quota_exceeded", "message": "Quota exceeded."}
                        )
                    self.quota_left -= len(data)
                self.chunks[chunk_id(KEY, data)] = data
                self.chunk_puts += 1
            return httpx.Response(204)
        if route == "/spaces/me/commit":
            body = json.loads(request.content)
            current = self.files.get(body["path"])
            if (current[0] if current else None) != body["base_version"]:
                return httpx.Response(409, json={"code": "conflict", "message": "Changed."})
            content = b"".join(self.chunks[e["chunk_id"]] for e in body["manifest"])
            self.files[body["path"]] = ((current[0] if current else 0) + 1, content)
            return httpx.Response(200, json=self.node(body["path"]))
        if route == "/spaces/me/content":
            content = self.files[path][1]
            if self.fail_download_after is not None:
                return httpx.Response(200, stream=BrokenStream(content, self.fail_download_after))
            return httpx.Response(200, content=content)
        raise AssertionError(f"unexpected {request.method} {request.url}")


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
def api(server: FakeServer) -> ApiClient:
    return ApiClient("http://sfs.test", token="t", transport=httpx.MockTransport(server))


def random_bytes(size: int, seed: int = 7) -> bytearray:
    return bytearray(random.Random(seed).randbytes(size))


def test_an_upload_sends_each_missing_chunk_once_and_commits(
    api: ApiClient, server: FakeServer, tmp_path: Path
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
    api: ApiClient, server: FakeServer, tmp_path: Path
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


def test_a_stale_base_version_is_a_conflict(
    api: ApiClient, server: FakeServer, tmp_path: Path
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
    api: ApiClient, server: FakeServer, tmp_path: Path
) -> None:
    local = tmp_path / "a.bin"
    local.write_bytes(random_bytes(2_000_000))
    server.quota_left = 500_000
    with pytest.raises(ApiError) as caught:
        upload_file(api, local, "/a.bin")
    assert (caught.value.status, caught.value.message) == (507, "Quota exceeded.")
    assert server.files == {}


def test_an_empty_file_commits_an_empty_manifest(
    api: ApiClient, server: FakeServer, tmp_path: Path
) -> None:
    (tmp_path / "empty").write_bytes(b"")
    result = upload_file(api, tmp_path / "empty", "/empty")
    assert (result.chunks, result.bytes_sent) == (0, 0)
    assert server.files["/empty"] == (1, b"")


def test_a_download_lands_whole_with_the_remote_time(
    api: ApiClient, server: FakeServer, tmp_path: Path
) -> None:
    server.files["/a.bin"] = (1, bytes(random_bytes(200_000)))
    target = tmp_path / "a.bin"
    download_file(api, "/a.bin", target)
    assert target.read_bytes() == server.files["/a.bin"][1]
    assert target.stat().st_mtime == 1795597200.0  # 2026-11-25T09:00:00Z
    assert os.listdir(tmp_path) == ["a.bin"]


def test_an_interrupted_download_leaves_the_old_file_and_no_part(
    api: ApiClient, server: FakeServer, tmp_path: Path
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


def test_a_folder_is_not_downloaded(api: ApiClient, server: FakeServer, tmp_path: Path) -> None:
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
