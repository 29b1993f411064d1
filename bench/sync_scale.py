"""Many files: peak memory of the client's first sync, and the time of a rescan.

Called by `sync_bench` (scenarios `memory` and `rescan`). The tree is N files of 1 KiB, 1,000 to
a folder (100,000 files: 100 folders), uploaded by one `sfs sync --once` into an empty space.

- memory: the client's peak resident set (ru_maxrss via GNU time) during that first sync, next to
  the same client syncing an empty folder (its fixed cost: interpreter and imports) and to
  `rsync -a` copying the tree on the same disk; files/s of the first sync next to rsync's;
- rescan: `sfs sync --once` over the unchanged tree, process start included (median of
  --repeat runs), next to a Python process that walks the tree with os.scandir + stat (the
  scanner's own work and nothing else), `find DIR -type f | wc -l` and an `rsync -an` dry run
  against the copy.
"""

from __future__ import annotations

import shlex
import shutil
import statistics
import sys
from pathlib import Path

from bench.sync_support import (
    Account,
    SfsServer,
    new_account,
    run_measured,
    sync_once,
    write_tree,
)

PER_FOLDER = 1000
MEMORY_GOAL_MB = 100.0
RESCAN_GOAL_S = 10.0

WALK = """
import os, sys
files, pending = 0, [sys.argv[1]]
while pending:
    for entry in os.scandir(pending.pop()):
        entry.stat(follow_symlinks=False)
        if entry.is_dir(follow_symlinks=False):
            pending.append(entry.path)
        else:
            files += 1
print(files)
"""


def _mb(kib: int) -> float:
    return kib * 1024 / 1e6


def many_files(
    work: Path, server: SfsServer, count: int, size: int, *, rescan: bool, repeat: int
) -> None:
    folder = work / "many"
    copy = work / "many-rsync-copy"
    write_tree(folder, count, size, per_folder=PER_FOLDER)
    (work / "many-empty").mkdir()
    empty = sync_once(work / "many-empty", new_account(server, work, "many-empty"))
    rsync = run_measured(["rsync", "-a", f"{folder}/", f"{copy}/"])
    assert rsync.returncode == 0, rsync.output
    account = new_account(server, work, "many")
    first = sync_once(folder, account)
    assert first.summary["uploaded"] == count and first.summary["failed"] == 0, first.summary
    rate, rsync_rate = count / first.elapsed, count / rsync.elapsed
    print(
        f"many files   {count} x {size} B first sync: sfs {rate:8.0f} files/s"
        f" ({first.elapsed:.1f} s)"
        f"   rsync -a (local) {rsync_rate:8.0f} files/s   ratio {rate / rsync_rate:.2f}"
    )
    peak = _mb(first.peak_rss_kib)
    print(
        f"memory       client peak RSS syncing {count} files: {peak:.1f} MB"
        f" (goal ≤ {MEMORY_GOAL_MB:.0f} MB: {'met' if peak <= MEMORY_GOAL_MB else 'NOT met'})"
        f"   empty folder {_mb(empty.peak_rss_kib):.1f} MB"
        f" (ratio {first.peak_rss_kib / empty.peak_rss_kib:.2f})"
        f"   rsync -a {_mb(rsync.peak_rss_kib):.1f} MB"
    )
    if rescan:
        _rescan(folder, copy, account, count, repeat)
    shutil.rmtree(copy, ignore_errors=True)


def _rescan(folder: Path, copy: Path, account: Account, count: int, repeat: int) -> None:
    runs = [sync_once(folder, account) for _ in range(repeat)]
    for run in runs:
        changed = {k: v for k, v in run.summary.items() if k != "event" and v}
        assert not changed, f"a rescan of an unchanged tree did something: {run.summary}"
    times = [run.elapsed for run in runs]
    walk = [run_measured([sys.executable, "-c", WALK, str(folder)]) for _ in range(repeat)]
    find = [
        run_measured(["sh", "-c", f"find {shlex.quote(str(folder))} -type f | wc -l"])
        for _ in range(repeat)
    ]
    dry = [
        run_measured(["rsync", "-an", "--exclude=/.sfs", f"{folder}/", f"{copy}/"])
        for _ in range(repeat)
    ]
    seconds = statistics.median(times)
    walk_s = statistics.median(r.elapsed for r in walk)
    find_s = statistics.median(r.elapsed for r in find)
    dry_s = statistics.median(r.elapsed for r in dry)
    peaks = " ".join(f"{_mb(run.peak_rss_kib):.0f}" for run in runs)
    print(
        f"rescan       {count} unchanged files: sfs {seconds:.2f} s"
        f" (median of {repeat}: {' '.join(f'{t:.2f}' for t in times)};"
        f" goal ≤ {RESCAN_GOAL_S:.0f} s: {'met' if seconds <= RESCAN_GOAL_S else 'NOT met'};"
        f" peak RSS {peaks} MB)"
    )
    if times[0] > 1.5 * seconds:
        print(
            "             (the first rescan after the upload is the slow one: it reads the"
            " client's own commits back from the change feed, one page of 5,000 at a time)"
        )
    print(
        f"             baselines: python scandir+stat {walk_s:.2f} s (ratio {seconds / walk_s:.1f})"
        f"   find | wc -l {find_s:.2f} s (ratio {seconds / find_s:.1f})"
        f"   rsync -an {dry_s:.2f} s (ratio {seconds / dry_s:.1f})"
    )
