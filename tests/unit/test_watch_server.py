"""The server watcher of `sfs sync DIR` (`watch_server`): once it has woken the sync loop it
asks the change feed again only after a pass begun after that wake-up, from where that pass read
up to, instead of once for every further change while the pass runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sfs.client.sync.remote import SyncApi
from sfs.client.sync.watch import Wakeup, watch_server

PATIENCE = 10.0  # seconds: a bound on waiting for the watcher thread, never a measurement


class FakeFeed:
    """The long poll as the server answers it with `limit=1`: the first change after the
    cursor when there is one, else (after waiting until told to stop) the cursor itself."""

    def __init__(self, head: int) -> None:
        self.head = head
        self.asked: list[int] = []
        self._lock = threading.Lock()
        self.released = threading.Event()

    def wait_for_changes(self, cursor: int, *, wait: float) -> int:
        with self._lock:
            self.asked.append(cursor)
            if self.head > cursor:
                return cursor + 1
        self.released.wait(wait)
        return cursor

    def close(self) -> None:
        pass

    def calls(self) -> list[int]:
        with self._lock:
            return list(self.asked)


def _until(what: str, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.01)


def _start(feed: FakeFeed, cursor: list[int], wakeup: Wakeup) -> threading.Thread:
    def connect() -> SyncApi:
        return feed  # type: ignore[return-value]  # the two calls the watcher makes

    return watch_server(connect, cursor, wakeup)


def _one_pass(wakeup: Wakeup, cursor: list[int], read_up_to: int) -> None:
    """What the loop of `sfs sync` does around a pass that read the feed up to `read_up_to`."""
    wakeup.pass_begins()
    cursor[0] = read_up_to
    wakeup.pass_ended()


def test_after_waking_the_loop_it_asks_again_from_where_the_next_pass_read_up_to() -> None:
    feed, cursor, wakeup = FakeFeed(head=500), [0], Wakeup()
    thread = _start(feed, cursor, wakeup)
    try:
        wakeup.wait(PATIENCE)  # woken: change 1 of 500 is news
        assert feed.calls() == [0]
        _one_pass(wakeup, cursor, read_up_to=500)
        _until("the watcher asks from the pass's cursor", lambda: len(feed.calls()) == 2)
        assert feed.calls() == [0, 500]  # not 1, 2, ... 499: a request per change
    finally:
        wakeup.stopping = True
        feed.released.set()
        thread.join(PATIENCE)
    assert not thread.is_alive()


def test_a_pass_begun_before_the_wake_up_does_not_release_the_watcher() -> None:
    feed, cursor, wakeup = FakeFeed(head=0), [0], Wakeup()
    wakeup.pass_begins()  # a pass reading the feed before the change below
    feed.head = 1
    thread = _start(feed, cursor, wakeup)
    try:
        _until("the watcher hears of the change", lambda: feed.calls() == [0])
        cursor[0] = 0  # that pass read nothing new
        wakeup.pass_ended()
        wakeup.wait(PATIENCE)  # the wake-up for the change is still there for the next pass
        time.sleep(0.2)  # (give a wrong watcher the chance to ask again)
        assert feed.calls() == [0]
        _one_pass(wakeup, cursor, read_up_to=1)
        _until("the watcher asks again", lambda: len(feed.calls()) == 2)
        assert feed.calls() == [0, 1]
    finally:
        wakeup.stopping = True
        feed.released.set()
        thread.join(PATIENCE)
    assert not thread.is_alive()


def test_stopping_ends_a_watcher_waiting_for_a_pass() -> None:
    feed, cursor, wakeup = FakeFeed(head=3), [0], Wakeup()
    thread = _start(feed, cursor, wakeup)
    _until("the watcher hears of the change", lambda: feed.calls() == [0])
    wakeup.stopping = True
    thread.join(PATIENCE)
    assert not thread.is_alive()
    assert feed.calls() == [0]
