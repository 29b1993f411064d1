"""Waiting for the next reason to sync: a change in the folder (watchdog), a change on the
server (a long poll), or the periodic full scan that catches whatever both missed."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from sfs.client.api import ApiError
from sfs.client.sync.ignore import STATE_FOLDER, TEMP_PREFIX
from sfs.client.sync.remote import SyncApi

LONG_POLL_SECONDS = 55.0
LONG_POLL_RETRY_SECONDS = 5.0  # between tries of the long poll while the server does not answer
# The events that may be a change to sync, asked of the operating system (on Linux they are
# inotify's mask). Not asked for: a file opened or closed unchanged (a pass reads every file it
# uploads: two events each, 20,000 for 10,000 files, each handled in Python only to be dropped),
# and a folder "modified" (said of the parent again for each change inside it).
CHANGES: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    DirCreatedEvent,
    FileModifiedEvent,  # a write, or another time or mode (inotify's IN_MODIFY and IN_ATTRIB)
    FileClosedEvent,  # closed after writing
    FileMovedEvent,
    DirMovedEvent,
    FileDeletedEvent,
    DirDeletedEvent,
]


class Wakeup:
    """Set by any watcher; the sync loop waits on it with the full-scan interval as timeout.

    It also counts the loop's passes, so the server watcher can wait for a pass that began after
    it woke the loop (`pass_begins`, `pass_ended`, `wait_for_pass`)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._passes = threading.Condition()
        self._begun = 0
        self._ended = 0  # passes run one after another: the last one ended is the last begun
        self.stopping = False

    def set(self) -> int:
        """Wake the loop. Returns the passes begun so far: `wait_for_pass` takes it."""
        with self._passes:
            self._event.set()
            return self._begun

    def wait(self, timeout: float) -> None:
        self._event.wait(timeout)
        self._event.clear()

    def pass_begins(self) -> None:
        with self._passes:
            self._begun += 1

    def pass_ended(self) -> None:
        with self._passes:
            self._ended = self._begun
            self._passes.notify_all()

    def wait_for_pass(self, begun: int) -> None:
        """Until a pass begun after `set` returned `begun` has ended (or the loop stops)."""
        with self._passes:
            while self._ended <= begun and not self.stopping:
                self._passes.wait(1.0)  # (`stopping` is a plain flag: looked at every second)


class _FolderEvents(FileSystemEventHandler):
    def __init__(self, root: Path, wakeup: Wakeup) -> None:
        self._root = root
        self._wakeup = wakeup

    def on_any_event(self, event: FileSystemEvent) -> None:
        path = str(event.src_path)
        # Our own state and partial downloads are not changes to sync.
        if f"/{STATE_FOLDER}/" in path or path.endswith(f"/{STATE_FOLDER}") or TEMP_PREFIX in path:
            return
        self._wakeup.set()


class FolderWatcher(Protocol):
    def stop(self) -> None: ...


def watch_folder(root: Path, wakeup: Wakeup) -> FolderWatcher:
    """Wake the loop on changes in the folder: inotify read straight on Linux (the client's own
    downloads make about six events a file, too many for watchdog's threads, see `inotify`),
    watchdog elsewhere."""
    if sys.platform.startswith("linux"):
        from sfs.client.sync.inotify import watch_linux_folder

        return watch_linux_folder(root, wakeup.set)
    return _watch_with_watchdog(root, wakeup)


def _watch_with_watchdog(root: Path, wakeup: Wakeup) -> BaseObserver:
    observer = Observer()
    observer.schedule(_FolderEvents(root, wakeup), str(root), recursive=True, event_filter=CHANGES)
    observer.daemon = True
    observer.start()
    return observer


def watch_server(
    connect: Callable[[], SyncApi], cursor: list[int], wakeup: Wakeup
) -> threading.Thread:
    """Long-poll the server's change feed on a connection of its own. `cursor[0]` is where the
    loop's last pass read the feed up to: the loop sets it after each pass, this thread when it
    hears of a change.

    Having woken the loop, it asks again only once a pass begun after that has ended, from where
    that pass read up to. The poll asks for one change (it only needs to know there is one), so
    asking again from it would answer at once for each further change: a request and a wake-up
    per file while the pass runs, most of the server's work when 10,000 files come in."""

    def poll() -> None:
        api = connect()
        failing = False
        try:
            while not wakeup.stopping:
                asked = cursor[0]
                try:
                    # While the server is away, ask without waiting: its return is seen at once.
                    newest = api.wait_for_changes(asked, wait=0 if failing else LONG_POLL_SECONDS)
                except ApiError:
                    if not failing:
                        # A pass cut short by this counts its paths as failed and then waits
                        # for the full scan: wake the loop, which reports it and retries.
                        failing = True
                        wakeup.set()
                    time.sleep(LONG_POLL_RETRY_SECONDS)
                    continue
                if failing or newest != asked:
                    failing = False  # back again: what failed meanwhile may go through now
                    cursor[0] = newest
                    wakeup.wait_for_pass(wakeup.set())
        finally:
            api.close()

    thread = threading.Thread(target=poll, name="sfs-long-poll", daemon=True)
    thread.start()
    return thread
