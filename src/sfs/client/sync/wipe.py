"""Remote wipe, on the device: erase what the folder got from (or gave to) the server.

The server tells a wiped device so on its next call (401 `device_wiped`). The client then:

1. writes a marker in the folder's `.sfs/` (made durable) before it deletes anything, so a client
   killed half-way finishes the wipe at its next start, before doing anything else;
2. deletes every file the index records as synced, and partial downloads; folders the index
   records go too once empty. Files it never synced stay, and are named in the report;
3. reports "wiped" to the server (`POST /auth/wipe/done`; a 404 means it was reported before);
4. forgets the saved login, then removes `.sfs/` (the index, and the marker last).

A step that fails (the server away at step 3) leaves the marker: the next start goes on from
there. Nothing is followed through a symbolic link: a path whose folder became a link to
somewhere else is left alone, so a wipe never reaches outside the synced folder.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sfs.client.api import ApiError
from sfs.client.local_paths import UnsafePath, local_path
from sfs.client.sync.folder_fs import FolderFS
from sfs.client.sync.ignore import STATE_FOLDER, TEMP_PREFIX
from sfs.client.sync.index import LocalIndex
from sfs.client.sync.reconcile import FOLDER
from sfs.client.sync.remote import SyncApi

MARKER = "wipe-in-progress"
INDEX = "index.db"


@dataclass
class WipeReport:
    erased: list[str] = field(default_factory=list)  # files that came from the server
    kept: list[str] = field(default_factory=list)  # files never synced, left in place
    reported: bool = False  # the server took the confirmation (now or at an earlier start)


def wipe_started(root: Path) -> bool:
    """Whether a wipe of this folder began and has not finished."""
    return (root / STATE_FOLDER / MARKER).exists()


class RemoteWipe:
    """Erase one synced folder and its login, as the steps above say."""

    def __init__(
        self,
        root: Path,
        *,
        api: SyncApi | None,
        forget_login: Callable[[], object],
        fs: FolderFS | None = None,
    ) -> None:
        self.root = root.resolve()
        self._api = api
        self._forget_login = forget_login
        self._fs = fs or FolderFS()

    def run(self) -> WipeReport:
        self._mark()
        report = WipeReport()
        self._erase(report)
        report.kept = self._files_left()
        report.reported = self._report(len(report.kept))
        if not report.reported:
            return report  # the marker stays: the next start reports it
        self._forget_login()
        self._remove_state()
        return report

    # -- the steps ------------------------------------------------------------------------------

    def _mark(self) -> None:
        state = self.root / STATE_FOLDER
        state.mkdir(parents=True, exist_ok=True)
        marker = state / MARKER
        if marker.exists():
            return
        with open(marker, "wb") as out:
            out.write(b"a remote wipe of this folder is in progress; sfs sync finishes it\n")
            out.flush()
            os.fsync(out.fileno())
        _fsync_folder(state)

    def _erase(self, report: WipeReport) -> None:
        index_file = self.root / STATE_FOLDER / INDEX
        if not index_file.exists():
            return  # erased at an earlier start, or never synced
        index = LocalIndex(index_file)
        try:
            recorded = index.entries()
        finally:
            index.close()
        # Deepest first, so a folder is empty by the time its turn comes.
        for path in sorted(recorded, key=lambda p: p.count("/"), reverse=True):
            try:
                disk = local_path(self.root, path)
            except UnsafePath:
                continue  # never written here
            if not self._inside(disk):
                continue
            if recorded[path].kind == FOLDER:
                with contextlib.suppress(OSError):  # not empty: it holds files never synced
                    disk.rmdir()
            elif self._is_file(disk):
                self._fs.unlink(disk)
                report.erased.append(path)
        for partial in self._walk(lambda name: name.startswith(TEMP_PREFIX)):
            self._fs.unlink(partial)

    def _report(self, kept: int) -> bool:
        if self._api is None:
            return True  # the login is gone: it was reported before it was forgotten
        try:
            self._api.wipe_done(files_kept=kept)
        except ApiError as exc:
            if exc.status != 404:  # 404: a wipe already reported (by an earlier start)
                return False
        return True

    def _remove_state(self) -> None:
        state = self.root / STATE_FOLDER
        for entry in sorted(state.iterdir()) if state.exists() else []:
            if entry.name == MARKER:
                continue
            if entry.is_dir() and not entry.is_symlink():
                self._fs.remove_tree(entry)
            else:
                self._fs.unlink(entry)
        self._fs.unlink(state / MARKER)  # last: until here, the next start finishes the wipe
        with contextlib.suppress(OSError):
            state.rmdir()

    # -- helpers --------------------------------------------------------------------------------

    def _files_left(self) -> list[str]:
        return sorted(
            "/" + path.relative_to(self.root).as_posix() for path in self._walk(lambda _n: True)
        )

    def _walk(self, wanted: Callable[[str], bool]) -> list[Path]:
        """Files (and links) under the folder, outside `.sfs/`, without following links."""
        found: list[Path] = []
        for top, folders, files in os.walk(self.root):
            here = Path(top)
            if here == self.root:
                folders[:] = [name for name in folders if name != STATE_FOLDER]
            found.extend(here / name for name in files if wanted(name))
            found.extend(
                here / name for name in folders if wanted(name) and (here / name).is_symlink()
            )
        return found

    def _inside(self, disk: Path) -> bool:
        """No folder between the synced folder and `disk` is a link (to somewhere else)."""
        current = self.root
        for part in disk.relative_to(self.root).parts[:-1]:
            current = current / part
            try:
                if stat.S_ISLNK(self._fs.lstat(current).st_mode):
                    return False
            except OSError:
                return False
        return True

    def _is_file(self, disk: Path) -> bool:
        try:
            return stat.S_ISREG(self._fs.lstat(disk).st_mode)
        except OSError:
            return False


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
