"""Share links: a folder's ZIP streamed through a public link, next to `zip -0 -r` of the same
tree on disk; and a big file through a public link, next to the authenticated REST download.

Run: .venv/bin/python -m bench.share_bench [--files 1000] [--total-mib 256] [--big-mib 256]
                                          [--dir DIR]

Starts a real `sfs serve` (SQLite, local blob folder) on 127.0.0.1, uploads FILES random files
(TOTAL-MIB in all, in 10 subfolders) and one random file of BIG-MIB through the REST API, makes
links through the REST API, then measures with curl writing to /dev/null:
- the folder's ZIP (`/s/<token>/zip`, ZIP_STORED streamed on the fly): MB/s, its size and that
  it unpacks to the same bytes (checked with Python's zipfile against the files on disk), next to
  `zip -0 -r -q` of the same tree (written to disk, then dropped);
- the server's peak RSS during the ZIP (VmHWM, reset just before through /proc/PID/clear_refs);
- the big file through its public link (`/s/<token>/download`) next to GET /spaces/me/content
  with a device token.
Each download is the best of 3.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import httpx

from bench.rest_transfer import MiB, Server, peak_rss_mib, timed, write_random
from sfs.app import build_services
from sfs.config import load_settings
from sfs.domain.actor import ClientInfo, operator

_CLIENT = ClientInfo(address="127.0.0.1", user_agent="share_bench")
PASSWORD = "plum-ladder-orbit-48-quietly"  # noqa: S105 (a throw-away account of the bench)


def account(data_dir: Path) -> str:
    services = build_services(load_settings(data_dir=data_dir))
    try:
        organisation = services.organisations.create(operator(), name="Bench", client=_CLIENT)
        services.accounts.create_user(
            operator(),
            organization_id=organisation.id,
            email="bench@example.com",
            display_name="Bench Mark",
            password=PASSWORD,
            client=_CLIENT,
        )
    finally:
        services.database.dispose()
    return "bench@example.com"


def curl_seconds(url: str, headers: list[str] | None = None) -> float:
    """Best of 3 of curl fetching `url` into /dev/null (fails on any HTTP error)."""
    command = ["curl", "-sS", "--fail", "-o", "/dev/null", *(headers or []), url]
    return min(timed(lambda: subprocess.run(command, check=True)) for _ in range(3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--total-mib", type=int, default=256)
    parser.add_argument("--big-mib", type=int, default=256)
    parser.add_argument("--dir", type=Path, default=None)
    arguments = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="share-bench-", dir=arguments.dir))
    try:
        run(work, arguments.files, arguments.total_mib * MiB, arguments.big_mib * MiB)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(work: Path, files: int, total: int, big: int) -> None:
    tree = work / "tree" / "shared"
    size = total // files
    for number in range(files):
        path = tree / f"part{number % 10}" / f"file{number:05d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_random(path, size)
    big_file = work / "big.bin"
    write_random(big_file, big)

    data_dir = work / "sfs-data"
    server = Server(data_dir)
    try:
        server.wait_until_ready()
        email = account(data_dir)
        with httpx.Client(base_url=server.base_url + "/api/v1", timeout=600) as api:
            login = api.post(
                "/auth/login",
                json={"email": email, "password": PASSWORD, "device_name": "share_bench"},
            )
            login.raise_for_status()
            token = login.json()["token"]
            api.headers["Authorization"] = f"Bearer {token}"
            api.post("/spaces/me/folders", json={"path": "/shared"}).raise_for_status()
            for part in sorted(tree.iterdir()):
                api.post(
                    "/spaces/me/folders", json={"path": f"/shared/{part.name}"}
                ).raise_for_status()
            for path in sorted(tree.rglob("*.bin")):
                remote = "/shared/" + path.relative_to(tree).as_posix()
                api.put(
                    "/spaces/me/content", params={"path": remote}, content=path.read_bytes()
                ).raise_for_status()
            with big_file.open("rb") as handle:
                api.put(
                    "/spaces/me/content", params={"path": "/big.bin"}, content=handle
                ).raise_for_status()
            folder_url = api.post("/spaces/me/links", json={"path": "/shared"}).json()["url"]
            file_url = api.post("/spaces/me/links", json={"path": "/big.bin"}).json()["url"]

        # The ZIP: its content checked once, then timed; peak RSS over the timed runs.
        archive = work / "shared.zip"
        subprocess.run(
            ["curl", "-sS", "--fail", "-o", str(archive), folder_url + "/zip"], check=True
        )
        check_zip(archive, tree)
        zip_bytes = archive.stat().st_size
        archive.unlink()
        rss_before = current_rss_mib(server.process.pid)
        Path(f"/proc/{server.process.pid}/clear_refs").write_text("5")
        zip_seconds = curl_seconds(folder_url + "/zip")
        zip_rss = peak_rss_mib(server.process.pid)
        zip0 = min(zip_on_disk(tree, work / "disk.zip") for _ in range(3))

        public = curl_seconds(file_url + "/download")
        authenticated = curl_seconds(
            server.base_url + "/api/v1/spaces/me/content?path=/big.bin",
            ["-H", f"Authorization: Bearer {token}"],
        )
    finally:
        server.stop()

    mb = 1_000_000
    print(f"ZIP of {files} files / {total // MiB} MiB in 10 folders ({zip_bytes / mb:.1f} MB)")
    print(
        f"  sfs public link /zip : {zip_bytes / mb / zip_seconds:7.1f} MB/s ({zip_seconds:.2f} s)"
    )
    print(f"  zip -0 -r on disk    : {zip_bytes / mb / zip0:7.1f} MB/s ({zip0:.2f} s)")
    print(f"  server RSS before: {rss_before:.0f} MiB, peak during the ZIPs: {zip_rss:.0f} MiB")
    print(f"Download of one {big // MiB} MiB file")
    print(f"  public link          : {big / mb / public:7.1f} MB/s ({public:.2f} s)")
    print(f"  REST API with token  : {big / mb / authenticated:7.1f} MB/s ({authenticated:.2f} s)")


def current_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def zip_on_disk(tree: Path, target: Path) -> float:
    target.unlink(missing_ok=True)
    command = ["zip", "-0", "-r", "-q", str(target), tree.name]
    return timed(lambda: subprocess.run(command, cwd=tree.parent, check=True))


def check_zip(archive: Path, tree: Path) -> None:
    """Every file of the tree is in the archive with the same bytes, and nothing else."""
    with zipfile.ZipFile(archive) as opened:
        names = {name for name in opened.namelist() if not name.endswith("/")}
        expected = {path.relative_to(tree).as_posix() for path in tree.rglob("*.bin")}
        assert names == expected, "the archive's files differ from the tree's"
        for name in sorted(expected):
            with opened.open(name) as entry:
                got = hashlib.sha256(entry.read()).digest()
            assert got == hashlib.sha256((tree / name).read_bytes()).digest(), name


if __name__ == "__main__":
    main()
