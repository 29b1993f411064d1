"""Sync figures against a real `sfs serve` on loopback, each next to a baseline from the same run.

Run: .venv/bin/python -m bench.sync_bench [--only small,memory,...] [--skip ...]
         [--small-files 10000] [--many-files 100000] [--big-mib 256] [--resume-mib 1024]
         [--resume-kill stored,wire,slow] [--propagation 20] [--no-syncthing] [--dir /tmp]
     the issue's figures: --big-mib 1024 (the other defaults are full size already).

Scenarios (all by default; `sfs sync DIR --once` runs as its own process, each scenario in a
fresh account so My Files starts empty):

- small: first sync of N files of 4 KiB, files/s up, then down into an empty folder (and a
  rescan), next to `rsync -a` of the same tree on the same disk, and to Syncthing syncing the
  same tree between two local instances on 127.0.0.1 (see bench.syncthing_compare; skipped,
  with a message, when `syncthing` is not installed);
- memory: peak RSS of the client syncing --many-files files of 1 KiB (100 folders) into an
  empty space, and the files/s of that sync (bench.sync_scale);
- rescan: `sfs sync --once` over those unchanged files, next to a plain walk of the tree;
- large: a --big-mib file up and down, MiB/s next to `cp` (bench.sync_big);
- delta: 1 MiB inserted, 1 MiB appended, 4 KiB overwritten in that file: bytes sent next to
  `rsync --stats --no-whole-file` to an rsync daemon on loopback;
- resume: a --resume-mib upload SIGKILLed at --resume-at of it (after a batch was stored, as a
  batch begins on loopback, as a batch begins over a throttled link: --resume-kill), then
  finished by a second pass: what went twice, in chunk bytes and on the wire;
- propagation: a file written in client A's folder until it is whole in client B's, with both
  clients running (`sfs sync`), median and worst.

Every process started (sfs serve, clients, syncthing, rsync daemon) is stopped on the way out,
also on Ctrl-C, SIGTERM or a failure.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

import sfs
from bench import syncthing_compare
from bench.sync_big import big_file, resume
from bench.sync_scale import many_files
from bench.sync_support import (
    SFS,
    Account,
    SfsServer,
    new_account,
    stop_process,
    sync_once,
    tree_digest,
    write_tree,
)

SCENARIOS = ("small", "memory", "rescan", "large", "delta", "resume", "propagation")


def _names(text: str) -> set[str]:
    names = {name.strip() for name in text.split(",") if name.strip()}
    unknown = names - set(SCENARIOS)
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown scenario(s) {', '.join(sorted(unknown))}; pick from {', '.join(SCENARIOS)}"
        )
    return names


def _kill_modes(text: str) -> list[str]:
    modes = [mode.strip() for mode in text.split(",") if mode.strip()]
    if not modes or set(modes) - {"stored", "wire", "slow"}:
        raise argparse.ArgumentTypeError("kill modes: stored, wire, slow (comma-separated)")
    return modes


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", type=_names, default=set(SCENARIOS), help="comma-separated")
    parser.add_argument("--skip", type=_names, default=set(), help="comma-separated")
    parser.add_argument("--small-files", type=int, default=10_000)
    parser.add_argument("--no-syncthing", action="store_true", help="small files: sfs only")
    parser.add_argument("--many-files", type=int, default=100_000)
    parser.add_argument("--many-size", type=int, default=1024, help="bytes per file")
    parser.add_argument("--repeat", type=int, default=3, help="rescan runs (median)")
    parser.add_argument("--big-mib", type=int, default=256)
    parser.add_argument("--resume-mib", type=int, default=1024)
    parser.add_argument("--resume-at", type=float, default=0.5, help="fraction at the kill")
    parser.add_argument(
        "--resume-kill",
        type=_kill_modes,
        default=["stored", "wire", "slow"],
        help="stored: kill when the fraction is on the server's disk (just after a batch);"
        " wire: when a batch begins after it crossed the wire; slow: the same over a throttled"
        " link (the client dies mid-batch); default all three",
    )
    parser.add_argument("--resume-slow-mib-s", type=float, default=8.0, help="for mode slow")
    parser.add_argument("--propagation", type=int, default=20)
    parser.add_argument("--dir", type=Path, default=None, help="parent of the work folder")
    args = parser.parse_args()
    chosen = args.only - args.skip

    def on_sigterm(_signal: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signal.SIGTERM)  # so every `finally` below runs

    signal.signal(signal.SIGTERM, on_sigterm)
    work = Path(tempfile.mkdtemp(prefix="sfs-bench-", dir=args.dir))
    print(f"sync_bench: {', '.join(s for s in SCENARIOS if s in chosen)} in {work}", flush=True)
    code = source_fingerprint()
    print(f"sfs source fingerprint {code}", flush=True)
    server = SfsServer(work / "sfs-data")
    try:
        server.wait_until_ready()
        for scenario in SCENARIOS:
            if scenario in chosen:
                _run_scenario(scenario, chosen, work, server, args)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    if source_fingerprint() != code:
        print(f"sfs source CHANGED during the run (now {source_fingerprint()}): figures are mixed")


def source_fingerprint() -> str:
    """SHA-256 (12 digits) over the sfs package's Python files: which code the figures are of."""
    digest = hashlib.sha256()
    package = Path(sfs.__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def _run_scenario(
    scenario: str, chosen: set[str], work: Path, server: SfsServer, args: argparse.Namespace
) -> None:
    """One scenario; memory and rescan share one tree, large and delta one file."""
    if (scenario == "rescan" and "memory" in chosen) or (scenario == "delta" and "large" in chosen):
        return  # done with its partner
    load = " ".join(f"{figure:.2f}" for figure in os.getloadavg())
    print(f"--- {scenario} (load average {load}; {os.cpu_count()} cores)", flush=True)
    if scenario == "small":
        small_files(work, server, args.small_files, syncthing=not args.no_syncthing)
    elif scenario in ("memory", "rescan"):
        many_files(
            work,
            server,
            args.many_files,
            args.many_size,
            rescan="rescan" in chosen,
            repeat=args.repeat,
        )
        shutil.rmtree(work / "many", ignore_errors=True)
    elif scenario in ("large", "delta"):
        big_file(work, server, args.big_mib, large="large" in chosen, delta="delta" in chosen)
    elif scenario == "resume":
        resume(
            work,
            server,
            args.resume_mib,
            args.resume_at,
            args.resume_kill,
            args.resume_slow_mib_s,
        )
    elif scenario == "propagation":
        propagation(work, new_account(server, work, "propagation"), args.propagation)


def small_files(work: Path, server: SfsServer, count: int, *, syncthing: bool) -> None:
    source, down = work / "small", work / "small-down"
    write_tree(source, count, 4096, per_folder=500)
    start = time.perf_counter()
    subprocess.run(["rsync", "-a", f"{source}/", f"{work / 'rsync-copy'}/"], check=True)
    rsync_rate = count / (time.perf_counter() - start)
    account = new_account(server, work, "small")
    up = sync_once(source, account)
    assert up.summary["uploaded"] == count and up.summary["failed"] == 0, up.summary
    rate = count / up.elapsed
    print(
        f"small files  {count} x 4 KiB first sync up:   sfs {rate:8.0f} files/s"
        f" ({up.elapsed:.1f} s)"
        f"   rsync -a (local) {rsync_rate:8.0f} files/s   ratio {rate / rsync_rate:.2f}"
    )
    again = sync_once(source, account)
    print(f"rescan       {count} unchanged files: {again.elapsed:.2f} s (stat only)")
    down_run = sync_once(down, account)
    assert down_run.summary["downloaded"] == count, down_run.summary
    assert tree_digest(down) == tree_digest(source), "the downloaded tree differs"
    down_rate = count / down_run.elapsed
    both = up.elapsed + down_run.elapsed
    print(
        f"small files  {count} x 4 KiB first sync down: sfs {down_rate:8.0f} files/s"
        f" ({down_run.elapsed:.1f} s); A → server → B {count / both:.0f} files/s ({both:.1f} s)"
    )
    shutil.rmtree(work / "rsync-copy")
    shutil.rmtree(down)
    if not syncthing:
        print("syncthing    comparison not asked for (--no-syncthing)")
        return
    if syncthing_compare.binary() is None:
        print(
            "syncthing    SKIPPED: no `syncthing` binary on PATH"
            " (apt-get install -y syncthing to compare)"
        )
        return
    timing = syncthing_compare.first_sync(work, source)
    st_rate = count / timing.total
    print(
        f"syncthing    {count} x 4 KiB A → B ({syncthing_compare.version().split(' (')[0]}):"
        f" {st_rate:8.0f} files/s ({timing.total:.1f} s from the files in place, A's scan"
        f" done at {timing.scan:.1f} s)"
    )
    print(
        f"             ratio sfs up / syncthing A → B {rate / st_rate:.2f};"
        f" sfs A → server → B / syncthing A → B {count / both / st_rate:.2f}"
    )
    for name in ("st-a", "st-b", "st-home-a", "st-home-b"):
        shutil.rmtree(work / name, ignore_errors=True)
    shutil.rmtree(source)


def propagation(work: Path, account: Account, rounds: int) -> None:
    a, b = work / "prop-a", work / "prop-b"
    a.mkdir()
    b.mkdir()
    clients: list[subprocess.Popen[bytes]] = []
    try:
        for folder in (a, b):
            clients.append(subprocess.Popen([SFS, "sync", str(folder), "--quiet"], env=account.env))
        time.sleep(3)  # both clients up and polling
        latencies = []
        for n in range(rounds):
            name = f"p{n}.bin"
            data = os.urandom(10_000)
            start = time.perf_counter()
            (a / name).write_bytes(data)
            deadline = start + 60
            while time.perf_counter() < deadline:
                target = b / name
                if target.exists() and target.read_bytes() == data:
                    break
                time.sleep(0.005)
            latencies.append(time.perf_counter() - start)
        median, worst = statistics.median(latencies), max(latencies)
        print("             each:", " ".join(f"{latency:.2f}" for latency in latencies))
        print(
            f"propagation  A → B over {rounds} files: median {median:.2f} s   worst {worst:.2f} s"
        )
    finally:
        for client in clients:
            stop_process(client, grace=10)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
