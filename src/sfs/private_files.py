"""The data folder is the service's alone: folders 0700, files 0600, whatever the umask.

It holds what nobody else on the machine may read: the SQLite database and its WAL (file names,
the audit log), the mail outbox (live reset links and email codes), the chunk store and the
master key. Each writer creates its files with these modes itself (an explicit `mode`, never the
umask's default), and folders and files made by an earlier version are tightened at start. The
server's commands also set the process umask to 077 (`sfs.cli.common`), for whatever a library
creates on its own; the explicit modes keep the promise where the umask is not ours to set
(tests, or the service embedded in another program).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600
SERVER_UMASK = 0o077
_OTHERS = stat.S_IRWXG | stat.S_IRWXO

# SQLite's own files beside a database: it gives them the database file's mode.
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def make_private_folder(path: Path) -> None:
    """`path` as a folder only its owner may enter (created, or tightened if it exists)."""
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    tighten(path)


def open_private(path: Path, flags: int) -> int:
    """`os.open` of a file created 0600 (the umask can only take bits away from that)."""
    return os.open(path, flags | os.O_CREAT, FILE_MODE)


def tighten(path: Path) -> None:
    """Take group and other bits off a file or folder that has any (one made before this)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    if mode & _OTHERS:
        path.chmod(stat.S_IMODE(mode) & ~_OTHERS)


def keep_sqlite_private(database: Path) -> None:
    """A SQLite database file made 0600 before SQLite opens it, so the WAL, shared-memory and
    journal files SQLite makes beside it get 0600 too; existing ones are tightened."""
    if not database.exists():
        database.parent.mkdir(parents=True, exist_ok=True)
        os.close(open_private(database, os.O_WRONLY))
    for path in (database, *(database.with_name(database.name + s) for s in SQLITE_SIDE_FILES)):
        tighten(path)
