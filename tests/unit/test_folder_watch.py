"""The Linux folder watcher: a change by the user wakes the loop; the client's own partial
downloads (written, then renamed into place) and its state folder do not."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sfs.client.sync.ignore import STATE_FOLDER, TEMP_PREFIX

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify")

WAIT = 10.0  # seconds at most for a wake-up that must come


class Wakes:
    def __init__(self) -> None:
        self.event = threading.Event()
        self.count = 0

    def __call__(self) -> None:
        self.count += 1
        self.event.set()

    def next(self) -> bool:
        woke = self.event.wait(WAIT)
        self.event.clear()
        return woke


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[Path, Wakes]]:
    from sfs.client.sync.inotify import watch_linux_folder

    (tmp_path / STATE_FOLDER).mkdir()
    (tmp_path / "old").mkdir()
    wakes = Wakes()
    watch = watch_linux_folder(tmp_path, wakes)
    try:
        yield tmp_path, wakes
    finally:
        watch.stop()


def test_a_user_change_wakes_the_loop_even_in_a_new_folder(watched: tuple[Path, Wakes]) -> None:
    root, wakes = watched
    (root / "a.txt").write_bytes(b"a")
    assert wakes.next()
    (root / "old" / "b.txt").write_bytes(b"b")
    assert wakes.next()
    (root / "new" / "deeper").mkdir(parents=True)
    assert wakes.next()
    (root / "new" / "deeper" / "c.txt").write_bytes(b"c")  # a folder made after the start
    assert wakes.next()
    os.rename(root / "old" / "b.txt", root / "new" / "b.txt")
    assert wakes.next()
    (root / "a.txt").unlink()
    assert wakes.next()


def test_own_partial_downloads_and_state_do_not_wake_the_loop(
    watched: tuple[Path, Wakes],
) -> None:
    root, wakes = watched
    for number in range(50):
        partial = root / "old" / f"{TEMP_PREFIX}{number}"
        partial.write_bytes(b"x" * 4096)
        os.utime(partial, (1, 1))
        os.replace(partial, root / "old" / f"file{number}")
    (root / STATE_FOLDER / "index.db").write_bytes(b"i")
    (root / STATE_FOLDER / "index.db").unlink()
    # Past the watcher's gathering of a burst (20 ms): were those events heard as changes,
    # they would have woken the loop by now. (Never a false failure when slower.)
    time.sleep(0.5)
    assert wakes.count == 0
    (root / "marker").mkdir()  # while the watcher is still listening
    assert wakes.next()


def test_a_user_rename_of_a_partial_is_not_taken_for_a_download(
    watched: tuple[Path, Wakes],
) -> None:
    root, wakes = watched
    (root / "plain").write_bytes(b"p")
    assert wakes.next()
    os.rename(root / "plain", root / f"{TEMP_PREFIX}hidden")  # gone from what is synced
    assert wakes.next()


def test_stopping_does_not_wait_for_a_wake_up_that_hangs(tmp_path: Path) -> None:
    """Ctrl-C can leave the sync loop's lock taken (raised between its acquisition and the
    `with`), and the watcher's wake-up then waits for it for ever: the client must still stop."""
    from sfs.client.sync.inotify import watch_linux_folder

    entered, release = threading.Event(), threading.Event()

    def hanging_wake_up() -> None:
        entered.set()
        release.wait()

    watch = watch_linux_folder(tmp_path, hanging_wake_up)
    try:
        (tmp_path / "a.txt").write_bytes(b"a")
        assert entered.wait(WAIT)
        stopper = threading.Thread(target=watch.stop, daemon=True)
        stopper.start()
        stopper.join(WAIT * 3)  # a bound on a hang, not a measure of speed
        assert not stopper.is_alive(), "stop() waited for the hanging wake-up"
    finally:
        release.set()
