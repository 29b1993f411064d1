"""Progress shown to people and scripts: a rich bar on standard error, shown only when a phase
takes more than about a second, and JSON progress events for `sfs sync --json`.

Short transfers and non-terminal output (scripts, tests, logs) stay quiet: the bar appears only
on a terminal, and only once a phase has run for `delay` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from sfs.client.printable import printable

SHOW_AFTER_SECONDS = 1.0


class TerminalProgress:
    """Implements `sfs.client.transfer.Progress` with a delayed rich bar."""

    def __init__(self, console: Console | None = None, *, delay: float = SHOW_AFTER_SECONDS):
        self._console = console or Console(stderr=True)
        self._delay = delay
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._description = ""
        self._total: int | None = None
        self._done = 0
        self._started = 0.0

    def start(self, description: str, total: int | None) -> None:
        self.finish()
        # A file name in it is shown as it is, never as rich markup or terminal escapes.
        self._description, self._total, self._done = escape(printable(description)), total, 0
        self._started = time.monotonic()

    def advance(self, amount: int) -> None:
        self._done += amount
        if self._bar is None:
            if not self._console.is_terminal:
                return
            if time.monotonic() - self._started < self._delay:
                return
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=self._console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(
                self._description, total=self._total, completed=self._done
            )
            return
        assert self._task is not None
        self._bar.update(self._task, completed=self._done)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.stop()
        self._bar = None
        self._task = None


class SyncProgressDisplay:
    """Implements `sfs.client.sync.report.PassProgress`: files and bytes, rate and time left,
    on a terminal only, and only for a pass that takes more than `delay` seconds."""

    def __init__(
        self,
        console: Console | None = None,
        *,
        delay: float = SHOW_AFTER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._console = console or Console(stderr=True)
        self._delay = delay
        self._clock = clock
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._files = (0, 0)  # done, total
        self._size = (0, 0)
        self._started = 0.0

    def begin(self, files: int, size: int) -> None:
        self.end()
        self._files, self._size, self._started = (0, files), (0, size), self._clock()

    def advance(self, *, files: int = 0, size: int = 0) -> None:
        self._files = (self._files[0] + files, self._files[1])
        self._size = (self._size[0] + size, self._size[1])
        if self._bar is None:
            if not self._console.is_terminal or not self._files[1]:
                return
            if self._clock() - self._started < self._delay:
                return
            self._bar = Progress(
                TextColumn("Syncing"),
                BarColumn(),
                TextColumn("{task.fields[files]} files"),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=self._console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("sync", total=self._size[1], files="")
        assert self._task is not None
        self._bar.update(
            self._task,
            completed=self._size[0],
            files=f"{self._files[0]:,}/{self._files[1]:,}",
        )

    def end(self) -> None:
        if self._bar is not None:
            self._bar.stop()
        self._bar = None
        self._task = None


class JsonProgress:
    """`sfs sync --json`: a progress event at most every `every` seconds, and one at the end."""

    def __init__(
        self,
        emit: Callable[[dict[str, Any]], None],
        *,
        every: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._emit = emit
        self._every = every
        self._clock = clock
        self._files = [0, 0]
        self._size = [0, 0]
        self._last = 0.0
        self._started = 0.0

    def begin(self, files: int, size: int) -> None:
        self._files, self._size = [0, files], [0, size]
        self._started = self._last = self._clock()

    def advance(self, *, files: int = 0, size: int = 0) -> None:
        self._files[0] += files
        self._size[0] += size
        if self._clock() - self._last >= self._every:
            self._send()

    def end(self) -> None:
        if self._files[1]:
            self._send()

    def _send(self) -> None:
        self._last = now = self._clock()
        elapsed = now - self._started
        rate = self._size[0] / elapsed if elapsed > 0 else 0.0
        left = (self._size[1] - self._size[0]) / rate if rate > 0 else None
        self._emit(
            {
                "event": "progress",
                "files_done": self._files[0],
                "files_total": self._files[1],
                "bytes_done": self._size[0],
                "bytes_total": self._size[1],
                "bytes_per_second": round(rate),
                "seconds_left": None if left is None else round(left, 1),
            }
        )
