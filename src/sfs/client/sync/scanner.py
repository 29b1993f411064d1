"""Reading the folder's state: paths, kinds, sizes, mtimes and inodes. No hashing here."""

from __future__ import annotations

import os
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from sfs.client.sync.folder_fs import FolderFS
from sfs.client.sync.ignore import TEMP_PREFIX, Ignorer
from sfs.client.sync.reconcile import FILE, FOLDER, LocalEntry, is_within
from sfs.protocol.limits import clamp_time_ns
from sfs.protocol.paths import BadName, clean_name


@dataclass
class Scan:
    entries: dict[str, LocalEntry] = field(default_factory=dict)
    # Paths on disk by their server path, when they differ (macOS hands out NFD names).
    disk_names: dict[str, str] = field(default_factory=dict)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    # Partial downloads an interrupted pass left behind (deleted before the next one).
    leftovers: list[Path] = field(default_factory=list)
    # Paths whose state could not be read (a folder refused, a file that cannot be stat'ed):
    # unknown, so neither a deletion nor a change; this pass leaves them, and what is under them,
    # alone.
    unreadable: set[str] = field(default_factory=set)
    # Entries no server can hold, by a printable form of their path, with the reason.
    refused: list[tuple[str, str]] = field(default_factory=list)

    def is_unreadable(self, path: str) -> bool:
        return bool(self.unreadable) and any(is_within(path, u) for u in self.unreadable)


def scan(root: Path, ignorer: Ignorer, fs: FolderFS | None = None) -> Scan:
    """Walk the folder; symlinks and special files are reported, never followed."""
    fs = fs or FolderFS()
    result = Scan()
    # (path on the server, path on disk, whether the two differ above this folder)
    pending = [("", root, False)]
    while pending:
        relative_dir, directory, renamed_above = pending.pop()
        try:
            names = fs.listdir(directory)
        except OSError as exc:
            if not relative_dir:
                raise  # the synced folder itself: nothing can be done this pass
            result.unreadable.add("/" + relative_dir)
            result.warnings.append(("/" + relative_dir, f"cannot read the folder: {exc.strerror}"))
            continue
        for disk_name in names:
            name = unicodedata.normalize("NFC", disk_name)
            relative = f"{relative_dir}/{name}" if relative_dir else name
            path = "/" + relative
            disk_path = directory / disk_name
            if not _is_utf8(disk_name):  # bytes from another encoding: no server path for it
                shown = os.fsencode(path).decode("utf-8", "replace")
                result.refused.append((shown, "the name is not valid UTF-8; rename it to sync it"))
                continue
            try:
                info = fs.lstat(disk_path)
            except FileNotFoundError:
                continue  # gone since the listing: the next pass sees it as deleted
            except OSError as exc:
                result.unreadable.add(path)
                result.warnings.append((path, f"cannot read: {exc.strerror}"))
                continue
            if stat.S_ISLNK(info.st_mode):
                if not ignorer.ignores(relative, is_folder=False):
                    # Left alone on both sides: a link is not the file the server may hold there.
                    result.unreadable.add(path)
                    result.warnings.append((path, "a symbolic link: not followed, not synced"))
                continue
            is_folder = stat.S_ISDIR(info.st_mode)
            if disk_name.startswith(TEMP_PREFIX) and stat.S_ISREG(info.st_mode):
                result.leftovers.append(disk_path)
                continue
            if ignorer.ignores(relative, is_folder=is_folder):
                continue
            try:
                clean_name(name)
            except BadName as refused:
                # Refused by the server too. Left alone rather than taken for deleted: a file
                # synced before the rule (or by an older client) must not vanish on the server.
                result.refused.append((path, f"{refused} Rename it to sync it."))
                result.unreadable.add(path)
                continue
            renamed = renamed_above or name != disk_name
            if renamed:
                result.disk_names[path] = disk_path.relative_to(root).as_posix()
            if is_folder:
                result.entries[path] = LocalEntry(FOLDER, 0, 0, info.st_ino)
                pending.append((relative, disk_path, renamed))
            elif stat.S_ISREG(info.st_mode):
                result.entries[path] = LocalEntry(FILE, info.st_size, mtime_ns(info), info.st_ino)
            else:
                result.warnings.append((path, "not a regular file: not synced"))
    return result


def mtime_ns(info: os.stat_result) -> int:
    """A file's mtime, brought into the window both sides hold: a file dated 2446 (ext4 stores
    that much) would not fit the index's 64-bit nanoseconds, nor be taken by the server."""
    return clamp_time_ns(info.st_mtime_ns)


def _is_utf8(name: str) -> bool:
    """Linux hands undecodable bytes over as lone surrogates; they cannot be sent as UTF-8."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
