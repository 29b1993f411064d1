"""Upload and download of a large file through the REST API on loopback, next to `cp`.

Run: .venv/bin/python -m bench.rest_transfer [--size-mib 256] [--dir DIR]
     (the issue's figure: --size-mib 1024; needs ~4x that in free disk space in DIR)

Starts a real `sfs serve` (SQLite, local blob folder) in DIR on 127.0.0.1 and measures, all on
the same disk:
- baseline: `cp FILE COPY` followed by `sync`;
- upload: `PUT /spaces/me/content` streaming the file (MB/s, ratio to cp), and the server's
  peak resident memory (VmHWM of the `sfs serve` process, before and after the upload);
- download: `GET /spaces/me/content` into a file (MB/s, ratio to cp), checked byte for byte;
- delta: the same file with 1 MiB of new bytes inserted in the middle, sent as a sync client
  does (`/chunking`, `/chunks/missing`, `PUT /chunks/{id}` for the missing ones, `/commit`):
  request bytes sent, next to `rsync --stats --no-whole-file` for the same edit.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from sfs.protocol.chunk_ids import chunk_id
from sfs.protocol.chunking import ChunkParams, iter_chunks

MiB = 1024 * 1024
SFS = str(Path(sys.executable).with_name("sfs"))


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def write_random(path: Path, size: int) -> None:
    with path.open("wb") as handle:
        for start in range(0, size, 8 * MiB):
            handle.write(os.urandom(min(8 * MiB, size - start)))


def blocks(path: Path, size: int = MiB) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while block := handle.read(size):
            yield block


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    for block in blocks(path):
        digest.update(block)
    return digest.hexdigest()


def peak_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert match, "no VmHWM in /proc/PID/status"
    return int(match.group(1)) / 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir.parent / "serve.log"
        self._log = self.log.open("w")
        environment = {**os.environ, "SFS_DATA_DIR": str(data_dir), "SFS_PORT": str(self.port)}
        environment["PYTHONUNBUFFERED"] = "1"
        self.process = subprocess.Popen(
            [SFS, "serve"], env=environment, stdout=self._log, stderr=subprocess.STDOUT
        )

    def wait_until_ready(self) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"sfs serve exited:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.base_url}/login", timeout=1).status_code == 200:
                    return self.log.read_text()
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise SystemExit("sfs serve did not start within 60 s")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


def insert_middle(source: Path, target: Path, inserted: bytes) -> None:
    size = source.stat().st_size
    with source.open("rb") as reading, target.open("wb") as writing:
        remaining = size // 2
        while remaining:
            block = reading.read(min(8 * MiB, remaining))
            writing.write(block)
            remaining -= len(block)
        writing.write(inserted)
        shutil.copyfileobj(reading, writing, 8 * MiB)


def chunk_level_upload(
    client: httpx.Client, path: Path, remote: str, base_version: int
) -> tuple[int, int, int]:
    """Send `path` as a sync client does: (request bytes sent, of them chunk bytes, chunks)."""
    params = client.get("/api/v1/chunking").json()
    key = base64.b64decode(params["chunk_id_key"])
    chunk_params = ChunkParams(
        min_size=params["min_size"], avg_size=params["avg_size"], max_size=params["max_size"]
    )
    manifest: list[dict[str, object]] = []
    with path.open("rb") as handle:
        for piece in iter_chunks(handle, chunk_params, seed=params["seed"]):
            manifest.append({"chunk_id": chunk_id(key, piece), "size": len(piece)})
    sent = chunk_bytes = 0
    missing: set[str] = set()
    for start in range(0, len(manifest), 5000):
        body = {"chunk_ids": [entry["chunk_id"] for entry in manifest[start : start + 5000]]}
        request = client.build_request("POST", "/api/v1/chunks/missing", json=body)
        sent += len(request.content)
        missing.update(client.send(request).raise_for_status().json()["missing"])
    chunks_sent = 0
    with path.open("rb") as handle:
        for piece in iter_chunks(handle, chunk_params, seed=params["seed"]):
            identifier = chunk_id(key, piece)
            if identifier in missing:
                missing.discard(identifier)
                client.put(f"/api/v1/chunks/{identifier}", content=piece).raise_for_status()
                sent += len(piece)
                chunk_bytes += len(piece)
                chunks_sent += 1
    commit: dict[str, object] = {
        "path": remote,
        "manifest": manifest,
        "modified_at": "2026-11-25T10:00:00Z",
        "base_version": base_version,
    }
    request = client.build_request("POST", "/api/v1/spaces/me/commit", json=commit)
    sent += len(request.content)
    client.send(request).raise_for_status()
    return sent, chunk_bytes, chunks_sent


def rsync_bytes_sent(original: Path, edited: Path, work: Path) -> int:
    target = work / "rsync-target.bin"
    shutil.copyfile(original, target)
    result = subprocess.run(
        ["rsync", "--stats", "--no-whole-file", str(edited), str(target)],
        capture_output=True,
        text=True,
        check=True,
    )
    match = re.search(r"Total bytes sent: ([\d,.]+)", result.stdout)
    assert match, result.stdout
    return int(re.sub(r"[,.]", "", match.group(1)))


def mb_per_s(size: int, seconds: float) -> float:
    return size / seconds / 1e6


def change_first_password(base_url: str, email: str, printed: str) -> str:
    """The printed first-start password must be changed in the portal before any token."""
    new = "bench-" + base64.urlsafe_b64encode(os.urandom(12)).decode()
    with httpx.Client(base_url=base_url, follow_redirects=True, timeout=60) as browser:
        login_page = browser.get("/login").text
        page = browser.post(
            "/login", data={"email": email, "password": printed, "csrf_token": _csrf(login_page)}
        )
        browser.post(
            "/account/password",
            data={
                "csrf_token": _csrf(page.text),
                "current_password": printed,
                "new_password": new,
                "confirm_password": new,
            },
        ).raise_for_status()
    return new


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--dir", type=Path, default=None)
    arguments = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sfs-bench-", dir=arguments.dir))
    size = arguments.size_mib * MiB
    try:
        original = work / "original.bin"
        write_random(original, size)
        copy = work / "copy.bin"
        cp_seconds = timed(lambda: subprocess.run(["sh", "-c", f"cp {original} {copy} && sync"]))
        copy.unlink()

        server = Server(work / "data")
        try:
            output = server.wait_until_ready()
            email, printed = re.findall(r"Email:\s+(\S+)\n\s+Password:\s+(\S+)", output)[1]
            password = change_first_password(server.base_url, email, printed)
            token = httpx.post(
                f"{server.base_url}/api/v1/auth/login",
                json={"email": email, "password": password, "device_name": "bench"},
            ).json()["token"]
            client = httpx.Client(
                base_url=server.base_url,
                headers={"Authorization": f"Bearer {token}"},
                timeout=600,
            )
            rss_before = peak_rss_mib(server.process.pid)
            upload_seconds = timed(
                lambda: client.put(
                    "/api/v1/spaces/me/content",
                    params={"path": "/big.bin"},
                    content=blocks(original),
                ).raise_for_status()
            )
            rss_after = peak_rss_mib(server.process.pid)

            downloaded = work / "downloaded.bin"

            def download() -> None:
                with (
                    client.stream(
                        "GET", "/api/v1/spaces/me/content", params={"path": "/big.bin"}
                    ) as answer,
                    downloaded.open("wb") as handle,
                ):
                    answer.raise_for_status()
                    for block in answer.iter_bytes(MiB):
                        handle.write(block)

            download_seconds = timed(download)
            assert sha256(downloaded) == sha256(original), "the download differs"
            downloaded.unlink()

            edited = work / "edited.bin"
            insert_middle(original, edited, os.urandom(MiB))
            delta_sent, delta_chunk_bytes, delta_chunks = chunk_level_upload(
                client, edited, "/big.bin", 1
            )
            client.close()
        finally:
            server.stop()
        rsync_sent = rsync_bytes_sent(original, edited, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    cp_rate = mb_per_s(size, cp_seconds)
    up_rate = mb_per_s(size, upload_seconds)
    down_rate = mb_per_s(size, download_seconds)
    print(f"file: {arguments.size_mib} MiB of random bytes, on {work.parent}")
    print(f"cp + sync             {cp_rate:8.1f} MB/s   1.00x")
    print(f"REST upload           {up_rate:8.1f} MB/s   {up_rate / cp_rate:.2f}x of cp")
    print(f"REST download         {down_rate:8.1f} MB/s   {down_rate / cp_rate:.2f}x of cp")
    print(f"server peak RSS       {rss_before:8.1f} MiB before the upload, {rss_after:.1f} after")
    print(
        f"1 MiB inserted        {delta_sent:10d} bytes sent vs rsync {rsync_sent}: "
        f"{delta_sent / rsync_sent:.2f}x of rsync"
    )
    print(
        f"  of which            {delta_chunk_bytes:10d} bytes in {delta_chunks} chunks "
        f"({delta_chunk_bytes / rsync_sent:.2f}x of rsync), "
        f"{delta_sent - delta_chunk_bytes} bytes of manifest JSON (missing query + commit)"
    )


if __name__ == "__main__":
    main()
