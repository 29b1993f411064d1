"""Issue 15's table in one run: sfs next to Syncthing, rsync and `cp`, in interleaved rounds,
every transfer checked by hash, with ratios between figures of the same round.

Run: .venv/bin/python -m bench.peer_table [--big-mib 1024] [--small-files 10000] [--rounds 1]
         [--baseline SRC] [--json peer_table.json] [--profile DIR] [--watch-delay 1] [--dir DIR]
         [--only small] [--edits 10]

`--baseline SRC` is the `src` folder of another checkout of sfs (`git archive REV | tar -x -C
/tmp/before`): each round then runs every sfs scenario on the baseline code and on this code in
turn (server AND clients run that code), the order alternating between rounds. Per round:

- big: a random --big-mib file up from A's folder by `sfs sync --once`, then down into B's empty
  folder (SHA-256 checked): MiB/s, the server's CPU seconds per GiB (/proc of `sfs serve`), each
  client's CPU seconds per GiB (its rusage), the downloading client's peak RSS; next to `cp FILE
  COPY && sync` and to Syncthing A → B of the same file (from the file being moved into A's
  folder and a scan asked for, until B holds it whole), with each Syncthing instance's CPU
  seconds and peak RSS (VmHWM);
- delta: 1 MiB inserted at an unaligned offset (the middle + 12,345) in that file, the whole
  A → server → B path: `sfs sync --once` in A, then in B, each through a counting relay in front
  of the server, both directions counted; next to rsync `--no-whole-file` through a counting relay
  in front of an rsync daemon that holds the previous version (A pushes, B pulls: both
  directions of both hops; one hop shown too), and to Syncthing A → B (the connection's byte
  totals from its REST API, both directions);
- small: --small-files files of 4 KiB moved into A's folder while both sfs clients run (`sfs sync
  DIR`: file watcher and long poll, as users run them), until B holds all (SHA-256 over the tree);
  next to Syncthing with both instances running and file watchers on (--watch-delay), and to
  one-shot passes (`sfs sync --once` in A, then in B); server CPU seconds of each. Then, with
  both clients still running, --edits single files of 10 kB written in A, one at a time, each
  timed until B holds it (the latency of one edit), and the passes each client ran.

`--only small` runs the small-files scenarios alone (sfs and Syncthing), a quicker loop for
work on the continuous mode; `--only big` the others.

`--profile DIR` records `sfs serve` with py-spy (collapsed stacks, `--format raw`) during the
small-files scenarios, continuous and one-shot: DIR/<code>-r<round>-{continuous,once}.txt, and
both clients in the continuous one (-continuous-client-{a,b}.txt, their logs beside them).
Every process started here is stopped on the way out, also on a failure or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path
from types import FrameType

from bench import syncthing_compare
from bench.server_throughput import Server
from bench.sync_big import insert_at
from bench.sync_loopback import CountingRelay, RsyncDaemon
from bench.sync_support import (
    SFS,
    Account,
    MiB,
    cpu_seconds,
    file_sha256,
    new_account,
    stop_process,
    sync_once,
    timed,
    tree_digest,
    wait_for,
    write_random,
    write_tree,
)

PY_SPY = str(Path(sys.executable).with_name("py-spy"))
TIMEOUT = 1800.0
PER_FOLDER = 500
Results = dict[str, dict[str, list[float]]]  # figure -> column -> one value per round


class Round:
    """One round's inputs, shared by every party: the big file, the edit, the small tree."""

    def __init__(
        self, work: Path, number: int, big_mib: int, small_files: int, only: set[str]
    ) -> None:
        self.work, self.number = work, number
        self.big = work / "original.bin"
        self.big_mib = big_mib
        self.insert = os.urandom(MiB)
        self.offset = big_mib * MiB // 2 + 12_345  # unaligned
        if "big" in only:
            write_random(self.big, big_mib * MiB)
            self.big_sha = file_sha256(self.big)
            edited = work / "edited-probe.bin"
            shutil.copyfile(self.big, edited)
            self.edit(edited)
            self.edited_sha = file_sha256(edited)
            self.edited_size = edited.stat().st_size
            edited.unlink()
        self.tree = work / "tree"
        write_tree(self.tree, small_files, 4096, per_folder=PER_FOLDER)
        self.tree_digest = tree_digest(self.tree)
        self.small_files = small_files
        os.sync()

    def edit(self, path: Path) -> None:
        """The same 1 MiB at the same offset, whoever's copy it is."""
        insert_at(path, path.with_name(path.name + ".edit"), self.offset, self.insert)

    def stage_tree(self, folder: Path) -> Path:
        """A copy of the small tree beside `folder` on the same disk, to be moved in as its
        subfolder `small` (`move_in`) in an instant."""
        staging = folder.with_name(folder.name + "-staging")
        shutil.copytree(self.tree, staging)
        return staging


def move_in(staging: Path, folder: Path, name: str = "small") -> Path:
    os.rename(staging, folder / name)
    return folder / name


def visible_files(root: Path) -> int:
    """Files at their final names (no dot names: partial downloads, Syncthing's temporaries)."""
    count = 0
    for _, folders, files in os.walk(root):
        folders[:] = [f for f in folders if not f.startswith(".")]
        count += sum(1 for name in files if not name.startswith("."))
    return count


def wait_for_tree(root: Path, expected: tuple[int, str], what: str) -> float:
    """Seconds (perf_counter) at which `root` held every file of the tree, checked by hash."""
    deadline = time.perf_counter() + TIMEOUT
    while time.perf_counter() < deadline:
        if root.is_dir() and visible_files(root) >= expected[0]:
            done = time.perf_counter()
            if tree_digest(root) == expected:
                return done
        time.sleep(0.1)  # (a file renamed in while still short of its last version: again)
    raise RuntimeError(f"timed out after {TIMEOUT:.0f} s waiting for {what}")


def wait_for_file(path: Path, size: int, what: str) -> float:
    def there() -> bool:
        try:
            return path.stat().st_size == size
        except FileNotFoundError:
            return False

    wait_for(there, TIMEOUT, what, pause=0.02)
    return time.perf_counter()


def device(account: Account, work: Path, name: str, url: str, source: Path) -> Account:
    """The same login saved for another way in (a relay), running the code under `source`."""
    config = work / f"config-{name}"
    config.mkdir()
    saved = Path(account.env["SFS_CLIENT_CONFIG_DIR"]) / "credentials.json"
    credentials = {**json.loads(saved.read_text()), "server_url": url}
    (config / "credentials.json").write_text(json.dumps(credentials))
    os.chmod(config / "credentials.json", 0o600)
    env = {**account.env, "SFS_CLIENT_CONFIG_DIR": str(config), "PYTHONPATH": str(source)}
    return replace(account, env=env)


@contextmanager
def profiled(pid: int, out: Path | None) -> Iterator[None]:
    """py-spy recording `pid` while the block runs (nothing when `out` is None)."""
    if out is None:
        yield
        return
    spy = subprocess.Popen(
        [PY_SPY, "record", "--pid", str(pid), "--rate", "100", "--format", "raw", "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1)  # attached
        yield
    finally:
        spy.send_signal(signal.SIGINT)  # py-spy writes what it sampled, then exits
        try:
            spy.wait(timeout=60)
        except subprocess.TimeoutExpired:
            stop_process(spy)


class SfsParty:
    """One code's server and its clients for one round."""

    def __init__(self, name: str, source: Path, work: Path, profile: Path | None) -> None:
        self.name, self.source, self.work = name, source, work / name
        self.work.mkdir()
        self.server = Server(name, source, self.work)
        self.profile = profile

    def account(self, name: str) -> Account:
        account = new_account(self.server, self.work, name)
        return replace(account, env={**account.env, "PYTHONPATH": str(self.source)})

    def big_and_delta(self, round_: Round, results: Results) -> None:
        mib, name = round_.big_mib, self.name
        account = self.account("big")
        a, b = self.work / "big-a", self.work / "big-b"
        a.mkdir()
        b.mkdir()
        os.link(round_.big, a / "big.bin")
        pid = self.server.process.pid
        before, client_before = cpu_seconds(pid), children_cpu_seconds()
        up = sync_once(a, account)
        assert up.summary["uploaded"] == 1 and up.summary["failed"] == 0, up.summary
        up_cpu = cpu_seconds(pid) - before
        up_client_cpu = children_cpu_seconds() - client_before
        before, client_before = cpu_seconds(pid), children_cpu_seconds()
        down = sync_once(b, account)
        down_cpu = cpu_seconds(pid) - before
        down_client_cpu = children_cpu_seconds() - client_before
        assert down.summary["downloaded"] == 1, down.summary
        assert file_sha256(b / "big.bin") == round_.big_sha, f"{name}: B's download differs"
        results["big up MiB/s"][name].append(mib / up.elapsed)
        results["big down MiB/s"][name].append(mib / down.elapsed)
        results["server CPU s per GiB up"][name].append(up_cpu * 1024 / mib)
        results["server CPU s per GiB down"][name].append(down_cpu * 1024 / mib)
        results["client CPU s per GiB up"][name].append(up_client_cpu * 1024 / mib)
        results["client CPU s per GiB down"][name].append(down_client_cpu * 1024 / mib)
        results["client peak RSS downloading MiB"][name].append(down.peak_rss_mib)
        results["client peak RSS uploading MiB"][name].append(up.peak_rss_mib)
        shutil.rmtree(a)
        shutil.rmtree(b)
        # The edit, A → server → B, each client through a relay of its own: two more folders
        # that already hold the file (a folder stays bound to the address it first synced with).
        relay_a, relay_b = CountingRelay(self.server.port), CountingRelay(self.server.port)
        try:
            via_a = device(account, self.work, "a-relay", relay_a.url, self.source)
            via_b = device(account, self.work, "b-relay", relay_b.url, self.source)
            for folder, via in ((a, via_a), (b, via_b)):
                folder.mkdir()
                os.link(round_.big, folder / "big.bin")
                held = sync_once(folder, via)
                assert held.summary["uploaded"] == held.summary["downloaded"] == 0, held.summary
            relay_a.take_both()
            relay_b.take_both()
            round_.edit(a / "big.bin")
            up = sync_once(a, via_a)
            assert up.summary["uploaded"] == 1 and up.summary["failed"] == 0, up.summary
            sent_a, received_a, _ = relay_a.take_both()
            down = sync_once(b, via_b)
            assert down.summary["downloaded"] == 1, down.summary
            sent_b, received_b, _ = relay_b.take_both()
        finally:
            relay_a.close()
            relay_b.close()
        assert file_sha256(b / "big.bin") == round_.edited_sha, f"{name}: B's edit differs"
        results["delta A→server→B bytes"][name].append(sent_a + received_a + sent_b + received_b)
        results["delta A↔server bytes"][name].append(sent_a + received_a)
        results["delta server↔B bytes"][name].append(sent_b + received_b)
        shutil.rmtree(a)
        shutil.rmtree(b)

    def small_continuous(self, round_: Round, results: Results, edits: int) -> None:
        account = self.account("cont")
        a, b = self.work / "cont-a", self.work / "cont-b"
        a.mkdir()
        b.mkdir()
        staging = round_.stage_tree(a)
        clients: list[subprocess.Popen[bytes]] = []
        logs = []
        try:
            for folder in (a, b):
                log = self.work / f"{folder.name}.log"
                logs.append(log)
                with log.open("w") as out:
                    clients.append(
                        subprocess.Popen(
                            [SFS, "sync", str(folder), "--json"],
                            env=account.env,
                            stdout=out,
                            stderr=subprocess.STDOUT,
                        )
                    )
            wait_for(
                lambda: all('"event": "pass"' in log.read_text() for log in logs),
                120,
                "both clients' first pass",
            )
            time.sleep(1)  # both back in their long polls
            out = self._profile_path(round_, "continuous")
            client_a = self._profile_path(round_, "continuous-client-a")
            client_b = self._profile_path(round_, "continuous-client-b")
            with (
                profiled(self.server.process.pid, out),
                profiled(clients[0].pid, client_a),
                profiled(clients[1].pid, client_b),
            ):
                pids = [self.server.process.pid, *(client.pid for client in clients)]
                cpu = [cpu_seconds(pid) for pid in pids]
                start = time.perf_counter()
                move_in(staging, a)
                done = wait_for_tree(
                    b / "small", round_.tree_digest, f"{self.name}: B to hold the tree"
                )
                used = [cpu_seconds(pid) - was for pid, was in zip(pids, cpu, strict=True)]
            passes = [log.read_text().count('"event": "pass"') for log in logs]
            latencies = single_edits(a, b, edits)
        finally:
            for client in clients:
                stop_process(client, grace=10)
            for log in logs if self.profile else ():  # each pass's counts, beside the profiles
                copied = self._profile_path(round_, f"continuous-{log.stem}")
                if copied is not None and log.exists():
                    shutil.copyfile(log, copied.with_suffix(".log"))
        count = round_.small_files
        results["small continuous files/s"][self.name].append(count / (done - start))
        results["small continuous server CPU s"][self.name].append(used[0])
        results["small continuous clients CPU s (A+B)"][self.name].append(used[1] + used[2])
        results["small continuous client A CPU s"][self.name].append(used[1])
        results["small continuous client B CPU s"][self.name].append(used[2])
        results["small continuous passes A"][self.name].append(passes[0])
        results["small continuous passes B"][self.name].append(passes[1])
        if latencies:
            results["single edit A → B s, median"][self.name].append(statistics.median(latencies))
            results["single edit A → B s, worst"][self.name].append(max(latencies))
        shutil.rmtree(a)
        shutil.rmtree(b)

    def small_once(self, round_: Round, results: Results) -> None:
        account = self.account("once")
        a, b = self.work / "once-a", self.work / "once-b"
        move_in(round_.stage_tree(a), _made(a))
        b.mkdir()
        pid = self.server.process.pid
        with profiled(pid, self._profile_path(round_, "once")):
            cpu, clients = cpu_seconds(pid), children_cpu_seconds()
            up = sync_once(a, account)
            down = sync_once(b, account)
            used = cpu_seconds(pid) - cpu
            clients = children_cpu_seconds() - clients
        count = round_.small_files
        assert up.summary["uploaded"] == count and up.summary["failed"] == 0, up.summary
        assert down.summary["downloaded"] == count, down.summary
        assert tree_digest(b / "small") == round_.tree_digest, f"{self.name}: B's tree differs"
        results["small one-shot files/s"][self.name].append(count / (up.elapsed + down.elapsed))
        results["small one-shot server CPU s"][self.name].append(used)
        results["small one-shot clients CPU s (A+B)"][self.name].append(clients)
        shutil.rmtree(a)
        shutil.rmtree(b)

    def _profile_path(self, round_: Round, what: str) -> Path | None:
        if self.profile is None:
            return None
        return self.profile / f"{self.name}-r{round_.number}-{what}.txt"

    def stop(self) -> None:
        self.server.stop()


def children_cpu_seconds() -> float:
    """User + system CPU of this process's children that have ended (each `sync_once`)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def single_edits(a: Path, b: Path, count: int) -> list[float]:
    """Seconds for each of `count` new 10 kB files written in A (one at a time, both clients
    running) to be whole in B."""
    latencies = []
    for n in range(count):
        name, data = f"edit-{n}.bin", os.urandom(10_000)
        start = time.perf_counter()
        (a / name).write_bytes(data)

        def arrived(target: Path = b / name, data: bytes = data) -> bool:
            try:
                return target.read_bytes() == data
            except FileNotFoundError:
                return False

        wait_for(arrived, 120, f"edit {n} to reach B", pause=0.005)
        latencies.append(time.perf_counter() - start)
        time.sleep(0.5)  # both back in their waits
    return latencies


def _made(folder: Path) -> Path:
    folder.mkdir()
    return folder


def syncthing_round(
    round_: Round, work: Path, watch_delay: float, results: Results, only: set[str]
) -> None:
    with syncthing_compare.Pair(work, watch_delay=watch_delay) as pair:
        if "big" in only:
            syncthing_big(round_, work, pair, results)
        if "small" in only:
            # The small tree with both running and watching, no scan asked for.
            staging = round_.stage_tree(pair.a.folder)
            start = time.perf_counter()
            move_in(staging, pair.a.folder)
            done = wait_for_tree(
                pair.b.folder / "small", round_.tree_digest, "Syncthing B to hold the tree"
            )
            files_per_second = round_.small_files / (done - start)
            results["small continuous files/s"]["Syncthing"].append(files_per_second)
    for folder in ("st-a", "st-b", "st-home-a", "st-home-b"):
        shutil.rmtree(work / folder, ignore_errors=True)


def syncthing_big(
    round_: Round, work: Path, pair: syncthing_compare.Pair, results: Results
) -> None:
    mib, column = round_.big_mib, "Syncthing"
    a, b = pair.a, pair.b
    staging = work / "st-big"
    staging.mkdir()
    os.link(round_.big, staging / "big.bin")
    cpu = a.cpu(), b.cpu()
    start = time.perf_counter()
    os.rename(staging / "big.bin", a.folder / "big.bin")  # the file itself, not its folder
    scanner = pair.scan_a()
    done = wait_for_file(b.folder / "big.bin", mib * MiB, "Syncthing B to hold the file")
    pair.check()
    scanner.join(timeout=60)
    used = a.cpu() - cpu[0], b.cpu() - cpu[1]
    assert file_sha256(b.folder / "big.bin") == round_.big_sha, "Syncthing B's file differs"
    results["big up MiB/s"][column].append(mib / (done - start))
    results["big down MiB/s"][column].append(mib / (done - start))
    results["Syncthing CPU s per GiB, A"][column].append(used[0] * 1024 / mib)
    results["Syncthing CPU s per GiB, B"][column].append(used[1] * 1024 / mib)
    results["Syncthing peak RSS MiB, A"][column].append(a.peak_rss_mib())
    results["Syncthing peak RSS MiB, B"][column].append(b.peak_rss_mib())
    pair.wait_idle()
    # The edit: Syncthing's own byte count of the A-B connection, both directions.
    wire = a.bytes_with(b)
    round_.edit(a.folder / "big.bin")
    scanner = pair.scan_a()
    wait_for_file(b.folder / "big.bin", round_.edited_size, "Syncthing B to get the edit")
    scanner.join(timeout=60)
    pair.check()
    pair.wait_idle()
    time.sleep(2)  # B's index update back to A
    results["delta A→server→B bytes"][column].append(a.bytes_with(b) - wire)
    assert file_sha256(b.folder / "big.bin") == round_.edited_sha, "Syncthing B's edit differs"


def rsync_round(round_: Round, work: Path, results: Results) -> None:
    """A pushes the edit to an rsync daemon holding the previous version, B pulls it."""
    daemon = RsyncDaemon(work / "rsync-module")
    relay = CountingRelay(daemon.port)
    try:
        b = _made(work / "rsync-b")
        a = _made(work / "rsync-a")
        for copy in (daemon.folder / "big.bin", b / "big.bin", a / "big.bin"):
            shutil.copyfile(round_.big, copy)
        round_.edit(a / "big.bin")
        daemon.send(a / "big.bin", "big.bin", port=relay.port)
        push = sum(relay.take_both()[:2])
        daemon.fetch("big.bin", b / "big.bin", port=relay.port)
        pull = sum(relay.take_both()[:2])
        assert file_sha256(b / "big.bin") == round_.edited_sha, "rsync B's copy differs"
        results["delta A→server→B bytes"]["rsync"].append(push + pull)
        results["delta A↔server bytes"]["rsync"].append(push)
        results["delta server↔B bytes"]["rsync"].append(pull)
    finally:
        relay.close()
        daemon.stop()
        for folder in (daemon.folder, work / "rsync-a", work / "rsync-b"):
            shutil.rmtree(folder, ignore_errors=True)


def cp_round(round_: Round, work: Path, results: Results) -> None:
    copy = work / "cp-copy.bin"
    seconds = timed(["sh", "-c", f'cp "{round_.big}" "{copy}" && sync'])
    copy.unlink()
    results["big up MiB/s"]["cp"].append(round_.big_mib / seconds)
    results["big down MiB/s"]["cp"].append(round_.big_mib / seconds)


def median(results: Results, figure: str, column: str) -> float | None:
    values = results.get(figure, {}).get(column)
    return statistics.median(values) if values else None


def table(results: Results, codes: list[str], mib: int, files: int) -> str:
    """The issue's table: each sfs code's median, the peers' medians, ratios of medians."""
    after = codes[-1]

    def m(figure: str, column: str) -> float | None:
        return median(results, figure, column)

    def num(value: float | None, digits: int = 1) -> str:
        if value is None:
            return "-"
        if abs(value) >= 100_000:
            return f"{value / 1e6:.2f} MB"
        return f"{value:,.{digits}f}"

    def ratio(top: float | None, bottom: float | None) -> str:
        return f"{top / bottom:.2f}" if top is not None and bottom else "-"

    gib = f"{mib / 1024:g} GiB" if mib >= 1024 else f"{mib} MiB"
    rows: list[tuple[str, str, str, str]] = []  # scenario, figure, peers, ratio

    def row(label: str, figure: str, peers: str, versus: str) -> None:
        rows.append((label, figure, peers, versus))

    st, cp = "Syncthing", "cp"
    up, st_rate, cp_rate = m("big up MiB/s", after), m("big up MiB/s", st), m("big up MiB/s", cp)
    row(
        f"{gib} upload, MiB/s",
        "big up MiB/s",
        f"Syncthing A→B {num(st_rate)}; cp {num(cp_rate)}",
        f"{ratio(up, st_rate)} ({ratio(up, cp_rate)}x cp)",
    )
    down = m("big down MiB/s", after)
    row(
        f"{gib} download, MiB/s",
        "big down MiB/s",
        f"Syncthing {num(st_rate)}",
        ratio(down, st_rate),
    )
    cpu, st_a, st_b = (
        m("server CPU s per GiB up", after),
        m("Syncthing CPU s per GiB, A", st),
        m("Syncthing CPU s per GiB, B", st),
    )
    row(
        "server CPU per GiB uploaded, s",
        "server CPU s per GiB up",
        f"Syncthing {num(st_a)} (A), {num(st_b)} (B) per side",
        f"{ratio(cpu, st_a)} (vs A)",
    )
    row("server CPU per GiB downloaded, s", "server CPU s per GiB down", "", "")
    row("uploading client's CPU per GiB, s", "client CPU s per GiB up", "", "")
    row("downloading client's CPU per GiB, s", "client CPU s per GiB down", "", "")
    sfs_delta = m("delta A→server→B bytes", after)
    two, one = m("delta A→server→B bytes", "rsync"), m("delta A↔server bytes", "rsync")
    row(
        "1 MiB inserted (unaligned), A → server → B, bytes both ways",
        "delta A→server→B bytes",
        f"rsync {num(two)} (A→daemon→B; one hop {num(one)}); Syncthing"
        f" {num(m('delta A→server→B bytes', st))}",
        f"{ratio(sfs_delta, two)}x rsync ({ratio(sfs_delta, one)}x one hop)",
    )
    row("  of which A ↔ server", "delta A↔server bytes", "", "")
    row("  of which server ↔ B", "delta server↔B bytes", "", "")
    cont, once = m("small continuous files/s", after), m("small one-shot files/s", after)
    st_small = m("small continuous files/s", st)
    row(
        f"{files:,} x 4 KiB, A → B, both clients running, files/s",
        "small continuous files/s",
        f"Syncthing (watchers on) {num(st_small, digits=0)}",
        f"{ratio(cont, st_small)} (one-shot: {ratio(once, st_small)})",
    )
    row(
        f"{files:,} x 4 KiB, one-shot passes (A up, B down), files/s",
        "small one-shot files/s",
        "",
        f"continuous / one-shot {ratio(cont, once)}",
    )
    server_cont = m("small continuous server CPU s", after)
    server_once = m("small one-shot server CPU s", after)
    row(
        f"server CPU for the {files:,} files, continuous, s",
        "small continuous server CPU s",
        "",
        f"{ratio(server_cont, server_once)}x one-shot",
    )
    row(f"server CPU for the {files:,} files, one-shot, s", "small one-shot server CPU s", "", "")
    row("clients' CPU (A+B), continuous, s", "small continuous clients CPU s (A+B)", "", "")
    row("  of which A", "small continuous client A CPU s", "", "")
    row("  of which B", "small continuous client B CPU s", "", "")
    row("clients' CPU (A+B), one-shot, s", "small one-shot clients CPU s (A+B)", "", "")
    row("passes run for the files, continuous: A", "small continuous passes A", "", "")
    row("passes run for the files, continuous: B", "small continuous passes B", "", "")
    row("one file written in A until whole in B, median s", "single edit A → B s, median", "", "")
    row("one file written in A until whole in B, worst s", "single edit A → B s, worst", "", "")
    rss = m("client peak RSS downloading MiB", after)
    row(
        f"client peak RSS downloading {gib}, MiB",
        "client peak RSS downloading MiB",
        f"Syncthing {num(m('Syncthing peak RSS MiB, A', st), digits=0)} (A),"
        f" {num(m('Syncthing peak RSS MiB, B', st), digits=0)} (B)",
        f"{ratio(rss, m('Syncthing peak RSS MiB, B', st))} (vs B)",
    )
    heads = [f"sfs {code}" for code in codes]
    lines = [
        "| scenario | "
        + " | ".join(heads)
        + (" | after/before" if len(codes) > 1 else "")
        + " | peer, same rounds | ratio (sfs "
        + after
        + ") |",
        "|---|" + "---|" * (len(codes) + (len(codes) > 1) + 2),
    ]
    for label, figure, peers, versus in rows:
        values = [m(figure, code) for code in codes]
        if all(value is None for value in values) and not peers:
            continue  # a scenario left out (--only)
        digits = 0 if "bytes" in figure or "files/s" in figure or "passes" in figure else 1
        digits = 2 if "single edit" in figure else digits
        cells = [num(value, digits=digits) for value in values]
        if len(codes) > 1:
            cells.append(ratio(values[-1], values[0]))
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {peers} | {versus} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", type=Path, help="the src folder of the sfs to compare")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--big-mib", type=int, default=1024)
    parser.add_argument("--small-files", type=int, default=10_000)
    parser.add_argument("--watch-delay", type=float, default=1.0, help="Syncthing's, seconds")
    parser.add_argument("--json", type=Path, default=Path("peer_table.json"))
    parser.add_argument("--profile", type=Path, help="py-spy profiles of the small scenarios")
    parser.add_argument("--no-syncthing", action="store_true")
    parser.add_argument("--dir", type=Path, default=None, help="parent of the work folder")
    parser.add_argument("--only", choices=["big", "small"], help="one half of the scenarios")
    parser.add_argument("--edits", type=int, default=10, help="single edits timed A → B")
    options = parser.parse_args()
    options.only = {options.only} if options.only else {"big", "small"}
    if not options.no_syncthing and syncthing_compare.binary() is None:
        raise SystemExit("syncthing is not installed (or pass --no-syncthing)")
    if options.profile:
        options.profile.mkdir(parents=True, exist_ok=True)

    def on_sigterm(_signal: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signal.SIGTERM)  # so every `finally` below runs

    signal.signal(signal.SIGTERM, on_sigterm)
    current = Path(__file__).resolve().parent.parent / "src"
    codes: list[tuple[str, Path]] = [("before", options.baseline)] if options.baseline else []
    codes.append(("after" if options.baseline else "current", current))
    names = [name for name, _ in codes]
    results: Results = defaultdict(lambda: defaultdict(list))
    work = Path(tempfile.mkdtemp(prefix="sfs-peer-table-", dir=options.dir))
    began = time.perf_counter()
    print(f"peer_table: {options.rounds} round(s) of {names} and peers, in {work}", flush=True)
    try:
        for number in range(options.rounds):
            round_work = work / f"r{number}"
            round_work.mkdir()
            round_ = Round(round_work, number, options.big_mib, options.small_files, options.only)
            order = codes if number % 2 == 0 else list(reversed(codes))
            steps: list[tuple[str, Callable[[], None]]] = [
                (f"sfs {name}", partial(sfs_round, name, source, round_, options, results))
                for name, source in order
            ]
            if not options.no_syncthing:
                watch = options.watch_delay
                steps.append(
                    (
                        "Syncthing",
                        partial(syncthing_round, round_, round_work, watch, results, options.only),
                    )
                )
            if "big" in options.only:
                steps.append(("rsync", partial(rsync_round, round_, round_work, results)))
                steps.append(("cp", partial(cp_round, round_, round_work, results)))
            for label, step in steps:
                load = " ".join(f"{figure:.1f}" for figure in os.getloadavg())
                print(f"round {number + 1}: {label} (load {load})", flush=True)
                step()
            shutil.rmtree(round_work)
        markdown = table(results, names, options.big_mib, options.small_files)
        print(f"\n{markdown}\n\n({time.perf_counter() - began:.0f} s in all)")
        options.json.write_text(
            json.dumps(
                {
                    "command": sys.argv,
                    "rounds": options.rounds,
                    "big_mib": options.big_mib,
                    "small_files": options.small_files,
                    "syncthing": syncthing_compare.version(),
                    "results": results,
                    "medians": {
                        figure: {column: statistics.median(v) for column, v in by.items()}
                        for figure, by in results.items()
                    },
                    "table": markdown,
                },
                indent=2,
            )
        )
        print(f"JSON: {options.json}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def sfs_round(
    name: str, source: Path, round_: Round, options: argparse.Namespace, results: Results
) -> None:
    party = SfsParty(name, source, round_.work, options.profile)
    try:
        if "big" in options.only:
            party.big_and_delta(round_, results)
        if "small" in options.only:
            party.small_continuous(round_, results, options.edits)
            party.small_once(round_, results)
    finally:
        party.stop()
    shutil.rmtree(party.work, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
