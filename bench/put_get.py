"""One file through every client path: `sfs sync --once`, `sfs put`, `sfs get` and the portal's
upload, in interleaved rounds, each next to `sfs sync` in the same round.

Run: .venv/bin/python -m bench.put_get [--size-mib 256] [--rounds 3] [--dir DIR]

Starts a real `sfs serve` (SQLite, local blob folder) on 127.0.0.1. Every upload goes to a fresh
organisation, so no upload is helped by another's chunks (dedup never crosses organisations).
Each round, in an order that turns from round to round:
- up: `sfs sync FOLDER --once` (the folder holds the file), `sfs put FILE`, and the portal's
  upload as files.js sends it (one streamed `PUT /file/upload/NAME` with the session cookie
  and CSRF token, by httpx from this process);
- down: `sfs sync EMPTY --once` and `sfs get NAME COPY`, both checked byte for byte;
- again: `sfs put` of the same file a second time (nothing changed: only the dedup question
  and the commit should cross the wire; its `bytes_sent` is printed).
Each `sfs` run is its own process, start-up included, with its peak RSS (GNU time). The table
gives the median MB/s of each path and its ratio to `sfs sync` in the same direction, as a
median of the per-round ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bench.sync_support import (
    PASSWORD,
    SFS,
    Account,
    MiB,
    Run,
    SfsServer,
    blocks,
    check_free_space,
    file_sha256,
    new_account,
    run_measured,
    sync_once,
    write_random,
)

NAME = "big.bin"


def _sfs(account: Account, *arguments: str, cwd: Path | None = None) -> Run:
    run = run_measured([SFS, *arguments], env=account.env, cwd=cwd)
    if run.returncode != 0:
        raise RuntimeError(f"sfs {' '.join(arguments)} exited {run.returncode}:\n{run.output}")
    return run


def portal_upload(server: SfsServer, account: Account, source: Path) -> float:
    """Seconds for the Files page's upload of `source` (as files.js sends it), login excluded."""
    with httpx.Client(base_url=server.base_url, timeout=600, follow_redirects=True) as browser:
        token = _csrf(browser.get("/login").text)
        answer = browser.post(
            "/login", data={"email": account.email, "password": PASSWORD, "csrf_token": token}
        )
        answer.raise_for_status()
        csrf = _csrf(browser.get("/files").text)
        start = time.perf_counter()
        answer = browser.put(
            f"/file/upload/{NAME}",
            content=blocks(source),
            headers={
                "X-CSRF-Token": csrf,
                "Content-Length": str(source.stat().st_size),
                "Content-Type": "application/octet-stream",
            },
        )
        elapsed = time.perf_counter() - start
    if answer.status_code >= 400:
        raise RuntimeError(f"portal upload answered {answer.status_code}: {answer.text}")
    return elapsed


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if match is None:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1)


class Figures:
    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = {}
        self.rss: dict[str, list[float]] = {}

    def add(self, path: str, seconds: float, rss_mib: float | None = None) -> None:
        self.seconds.setdefault(path, []).append(seconds)
        if rss_mib is not None:
            self.rss.setdefault(path, []).append(rss_mib)


def one_round(server: SfsServer, work: Path, source: Path, number: int, figures: Figures) -> None:
    size_mb = source.stat().st_size / 1e6
    expected = file_sha256(source)
    accounts: dict[str, Account] = {}

    def sync_up() -> None:
        account = accounts["sync"] = new_account(server, work, f"sync{number}")
        folder = work / f"sync-up-{number}"
        folder.mkdir()
        os.link(source, folder / NAME)
        run = sync_once(folder, account)
        assert run.summary["uploaded"] == 1, run.summary
        figures.add("sync up", run.elapsed, run.peak_rss_mib)

    def put() -> None:
        account = accounts["put"] = new_account(server, work, f"put{number}")
        run = _sfs(account, "put", str(source), f"/{NAME}", "--json")
        figures.add("put", run.elapsed, run.peak_rss_mib)
        again = _sfs(account, "put", str(source), f"/{NAME}", "--json")
        sent = json.loads(again.output[again.output.index("{") :])["bytes_sent"]
        figures.add("put again", again.elapsed, again.peak_rss_mib)
        print(f"  round {number}: put of the same file again sent {sent} chunk bytes")

    def portal() -> None:
        account = new_account(server, work, f"portal{number}")
        figures.add("portal up", portal_upload(server, account, source))

    uploads: list[Callable[[], None]] = [sync_up, put, portal]
    turn = number % len(uploads)
    for step in uploads[turn:] + uploads[:turn]:
        step()

    def sync_down() -> None:
        folder = work / f"sync-down-{number}"
        folder.mkdir()
        run = sync_once(folder, accounts["sync"])
        assert run.summary["downloaded"] == 1, run.summary
        assert file_sha256(folder / NAME) == expected, "sync downloaded other bytes"
        figures.add("sync down", run.elapsed, run.peak_rss_mib)
        (folder / NAME).unlink()

    def get() -> None:
        copy = work / f"get-{number}.bin"
        run = _sfs(accounts["put"], "get", f"/{NAME}", str(copy))
        assert file_sha256(copy) == expected, "sfs get downloaded other bytes"
        figures.add("get", run.elapsed, run.peak_rss_mib)
        copy.unlink()

    downloads = [sync_down, get]
    for step in downloads[number % 2 :] + downloads[: number % 2]:
        step()
    print(
        f"  round {number}: "
        + "  ".join(f"{k} {size_mb / v[-1]:.1f} MB/s" for k, v in figures.seconds.items())
    )


def report(figures: Figures, size_mb: float) -> None:
    baseline = {"put": "sync up", "put again": "sync up", "portal up": "sync up"}
    baseline |= {"get": "sync down", "sync up": "sync up", "sync down": "sync down"}
    print(f"\n{'path':<10} {'MB/s (median)':>14} {'ratio to sync':>14} {'peak RSS MiB':>13}")
    for path, seconds in figures.seconds.items():
        rate = size_mb / statistics.median(seconds)
        ratios = [b / s for s, b in zip(seconds, figures.seconds[baseline[path]], strict=True)]
        rss = figures.rss.get(path)
        shown = f"{max(rss):.0f}" if rss else "-"
        print(f"{path:<10} {rate:14.1f} {statistics.median(ratios):14.2f} {shown:>13}")
    print("(ratio: the path's MB/s over sync's in the same direction and round, median;")
    print(" 'put again' sends an unchanged file a second time; RSS: the largest of the rounds)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None)
    options = parser.parse_args()
    size = options.size_mib * MiB
    with tempfile.TemporaryDirectory(prefix="sfs-put-get-", dir=options.dir) as scratch:
        work = Path(scratch)
        check_free_space(work, (3 * options.rounds + 4) * size, "bench.put_get")
        source = work / NAME
        write_random(source, size)
        (work / "data").mkdir()
        server = SfsServer(work / "data")
        try:
            server.wait_until_ready()
            figures = Figures()
            print(f"{options.size_mib} MiB random file, {options.rounds} rounds")
            for number in range(options.rounds):
                one_round(server, work, source, number, figures)
            report(figures, size / 1e6)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
