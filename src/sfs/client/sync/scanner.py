"""Reading the folder's state: paths, kinds, sizes, mtimes and inodes. No hashing here."""

from __future__ import annotations

import os
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from sfs.client.sync.ignore import TEMP_PREFIX, Ignorer
from sfs.client.sync.reconcile import FILE, FOLDER, LocalEntry


@dataclass
class Scan:
    entries: dict[str, LocalEntry] = field(default_factory=dict)
    # Paths on disk by their server path, when they differ (macOS hands out NFD names).
    disk_names: dict[str, str] = field(default_factory=dict)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    # Partial downloads an interrupted pass left behind (deleted before the next one).
    leftovers: list[Path] = field(default_factory=list)


def scan(root: Path, ignorer: Ignorer) -> Scan:
    """Walk the folder; symlinks and special files are reported, never followed."""
    result = Scan()
    pending = [("", root)]
    while pending:
        relative_dir, directory = pending.pop()
        try:
            items = list(os.scandir(directory))
        except OSError as exc:
            result.warnings.append(("/" + relative_dir, f"cannot read the folder: {exc.strerror}"))
            continue
        for item in items:
            name = unicodedata.normalize("NFC", item.name)
            relative = f"{relative_dir}/{name}" if relative_dir else name
            path = "/" + relative
            try:
                info = item.stat(follow_symlinks=False)
            except OSError as exc:
                result.warnings.append((path, f"cannot read: {exc.strerror}"))
                continue
            if stat.S_ISLNK(info.st_mode):
                if not ignorer.ignores(relative, is_folder=False):
                    result.warnings.append((path, "a symbolic link: not followed, not synced"))
                continue
            is_folder = stat.S_ISDIR(info.st_mode)
            if item.name.startswith(TEMP_PREFIX) and stat.S_ISREG(info.st_mode):
                result.leftovers.append(Path(item.path))
                continue
            if ignorer.ignores(relative, is_folder=is_folder):
                continue
            if name != item.name:
                result.disk_names[path] = (
                    relative_dir and f"{relative_dir}/{item.name}"
                ) or item.name
            if is_folder:
                result.entries[path] = LocalEntry(FOLDER, 0, 0, info.st_ino)
                pending.append((relative, Path(item.path)))
            elif stat.S_ISREG(info.st_mode):
                result.entries[path] = LocalEntry(FILE, info.st_size, info.st_mtime_ns, info.st_ino)
            else:
                result.warnings.append((path, "not a regular file: not synced"))
    return result
