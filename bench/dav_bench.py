"""The WebDAV door against `cp` and against WsgiDAV's filesystem provider, all in the same run.

Run: .venv/bin/python -m bench.dav_bench [--size-mib 1024] [--files 10000] [--small 1000]
                                          [--dir DIR] [--no-wsgidav]

Starts a real `sfs serve` (SQLite, local blob folder) on 127.0.0.1 with an app password, and
(unless --no-wsgidav) WsgiDAV with its filesystem provider and cheroot, installed from PyPI into
a throw-away virtualenv under DIR (never into this project). Measures, on the same disk:
- a big file: `cp FILE COPY && sync` as the baseline; `curl -T` (PUT) and `curl -o` (GET)
  against each server (and sfs's REST API, the same pipeline without the door): MB/s and the
  ratio to cp;
- PROPFIND Depth: 1 of a folder of N files (sfs: committed through the services; WsgiDAV: the
  same number of files on disk): seconds, median of 3;
- `rclone copy` of M x 4 KiB files with `--transfers 8`: files/s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import venv
from functools import partial
from pathlib import Path

import httpx
from defusedxml.ElementTree import fromstring

from bench.rest_transfer import MiB, Server, free_port, sha256, timed, write_random
from sfs.app import build_services
from sfs.config import load_settings
from sfs.domain.actor import ClientInfo, operator
from sfs.metadata.models import User
from sfs.services.files.versions import CommitRequest
from sfs.services.identity.actors import actor_of

_CLIENT = ClientInfo(address="127.0.0.1", user_agent="dav_bench")
PASSWORD = "plum-ladder-orbit-48-quietly"  # noqa: S105 (a throw-away account of the bench)
PROPFIND_BODY = (
    '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/>'
    "<d:getcontentlength/><d:getetag/><d:getlastmodified/></d:prop></d:propfind>"
)


class WsgiDav:
    """WsgiDAV 4 with its filesystem provider on `root`, anonymous, served by cheroot."""

    def __init__(self, work: Path, root: Path) -> None:
        home = work / "wsgidav-venv"
        if not (home / "bin" / "wsgidav").exists():
            venv.create(home, with_pip=True)
            subprocess.run(
                [str(home / "bin" / "pip"), "install", "--quiet", "wsgidav", "cheroot"],
                check=True,
            )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = (work / "wsgidav.log").open("w")
        self.process = subprocess.Popen(
            [
                str(home / "bin" / "wsgidav"),
                "--host=127.0.0.1",
                f"--port={self.port}",
                f"--root={root}",
                "--auth=anonymous",
                "--no-config",
                "-q",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.request("OPTIONS", f"{self.url}/", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise SystemExit("WsgiDAV did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)
        self._log.close()


def account(server: Server, data_dir: Path) -> tuple[str, str]:
    """A user with an app password; returns (email, app password)."""
    services = build_services(load_settings(data_dir=data_dir))
    try:
        organisation = services.organisations.create(operator(), name="Bench", client=_CLIENT)
        user = services.accounts.create_user(
            operator(),
            organization_id=organisation.id,
            email="bench@example.com",
            display_name="Bench Mark",
            password=PASSWORD,
            client=_CLIENT,
        )
        with services.database.transaction() as session:
            row = session.get(User, user.id)
            assert row is not None
            person = actor_of(row)
        secret = services.app_passwords.create(person, name="bench", client=_CLIENT).secret
    finally:
        services.database.dispose()
    return user.email, secret


def rest_token(base_url: str, email: str) -> str:
    answer = httpx.post(
        f"{base_url}/api/v1/auth/login",
        json={"email": email, "password": PASSWORD, "device_name": "dav_bench"},
    )
    answer.raise_for_status()
    return str(answer.json()["token"])


def fill_sfs_folder(data_dir: Path, email: str, folder: str, count: int) -> None:
    """`count` files of 4 KiB in one folder, committed through the services in batches (the
    same chunk for all: the listing's cost does not depend on the content)."""
    services = build_services(load_settings(data_dir=data_dir))
    try:
        with services.database.transaction() as session:
            row = session.query(User).filter(User.email == email).one()
            person = actor_of(row)
        space = services.spaces.my_files(person).id
        services.file_tree.create_folder(person, space_id=space, path=folder, client=_CLIENT)
        first = services.file_content.upload(
            person,
            space_id=space,
            path=f"{folder}/0.txt",
            source=[os.urandom(4096)],
            modified_at=services.clock.now(),
            base_version=None,
            client=_CLIENT,
        )
        _, _, manifest = services.file_versions.manifest(person, space_id=space, path=first.path)
        now = services.clock.now()
        for start in range(1, count, 5000):
            requests = [
                CommitRequest(f"{folder}/{n}.txt", manifest, now, None)
                for n in range(start, min(start + 5000, count))
            ]
            services.file_versions.commit_many(
                person, space_id=space, requests=requests, client=_CLIENT
            )
    finally:
        services.database.dispose()


def propfind_seconds(url: str, auth: tuple[str, str] | None, expected: int) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        answer = httpx.request(
            "PROPFIND",
            url,
            headers={"Depth": "1", "Content-Type": "application/xml"},
            content=PROPFIND_BODY,
            auth=auth,
            timeout=600,
        )
        times.append(time.perf_counter() - start)
        assert answer.status_code == 207, answer.status_code
        found = len(fromstring(answer.content).findall("{DAV:}response"))
        assert found == expected + 1, f"{found} entries, not {expected + 1}"
    return statistics.median(times)


def curl(*args: str) -> None:
    run = subprocess.run(
        ["curl", "-sS", "-f", "-o", "/dev/null", *args], capture_output=True, text=True
    )
    if run.returncode != 0:
        raise SystemExit(f"curl {args}: {run.stderr}")


def copy_and_sync(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
    os.sync()


def fetch(extra: list[str], url: str, target: Path) -> None:
    subprocess.run(["curl", "-sS", "-f", *extra, url, "-o", str(target)], check=True)


def rclone_copy(source: Path, remote_env: dict[str, str], target: str) -> float:
    env = {**os.environ, **remote_env, "RCLONE_CONFIG": "/dev/null"}

    def copy() -> None:
        subprocess.run(
            ["rclone", "copy", str(source), target, "--transfers", "8"], check=True, env=env
        )

    return timed(copy)


def remote(url: str, user: str = "", password: str = "") -> dict[str, str]:
    env = {
        "RCLONE_CONFIG_BENCH_TYPE": "webdav",
        "RCLONE_CONFIG_BENCH_URL": url,
        "RCLONE_CONFIG_BENCH_VENDOR": "other",
    }
    if user:
        obscured = subprocess.run(
            ["rclone", "obscure", password], capture_output=True, text=True, check=True
        ).stdout.strip()
        env |= {"RCLONE_CONFIG_BENCH_USER": user, "RCLONE_CONFIG_BENCH_PASS": obscured}
    return env


def row(name: str, value: float, unit: str, baseline: float | None = None, higher=True) -> None:  # type: ignore[no-untyped-def]
    ratio = ""
    if baseline:
        ratio = f"  {value / baseline:5.2f}x" if higher else f"  {baseline / value:5.2f}x faster"
    print(f"  {name:<44} {value:10.2f} {unit}{ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--no-wsgidav", action="store_true")
    options = parser.parse_args()
    for tool in ("curl", "rclone"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed (apt-get install {tool})")
    work = Path(tempfile.mkdtemp(prefix="dav-bench-", dir=options.dir))
    data_dir = work / "sfs-data"
    server = Server(data_dir)
    wsgi_root = work / "wsgidav-root"
    wsgi_root.mkdir()
    wsgidav: WsgiDav | None = None
    try:
        server.wait_until_ready()
        email, secret = account(server, data_dir)
        auth = f"{email}:{secret}"
        dav = f"{server.base_url}/dav"
        if not options.no_wsgidav:
            wsgidav = WsgiDav(work, wsgi_root)
        size = options.size_mib * MiB
        print(
            f"dav_bench: {options.size_mib} MiB file, {options.files} files, "
            f"{options.small} x 4 KiB; {os.cpu_count()} cores; in {work}"
        )

        big = work / "big.bin"
        write_random(big, size)
        expected = sha256(big)
        cp_seconds = timed(partial(copy_and_sync, big, work / "copy.bin"))
        (work / "copy.bin").unlink()
        cp_rate = size / MiB / cp_seconds
        print("big file (MB/s; ratio to cp):")
        row("cp + sync (baseline)", cp_rate, "MiB/s")
        token = rest_token(server.base_url, email)
        rest = f"{server.base_url}/api/v1/spaces/me/content?path=/big-rest.bin"
        targets: list[tuple[str, str, list[str]]] = [
            ("sfs REST API", rest, ["-H", f"Authorization: Bearer {token}"]),
            ("sfs WebDAV", f"{dav}/big.bin", ["-u", auth]),
        ]
        if wsgidav:
            targets.append(("WsgiDAV", f"{wsgidav.url}/big.bin", []))
        for name, url, extra in targets:
            put = timed(partial(curl, *extra, "-T", str(big), url))
            row(f"{name} PUT (curl -T)", size / MiB / put, "MiB/s", cp_rate)
            back = work / f"back-{name.replace(' ', '-')}.bin"
            get = timed(partial(fetch, extra, url, back))
            assert sha256(back) == expected, f"{name} gave back other bytes"
            back.unlink()
            row(f"{name} GET (curl -o)", size / MiB / get, "MiB/s", cp_rate)
        big.unlink()

        print(f"PROPFIND Depth: 1 of a folder of {options.files} files (s, median of 3):")
        fill_sfs_folder(data_dir, email, "/many", options.files)
        ours = propfind_seconds(f"{dav}/many/", (email, secret), options.files)
        row("sfs", ours, "s")
        if wsgidav:
            many = wsgi_root / "many"
            many.mkdir()
            payload = os.urandom(4096)
            for n in range(options.files):
                (many / f"{n}.txt").write_bytes(payload)
            theirs = propfind_seconds(f"{wsgidav.url}/many/", None, options.files)
            row("WsgiDAV", theirs, "s")
            print(f"  sfs / WsgiDAV time: {ours / theirs:.2f}")

        print(f"rclone copy of {options.small} x 4 KiB files, --transfers 8 (files/s):")
        small = work / "small"
        small.mkdir()
        for n in range(options.small):
            (small / f"f{n:04d}.bin").write_bytes(os.urandom(4096))
        ours_s = rclone_copy(small, remote(f"{dav}/", email, secret), "bench:small")
        row("sfs", options.small / ours_s, "files/s")
        if wsgidav:
            theirs_s = rclone_copy(small, remote(f"{wsgidav.url}/"), "bench:small")
            row("WsgiDAV", options.small / theirs_s, "files/s", options.small / theirs_s)
            print(f"  sfs / WsgiDAV rate: {theirs_s / ours_s:.2f}")
    finally:
        if wsgidav:
            wsgidav.stop()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
