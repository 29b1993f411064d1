"""A rich progress bar on standard error, shown only when a phase takes more than about a second.

Short transfers and non-terminal output (scripts, tests, logs) stay quiet: the bar appears only
on a terminal, and only once a phase has run for `delay` seconds.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

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
        self._description, self._total, self._done = description, total, 0
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
