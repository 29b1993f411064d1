"""Which paths sync leaves alone: `.sfsignore` (gitignore syntax) plus sensible defaults."""

from __future__ import annotations

from pathlib import Path

import pathspec

STATE_FOLDER = ".sfs"
TEMP_PREFIX = ".sfs-part-"
IGNORE_FILE = ".sfsignore"
# Office lock and temporary files, OS litter, our own state and partial downloads.
DEFAULT_PATTERNS = [
    "~$*",
    ".~lock.*#",
    ".DS_Store",
    "Thumbs.db",
    "desktop.ini",
    "*.tmp",
    f"/{STATE_FOLDER}/",
    f"{TEMP_PREFIX}*",
]


class Ignorer:
    def __init__(self, root: Path) -> None:
        lines = list(DEFAULT_PATTERNS)
        rules = root / IGNORE_FILE
        if rules.is_file():
            lines += rules.read_text(encoding="utf-8", errors="replace").splitlines()
        self._spec = pathspec.GitIgnoreSpec.from_lines(lines)

    def ignores(self, relative: str, *, is_folder: bool) -> bool:
        """`relative` as 'a/b.txt' (no leading slash); folders are matched with a trailing '/'."""
        return self._spec.match_file(relative + "/" if is_folder else relative)
