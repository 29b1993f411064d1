"""The Nextcloud desktop client's first sync of many small files, next to rclone, same run.

Run: .venv/bin/python -m bench.nextcloud_bench [--files 1000] [--size 4096] [--dir DIR]

Starts a real `sfs serve` (SQLite, local blob folder) on 127.0.0.1 with an app password, writes
FILES random files of SIZE bytes in folders of 100, then measures:
- `nextcloudcmd --non-interactive` (Debian's nextcloud-desktop-cmd) syncing a folder holding
  the tree to the server for the first time: seconds and files/s, from the command's start to
  its end (status.php, capabilities, discovery, uploads, the journal);
- `rclone copy --transfers 8` of the same tree into another folder of the same account, through
  the same WebDAV door (`vendor = nextcloud`): the baseline.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import httpx

from bench.dav_bench import account, rclone_copy, row
from bench.rest_transfer import Server, timed

PER_FOLDER = 100


def write_tree(root: Path, files: int, size: int) -> None:
    for n in range(files):
        folder = root / f"folder-{n // PER_FOLDER:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"file-{n:05d}.bin").write_bytes(os.urandom(size))


def nextcloudcmd(folder: Path, base_url: str, email: str, password: str) -> None:
    subprocess.run(
        ["nextcloudcmd", "--non-interactive", "-u", email, "-p", password, str(folder), base_url],
        check=True,
        capture_output=True,
        timeout=3600,
    )


def count_files(base_url: str, auth: tuple[str, str], user_id: str, folder: str) -> int:
    """Files below `folder` on the server, counted through PROPFIND one level at a time."""
    total, pending = 0, [f"/remote.php/dav/files/{user_id}/{folder}/"]
    with httpx.Client(base_url=base_url, auth=auth, timeout=60) as client:
        while pending:
            answer = client.request("PROPFIND", pending.pop(), headers={"Depth": "1"})
            answer.raise_for_status()
            hrefs = answer.text.split("<d:href>")[2:]  # the first is the folder itself
            for entry in hrefs:
                href = entry.split("</d:href>")[0]
                if href.endswith("/"):
                    pending.append(href)
                else:
                    total += 1
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--dir", type=Path, default=None)
    arguments = parser.parse_args()
    for tool in ("nextcloudcmd", "rclone"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (see the README's Benchmarks section)")
    work = Path(tempfile.mkdtemp(prefix="nextcloud-bench-", dir=arguments.dir))
    try:
        data_dir = work / "sfs-data"
        server = Server(data_dir)
        try:
            server.wait_until_ready()
            email, password = account(server, data_dir)
            auth = (email, password)
            me = httpx.get(f"{server.base_url}/ocs/v2.php/cloud/user?format=json", auth=auth)
            user_id = me.json()["ocs"]["data"]["id"]
            tree = work / "tree"
            write_tree(tree, arguments.files, arguments.size)
            synced = work / "synced"
            shutil.copytree(tree, synced / "by-nextcloudcmd")
            seconds = timed(lambda: nextcloudcmd(synced, server.base_url, email, password))
            landed = count_files(server.base_url, auth, user_id, "by-nextcloudcmd")
            assert landed == arguments.files, f"{landed} of {arguments.files} files on the server"
            obscured = subprocess.run(
                ["rclone", "obscure", password], capture_output=True, text=True, check=True
            ).stdout.strip()
            remote = {
                "RCLONE_CONFIG_BENCH_TYPE": "webdav",
                "RCLONE_CONFIG_BENCH_URL": f"{server.base_url}/remote.php/dav/files/{user_id}/",
                "RCLONE_CONFIG_BENCH_VENDOR": "nextcloud",
                "RCLONE_CONFIG_BENCH_USER": email,
                "RCLONE_CONFIG_BENCH_PASS": obscured,
            }
            baseline = rclone_copy(tree, remote, "bench:by-rclone")
            assert count_files(server.base_url, auth, user_id, "by-rclone") == arguments.files
        finally:
            server.stop()
        files = arguments.files
        print(f"First sync of {files} files of {arguments.size} bytes, sfs on {server.base_url}:")
        row("rclone copy --transfers 8 (baseline)", baseline, "s")
        row("nextcloudcmd first sync", seconds, "s", baseline, higher=False)
        row("rclone copy --transfers 8 (baseline)", files / baseline, "files/s")
        row("nextcloudcmd first sync", files / seconds, "files/s", files / baseline)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
