"""One contract for every blob backend: local folder, memory, and S3 (against moto_server).

The S3 tests start `moto_server` on 127.0.0.1 and a free port; they skip when it is not
installed, unless SFS_TEST_REQUIRE_S3=1 (set by .ci/run), which turns that into a failure.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sfs.blobs.backend import BlobBackend, BlobNotFound
from sfs.blobs.chunk_store import ChunkStore
from sfs.blobs.local import LocalBackend
from sfs.blobs.memory import MemoryBackend
from sfs.blobs.packs import StoredChunk, pack_blob_name
from sfs.blobs.s3 import S3Backend
from sfs.crypto.keys import OrganisationKeys
from sfs.domain.errors import CorruptChunk, MissingChunk
from sfs.ports import SystemRandomness
from sfs.protocol.chunking import ChunkParams, ChunkSizes

REQUIRE_S3 = os.environ.get("SFS_TEST_REQUIRE_S3") == "1"
SMALL = ChunkParams(min_size=256, avg_size=1024, max_size=4096)
KEYS = OrganisationKeys.generate(SystemRandomness())


def _moto_server_command() -> str | None:
    beside_python = Path(sys.executable).parent / "moto_server"
    return str(beside_python) if beside_python.exists() else shutil.which("moto_server")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    command = _moto_server_command()
    if command is None:
        if REQUIRE_S3:
            pytest.fail("moto_server is required but not installed (pip install 'moto[server]')")
        pytest.skip("moto_server is not installed (pip install 'moto[server]')")
    port = _free_port()
    process = subprocess.Popen(
        [command, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not start on port {port}")
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=0.05)  # wait for it to listen (or to die)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _s3_backend(endpoint: str, prefix: str) -> S3Backend:
    bucket = f"sfs-test-{uuid.uuid4().hex[:12]}"
    backend = S3Backend.connect(
        bucket=bucket,
        endpoint_url=endpoint,
        prefix=prefix,
        region="us-east-1",
        access_key_id="testing",
        secret_access_key="testing",
    )
    backend._client.create_bucket(Bucket=bucket)
    return backend


@pytest.fixture(params=["local", "memory", "s3", "s3-with-prefix"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> BlobBackend:
    kind: str = request.param
    if kind == "local":
        return LocalBackend(tmp_path / "blobs")
    if kind == "memory":
        return MemoryBackend()
    endpoint: str = request.getfixturevalue("moto_endpoint")
    return _s3_backend(endpoint, "tenant-x/" if kind == "s3-with-prefix" else "")


def test_a_blob_reads_back_whole_and_by_range(backend: BlobBackend) -> None:
    data = bytes(range(256)) * 40
    backend.put("packs/0a1b2c", data)
    assert backend.exists("packs/0a1b2c")
    assert backend.size("packs/0a1b2c") == len(data)
    assert backend.get("packs/0a1b2c") == data
    assert backend.get("packs/0a1b2c", 100) == data[100:]
    assert backend.get("packs/0a1b2c", 100, 50) == data[100:150]
    assert backend.get("packs/0a1b2c", 0, 1) == data[:1]
    assert backend.get("packs/0a1b2c", len(data) - 10, 100) == data[-10:]
    assert backend.get("packs/0a1b2c", len(data), 10) == b""
    assert backend.get("packs/0a1b2c", len(data) + 5) == b""
    assert backend.get("packs/0a1b2c", 7, 0) == b""


def test_putting_again_replaces_the_blob_whole(backend: BlobBackend) -> None:
    backend.put("packs/ff00", b"first version, longer")
    backend.put("packs/ff00", b"second")
    assert backend.get("packs/ff00") == b"second"
    backend.put("empty", b"")
    assert backend.get("empty") == b""
    assert backend.size("empty") == 0


def test_a_missing_blob_is_a_typed_error_and_deleting_it_is_harmless(
    backend: BlobBackend,
) -> None:
    with pytest.raises(BlobNotFound) as caught:
        backend.get("packs/absent")
    assert caught.value.name == "packs/absent"
    with pytest.raises(BlobNotFound):
        backend.get("packs/absent", 10, 10)
    with pytest.raises(BlobNotFound):
        backend.size("packs/absent")
    assert not backend.exists("packs/absent")
    backend.delete("packs/absent")

    backend.put("packs/present", b"x")
    backend.delete("packs/present")
    assert not backend.exists("packs/present")
    with pytest.raises(BlobNotFound):
        backend.get("packs/present")


def test_listing_returns_the_names_under_a_prefix(backend: BlobBackend) -> None:
    names = {"packs/aa01", "packs/aa02", "packs/b7", "other/aa03", "top"}
    for name in names:
        backend.put(name, name.encode())
    assert set(backend.list()) == names
    assert set(backend.list("packs/")) == {"packs/aa01", "packs/aa02", "packs/b7"}
    assert set(backend.list("packs/aa")) == {"packs/aa01", "packs/aa02"}
    assert set(backend.list("nothing/")) == set()


@pytest.mark.parametrize("name", ["", "../escape", "a//b", "/abs", ".hidden", "a/.tmp-x", "a b"])
def test_names_that_could_escape_or_collide_are_refused(backend: BlobBackend, name: str) -> None:
    with pytest.raises(ValueError, match="invalid blob name"):
        backend.put(name, b"x")


def test_the_chunk_store_works_over_every_backend(backend: BlobBackend) -> None:
    store = ChunkStore(backend, pack_target_size=16 * 1024, sizes=ChunkSizes.only(SMALL))
    marker = b"MARKER-quarterly-report"
    data = random.Random(1).randbytes(60_000) + marker * 100
    manifest: list[str] = []
    index: dict[str, StoredChunk] = {}
    with store.writer(KEYS) as writer:
        for chunk in store.prepare(KEYS, io.BytesIO(data)):
            manifest.append(chunk.chunk_id)
            index.update((s.chunk_id, s) for s in writer.add(chunk.chunk_id, chunk.sealed))
        index.update((s.chunk_id, s) for s in writer.flush())
    assert len(set(store.pack_ids())) > 1
    chunks = [(chunk_id, index[chunk_id].location) for chunk_id in manifest]
    assert b"".join(store.read_many(KEYS, chunks)) == data

    for name in backend.list():
        blob = backend.get(name)
        assert marker not in blob
        assert not any(chunk_id.encode() in blob or chunk_id in name for chunk_id in index)

    victim = index[manifest[3]].location
    pack = bytearray(backend.get(pack_blob_name(victim.pack_id)))
    pack[victim.offset] ^= 0xFF
    backend.put(pack_blob_name(victim.pack_id), bytes(pack))
    with pytest.raises(CorruptChunk) as corrupt:
        b"".join(store.read_many(KEYS, chunks))
    assert corrupt.value.chunk_id == manifest[3]

    store.delete_pack(victim.pack_id)
    with pytest.raises(MissingChunk) as missing:
        store.read(KEYS, manifest[3], victim)
    assert missing.value.chunk_id == manifest[3]


def test_local_blobs_fan_out_into_subfolders(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path)
    backend.put("packs/3fa2c9", b"data")
    backend.put("x", b"short name")
    assert (tmp_path / "packs" / "3f" / "3fa2c9").read_bytes() == b"data"
    assert set(backend.list()) == {"packs/3fa2c9", "x"}


def test_a_crash_between_temporary_write_and_rename_leaves_no_visible_blob(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = LocalBackend(tmp_path)
    backend.put("packs/c0ffee", b"old content")

    def crash(source: object, target: object) -> None:
        raise OSError("power lost before the rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="power lost"):
        backend.put("packs/c0ffee", b"new content that never became visible")
    with pytest.raises(OSError, match="power lost"):
        backend.put("packs/deadbeef", b"a new blob")
    monkeypatch.undo()

    assert backend.get("packs/c0ffee") == b"old content"
    assert not backend.exists("packs/deadbeef")
    assert set(backend.list()) == {"packs/c0ffee"}
    assert not any(p.name.startswith(".tmp-") for p in tmp_path.rglob("*"))


def test_a_temporary_file_left_by_a_killed_writer_is_invisible(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path)
    backend.put("packs/abcd", b"complete")
    (tmp_path / "packs" / "ab" / ".tmp-k1ll3d").write_bytes(b"half a pa")
    assert set(backend.list()) == {"packs/abcd"}
    assert set(backend.list("packs/")) == {"packs/abcd"}
