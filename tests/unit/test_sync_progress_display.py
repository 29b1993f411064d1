"""The sync progress bar (terminal only, after a delay) and the JSON progress events."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from sfs.client.progress import JsonProgress, SyncProgressDisplay


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=140), out


def test_the_bar_shows_files_bytes_rate_and_time_left_once_a_pass_runs_long() -> None:
    console, out = terminal()
    clock = Clock()
    display = SyncProgressDisplay(console, delay=1.0, clock=clock)
    display.begin(files=4, size=4_000_000)
    display.advance(files=1, size=1_000_000)
    assert out.getvalue() == ""  # a short pass shows nothing
    clock.now += 1.5
    display.advance(files=1, size=1_000_000)
    display.end()
    shown = out.getvalue()
    assert "Syncing" in shown and "2/4 files" in shown
    assert "2.0/4.0 MB" in shown


def test_the_bar_stays_away_from_scripts_and_logs() -> None:
    out = io.StringIO()
    clock = Clock()
    display = SyncProgressDisplay(Console(file=out, force_terminal=False), delay=0, clock=clock)
    display.begin(files=1, size=10)
    clock.now += 5
    display.advance(files=1, size=10)
    display.end()
    assert out.getvalue() == ""


def test_json_progress_is_paced_and_ends_with_the_totals() -> None:
    events: list[dict[str, Any]] = []
    clock = Clock()
    progress = JsonProgress(events.append, every=1.0, clock=clock)
    progress.begin(files=2, size=2_000)
    progress.advance(size=500)
    assert events == []
    clock.now += 1.0
    progress.advance(files=1, size=500)
    assert events[-1] == {
        "event": "progress",
        "files_done": 1,
        "files_total": 2,
        "bytes_done": 1_000,
        "bytes_total": 2_000,
        "bytes_per_second": 1_000,
        "seconds_left": 1.0,
    }
    progress.advance(files=1, size=1_000)
    progress.end()
    assert (events[-1]["files_done"], events[-1]["bytes_done"]) == (2, 2_000)
    assert len(events) == 2


def test_json_progress_is_silent_when_there_is_nothing_to_move() -> None:
    events: list[dict[str, Any]] = []
    progress = JsonProgress(events.append, clock=Clock())
    progress.begin(files=0, size=0)
    progress.end()
    assert events == []
