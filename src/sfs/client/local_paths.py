"""Where a server path lives in a local folder, proven to stay inside it, or refused.

A server is not trusted to hand out only good names: one planted in its database, or a server
that is not ours, could send `..`, `C:\\Windows\\evil.dll`, `\\\\host\\share\\x`, `CON` or
`a/../../b`. Every path the client writes (a download, a folder, a rename, a conflicted copy,
`sfs get`) goes through `local_path`, which checks each part with the name rule the server applies
(`sfs.protocol.paths.clean_name`: no separator or drive colon, no `..`, no device name, no
trailing dot or space) and then proves the joined path relative and inside the folder under
both Windows' and POSIX's rules, whatever platform this runs on.
"""

from __future__ import annotations

import ntpath
import posixpath
from pathlib import Path

from sfs.protocol.paths import BadName, clean_name


class UnsafePath(Exception):
    """A server path that cannot be written inside the folder; the message says why."""


def checked_relative(remote: str) -> str:
    """A server path ('/a/b.txt') as a relative path ('a/b.txt') that stays inside any folder
    on Windows, macOS and Linux; else UnsafePath."""
    relative = remote.removeprefix("/")
    if not relative:
        raise UnsafePath("the top folder itself is not a file or folder inside it")
    for part in relative.split("/"):
        try:
            name = clean_name(part)
        except BadName as refused:
            raise UnsafePath(f"kept on the server, not synced here: {refused}") from None
        if name != part:
            raise UnsafePath("kept on the server, not synced here: a name not in Unicode NFC form")
    # The proof, apart from the rule above: read as Windows reads it (drive letters, UNC
    # shares, backslashes) and as POSIX does, the path has no drive or root and normalises to
    # itself (no '.', '..' or empty part), so it cannot climb out of the folder.
    drive, rest = ntpath.splitdrive(relative)
    if (
        drive
        or rest.startswith(("/", "\\"))
        or ntpath.normpath(relative) != relative.replace("/", "\\")
        or posixpath.normpath(relative) != relative
        or relative.startswith("..")
    ):
        raise UnsafePath(f"kept on the server, not synced here: {remote!r} leaves the folder")
    return relative


def local_path(root: Path, remote: str) -> Path:
    """`remote` under `root`, or UnsafePath. No disk access: symbolic links inside the folder
    are the scanner's business (it never follows one, and leaves what lies below it alone)."""
    return root / checked_relative(remote)
