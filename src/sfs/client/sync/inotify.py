"""Linux's folder watcher: inotify read straight, to answer only "did anything here change?".

The sync loop needs no more than that (a pass scans what changed), but watchdog turns every
inotify event into Python objects and passes them through three threads. While a client
downloads 10,000 small files with its watcher running, it hears its own writes: about six events
a file (the partial download created, written, closed, its time set, renamed into place), and its
main thread waited behind those threads for the interpreter lock at every system call. Here one
thread reads the events gathered over 20 ms at once, skips the client's own (its partial
downloads; its state folder is not even watched) with a few byte comparisons each, and wakes the
loop once for all the others.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import select
import struct
import threading
from collections.abc import Callable
from pathlib import Path

from sfs.client.sync.ignore import STATE_FOLDER, TEMP_PREFIX

# From <sys/inotify.h>.
IN_MODIFY = 0x00000002
IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_ONLYDIR = 0x01000000
IN_DONT_FOLLOW = 0x02000000
IN_EXCL_UNLINK = 0x04000000
IN_ISDIR = 0x40000000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC

# What may be a change to sync. Not asked for: a file opened, read or closed unchanged (a pass
# reads every file it uploads), nor the watched folder itself moved or deleted (its parent's
# watch, or the full scan, sees that).
CHANGES = (
    IN_CREATE | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE
)
_WATCH_MASK = CHANGES | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, length of the name that follows
_BUFFER = 64 * 1024
_GATHER_SECONDS = 0.02
_STOP_WAIT_SECONDS = 2.0
_OWN_MOVES_KEPT = 4096  # cookies of our partials renamed away, kept until their other half
_STATE = os.fsencode(STATE_FOLDER)
_TEMP = os.fsencode(TEMP_PREFIX)


class FolderWatch:
    """Calls `on_change` (from a thread of its own) after changes in `root` and below, at most
    once per 20 ms; never for the client's own partial downloads being written and renamed
    into place, nor for anything in the root's state folder."""

    def __init__(self, root: Path, on_change: Callable[[], object]) -> None:
        self._root = os.fsencode(root)
        self._on_change = on_change
        self._libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        self._fd = self._libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self._fd < 0:
            number = ctypes.get_errno()
            raise OSError(number, f"inotify: {os.strerror(number)}")
        self._stop_r, self._stop_w = os.pipe()
        self._folders: dict[int, bytes] = {}  # watch descriptor → the folder it watches
        self._own_moves: set[int] = set()
        self._thread = threading.Thread(target=self._run, name="sfs-folder-watch", daemon=True)

    def start(self) -> None:
        self._watch_tree(self._root, initial=True)
        self._thread.start()

    def stop(self) -> None:
        """Ends the thread; never waits for it more than a moment. The client stops on Ctrl-C,
        which can land anywhere in the main thread, even between a lock's acquisition and the
        `with` that would release it: a thread left waiting for that lock in `on_change` must
        not hold the client up. Its descriptors then stay open until the process ends."""
        os.write(self._stop_w, b"!")
        if self._thread.is_alive():
            self._thread.join(_STOP_WAIT_SECONDS)
        if self._thread.is_alive():
            return
        for fd in (self._fd, self._stop_r, self._stop_w):
            os.close(fd)

    def _watch_tree(self, top: bytes, *, initial: bool = False) -> None:
        """Watch `top` and every folder below it (not the root's state folder, nor symlinks).
        A folder gone meanwhile is skipped; at the start, a refusal (no watches left) is raised
        rather than leaving the folder unwatched unknown to the user."""
        pending = [top]
        while pending:
            folder = pending.pop()
            wd = self._libc.inotify_add_watch(self._fd, folder, _WATCH_MASK)
            if wd < 0:
                number = ctypes.get_errno()
                if initial and number not in (errno.ENOENT, errno.ENOTDIR, errno.EACCES):
                    problem = os.strerror(number)
                    raise OSError(number, f"inotify on {os.fsdecode(folder)}: {problem}")
                continue
            self._folders[wd] = folder  # (a folder moved inside the tree keeps its wd)
            try:
                with os.scandir(folder) as entries:
                    for entry in entries:
                        if entry.is_dir(follow_symlinks=False) and not (
                            folder == self._root and entry.name == _STATE
                        ):
                            pending.append(entry.path)
            except OSError:
                continue  # gone or unreadable: its events, if any, are still heard above

    def _run(self) -> None:
        while True:
            ready, _, _ = select.select([self._fd, self._stop_r], [], [])
            if self._stop_r in ready:
                return
            # Let the events of a burst gather (the loop lets a burst settle anyway): a buffer
            # of hundreds read at once, not a wake-up of this thread, taking the interpreter
            # lock from the downloads, for each event.
            if select.select([self._stop_r], [], [], _GATHER_SECONDS)[0]:
                return
            changed = False
            while True:
                try:
                    events = os.read(self._fd, _BUFFER)
                except BlockingIOError:
                    break
                changed = self._changed(events) or changed
            if changed:
                self._on_change()

    def _changed(self, events: bytes) -> bool:
        changed = False
        offset, end = 0, len(events)
        unpack = _EVENT.unpack_from
        while offset < end:
            wd, mask, cookie, length = unpack(events, offset)
            start = offset + _EVENT.size
            offset = start + length
            name = events[start:offset].rstrip(b"\0")
            if mask & IN_IGNORED:  # the watch is gone (its folder deleted or moved out)
                self._folders.pop(wd, None)
                continue
            if mask & IN_Q_OVERFLOW:  # events were lost: watch any folder made meanwhile
                self._watch_tree(self._root)
                changed = True
                continue
            if name.startswith(_TEMP):
                if mask & IN_MOVED_FROM:
                    if len(self._own_moves) >= _OWN_MOVES_KEPT:
                        self._own_moves.clear()
                    self._own_moves.add(cookie)
                continue
            if mask & IN_MOVED_TO and cookie in self._own_moves:
                self._own_moves.discard(cookie)  # a partial download taking its place
                continue
            folder = self._folders.get(wd)
            if folder is None:
                continue
            if name == _STATE and folder == self._root:
                continue
            if mask & IN_ISDIR and mask & (IN_CREATE | IN_MOVED_TO):
                self._watch_tree(os.path.join(folder, name))
            changed = True
        return changed


def watch_linux_folder(root: Path, on_change: Callable[[], object]) -> FolderWatch:
    watch = FolderWatch(root, on_change)
    watch.start()
    return watch
