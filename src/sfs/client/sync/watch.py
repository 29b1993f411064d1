"""Waiting for the next reason to sync: a change in the folder (watchdog), a change on the
server (a long poll), or the periodic full scan that catches whatever both missed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import (
    EVENT_TYPE_CLOSED_NO_WRITE,
    EVENT_TYPE_OPENED,
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
# A file opened, or closed unchanged, is no change: the sync pass's own reads would otherwise
# wake it again at once.
_NOT_CHANGES = frozenset({EVENT_TYPE_OPENED, EVENT_TYPE_CLOSED_NO_WRITE})


class Wakeup:
    """Set by any watcher; the sync loop waits on it with the full-scan interval as timeout."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.stopping = False

    def set(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> None:
        self._event.wait(timeout)
        self._event.clear()


class _FolderEvents(FileSystemEventHandler):
    def __init__(self, root: Path, wakeup: Wakeup) -> None:
        self._root = root
        self._wakeup = wakeup

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in _NOT_CHANGES:
            return
        path = str(event.src_path)
        # Our own state and partial downloads are not changes to sync.
        if f"/{STATE_FOLDER}/" in path or path.endswith(f"/{STATE_FOLDER}") or TEMP_PREFIX in path:
            return
        self._wakeup.set()


def watch_folder(root: Path, wakeup: Wakeup) -> BaseObserver:
    observer = Observer()
    observer.schedule(_FolderEvents(root, wakeup), str(root), recursive=True)
    observer.daemon = True
    observer.start()
    return observer


def watch_server(
    connect: Callable[[], SyncApi], cursor: list[int], wakeup: Wakeup
) -> threading.Thread:
    """Long-poll the server's change feed on a connection of its own; `cursor[0]` is the
    engine's latest cursor."""

    def poll() -> None:
        api = connect()
        failing = False
        try:
            while not wakeup.stopping:
                try:
                    # While the server is away, ask without waiting: its return is seen at once.
                    newest = api.wait_for_changes(
                        cursor[0], wait=0 if failing else LONG_POLL_SECONDS
                    )
                except ApiError:
                    if not failing:
                        # A pass cut short by this counts its paths as failed and then waits
                        # for the full scan: wake the loop, which reports it and retries.
                        failing = True
                        wakeup.set()
                    time.sleep(LONG_POLL_RETRY_SECONDS)
                    continue
                if failing or newest != cursor[0]:
                    failing = False  # back again: what failed meanwhile may go through now
                    cursor[0] = newest
                    wakeup.set()
        finally:
            api.close()

    thread = threading.Thread(target=poll, name="sfs-long-poll", daemon=True)
    thread.start()
    return thread
