"""Three-way reconciliation: what the folder and the server each did since the last sync.

Given the state both sides agreed on last time (the base, from the local index), the folder's
state now and the server's state now, decide per path what to do. Pure: no I/O, so every rule
here is tested directly. Nothing is ever lost: when both sides changed a file differently, both
are kept; a deletion never beats an edit.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

FILE = "file"
FOLDER = "folder"


@dataclass(frozen=True, slots=True)
class BaseEntry:
    """What both sides agreed a path was at the last sync."""

    kind: str
    size: int
    mtime_ns: int
    inode: int
    version: int | None  # the server's version number of a file
    etag: str | None  # the server's content digest of that version
    node_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class LocalEntry:
    kind: str
    size: int
    mtime_ns: int
    inode: int


@dataclass(frozen=True, slots=True)
class RemoteEntry:
    kind: str
    size: int
    version: int | None
    etag: str | None
    node_id: uuid.UUID


class Do(enum.Enum):
    UPLOAD = "upload"  # send the local file (base_version says what it replaces)
    DOWNLOAD = "download"  # fetch the server's file
    MAKE_REMOTE_FOLDER = "make_remote_folder"
    MAKE_LOCAL_FOLDER = "make_local_folder"
    DELETE_REMOTE = "delete_remote"  # to the server's trash
    DELETE_LOCAL = "delete_local"
    MOVE_REMOTE = "move_remote"  # a local move, sent as a move
    MOVE_LOCAL = "move_local"  # a server move, done as a rename
    CONFLICT = "conflict"  # keep both: local renamed to a conflicted copy and uploaded
    FORGET = "forget"  # gone on both sides: drop from the index
    ADOPT = "adopt"  # both sides hold the same thing already: record it


Entry = TypeVar("Entry", BaseEntry, LocalEntry, RemoteEntry)


@dataclass(frozen=True, slots=True)
class Action:
    do: Do
    path: str
    base_version: int | None = None  # for UPLOAD: the server version being replaced
    target: str | None = None  # for moves: the new path


def local_changed(base: BaseEntry | None, local: LocalEntry | None) -> bool:
    if base is None or local is None:
        return (base is None) != (local is None)
    if base.kind != local.kind:
        return True
    if local.kind == FOLDER:
        return False
    return (base.size, base.mtime_ns, base.inode) != (local.size, local.mtime_ns, local.inode)


def _remote_changed(base: BaseEntry | None, remote: RemoteEntry | None) -> bool:
    if base is None or remote is None:
        return (base is None) != (remote is None)
    if base.kind != remote.kind:
        return True
    return remote.kind == FILE and base.etag != remote.etag


def base_after_restore(
    base: Mapping[str, BaseEntry],
    local: Mapping[str, LocalEntry],
    remote: Mapping[str, RemoteEntry],
) -> dict[str, BaseEntry]:
    """The base still to be believed once the server went back in time (restored from a
    backup): only where the server holds what was agreed, or neither side holds anything.

    Elsewhere the agreement is one the server forgot: planned without a base, a file only here
    is uploaded again, one only there comes down, and one on both sides that differs is kept
    twice (a conflict). Against the forgotten base, the server's older state would instead win:
    files made since the backup deleted here, edits overwritten by the older version.
    """
    return {
        path: agreed
        for path, agreed in base.items()
        if (path in remote and not _remote_changed(agreed, remote[path]))
        or (path not in remote and path not in local)
    }


def plan(
    base: Mapping[str, BaseEntry],
    local: Mapping[str, LocalEntry],
    remote: Mapping[str, RemoteEntry],
    *,
    same_content: Mapping[str, bool] | None = None,
    moved_content: Mapping[str, str] | None = None,
) -> list[Action]:
    """The actions that make both sides identical again, parents before children.

    `same_content[path]` tells, for paths changed on both sides, whether the local file's
    content equals the server's (the engine hashes the local file only for those).
    `moved_content[new_path]` names the vanished path whose content a new local file holds
    (the engine hashes only new files of the size of one that vanished): a move that kept no
    inode, as a copy-and-delete or another file system makes.
    """
    same_content = same_content or {}
    folder_moves = _folder_moves(base, local, remote)
    if folder_moves:
        # A renamed folder goes to the server as one move; what lies inside it (kept, edited,
        # added) is reconciled at the next pass, once the index knows the new paths.
        inside = [p for m in folder_moves for p in (m.path, m.target or "")]
        rest = plan(
            _outside(base, inside),
            _outside(local, inside),
            _outside(remote, inside),
            same_content=same_content,
            moved_content=moved_content,
        )
        return [*folder_moves, *rest]
    local_moves, remote_moves = _moves(base, local, remote, moved_content or {})
    moved_away = {a.path for a in (*local_moves, *remote_moves)}
    moved_to = {a.target for a in (*local_moves, *remote_moves)}
    actions: list[Action] = []
    deleted_folders: list[Action] = []
    for path in sorted(set(base) | set(local) | set(remote)):
        if path in moved_away or path in moved_to:
            continue
        b, here, there = base.get(path), local.get(path), remote.get(path)
        action = _decide(path, b, here, there, same_content.get(path, False))
        if action is None:
            continue
        if action.do in (Do.DELETE_REMOTE, Do.DELETE_LOCAL) and b is not None and b.kind == FOLDER:
            deleted_folders.append(action)
        else:
            actions.append(action)
    # New folders first (a move may go into one), then moves, then the rest; deletions last.
    making = (Do.MAKE_LOCAL_FOLDER, Do.MAKE_REMOTE_FOLDER)
    makes = [a for a in actions if a.do in making]
    rest = [a for a in actions if a.do not in making]
    ordered = [*makes, *local_moves, *remote_moves, *rest]
    return _with_folder_deletions(deleted_folders, ordered)


def _decide(
    path: str, b: BaseEntry | None, here: LocalEntry | None, there: RemoteEntry | None, same: bool
) -> Action | None:
    changed_here, changed_there = local_changed(b, here), _remote_changed(b, there)
    if not changed_here and not changed_there:
        return None
    if changed_here and not changed_there:
        if here is None:
            return Action(Do.DELETE_REMOTE, path) if there is not None else Action(Do.FORGET, path)
        if here.kind == FOLDER:
            return Action(Do.MAKE_REMOTE_FOLDER, path) if there is None else Action(Do.ADOPT, path)
        return Action(
            Do.UPLOAD, path, base_version=there.version if there and there.kind == FILE else None
        )
    if changed_there and not changed_here:
        if there is None:
            return Action(Do.DELETE_LOCAL, path) if here is not None else Action(Do.FORGET, path)
        if there.kind == FOLDER:
            return Action(Do.MAKE_LOCAL_FOLDER, path) if here is None else Action(Do.ADOPT, path)
        return Action(Do.DOWNLOAD, path)
    # Changed on both sides.
    if here is None and there is None:
        return Action(Do.FORGET, path)
    if here is None:  # deleted here, changed there: the edit wins
        assert there is not None
        return Action(Do.MAKE_LOCAL_FOLDER if there.kind == FOLDER else Do.DOWNLOAD, path)
    if there is None:  # changed here, deleted there: the edit wins
        if here.kind == FOLDER:
            return Action(Do.MAKE_REMOTE_FOLDER, path)
        return Action(Do.UPLOAD, path, base_version=None)
    if here.kind == FOLDER and there.kind == FOLDER:
        return Action(Do.ADOPT, path)
    if here.kind == FILE and there.kind == FILE and same:
        return Action(Do.ADOPT, path)
    return Action(Do.CONFLICT, path)


def _moves(
    base: Mapping[str, BaseEntry],
    local: Mapping[str, LocalEntry],
    remote: Mapping[str, RemoteEntry],
    moved_content: Mapping[str, str],
) -> tuple[list[Action], list[Action]]:
    """Renames recognised as such: locally by inode or content, on the server by node id.

    Only clean moves count (the file unchanged, the other side untouched at both paths);
    anything murkier is left to the per-path rules, which lose nothing either.
    """
    local_moves: list[Action] = []
    remote_moves: list[Action] = []
    by_inode = {
        entry.inode: path
        for path, entry in local.items()
        if path not in base and entry.kind == FILE
    }
    by_node = {entry.node_id: path for path, entry in remote.items() if path not in base}
    by_content = {old: new for new, old in moved_content.items() if new in local}
    for path, b in base.items():
        if b.kind != FILE:
            continue
        new_local = by_inode.get(b.inode) if path not in local else None
        unchanged = False
        if new_local is not None:
            moved = local[new_local]
            unchanged = (moved.size, moved.mtime_ns) == (b.size, b.mtime_ns)
        if not unchanged and path not in local and path in by_content:
            new_local, unchanged = by_content[path], True  # its content, checked by hash
        if new_local is not None:
            r = remote.get(path)
            if (
                unchanged
                and r is not None
                and not _remote_changed(b, r)
                and new_local not in remote
            ):
                local_moves.append(Action(Do.MOVE_REMOTE, path, target=new_local))
                continue
        new_remote = by_node.get(b.node_id) if b.node_id and path not in remote else None
        if new_remote is not None:
            moved_remote = remote[new_remote]
            here = local.get(path)
            if (
                moved_remote.etag == b.etag
                and here is not None
                and not local_changed(b, here)
                and new_remote not in local
            ):
                remote_moves.append(Action(Do.MOVE_LOCAL, path, target=new_remote))
    return local_moves, remote_moves


def _folder_moves(
    base: Mapping[str, BaseEntry],
    local: Mapping[str, LocalEntry],
    remote: Mapping[str, RemoteEntry],
) -> list[Action]:
    """Folders renamed or moved here (same inode, new path), the server's copy untouched in
    place: each is one move, not a move per file inside. Outermost only."""
    new_folders = {
        entry.inode: path
        for path, entry in local.items()
        if path not in base and entry.kind == FOLDER
    }
    found: list[Action] = []
    for path, known in sorted(base.items()):
        target = new_folders.get(known.inode) if known.kind == FOLDER else None
        there = remote.get(path)
        if (
            target is None
            or path in local
            or there is None
            or there.kind != FOLDER
            or there.node_id != known.node_id
            or target in remote
            or is_within(target, path)
            or any(is_within(path, m.path) for m in found)
        ):
            continue
        found.append(Action(Do.MOVE_REMOTE, path, target=target))
    return found


def _outside(side: Mapping[str, Entry], tops: list[str]) -> dict[str, Entry]:
    return {
        path: entry for path, entry in side.items() if not any(is_within(path, top) for top in tops)
    }


def _with_folder_deletions(deletions: list[Action], others: list[Action]) -> list[Action]:
    """Delete a folder only when nothing under it is being created or kept, and then as one
    action: the deletions of what it holds go with it."""
    deleting = (Do.DELETE_REMOTE, Do.DELETE_LOCAL, Do.FORGET)
    leaving = (*deleting, Do.MOVE_LOCAL, Do.MOVE_REMOTE)  # a move's source leaves its folder
    keep = {a.path for a in others if a.do not in leaving} | {a.target for a in others if a.target}
    # Every folder above a kept path: a deletion of one of those would take the kept path along.
    holding = {ancestor for path in keep for ancestor in _ancestors(path)}
    safe = [d for d in deletions if d.path not in holding]
    # A folder deleted on one side but holding an edit from the other: the edit wins, so the
    # folder is made again where it was deleted (parents first), for the edit to land in.
    remade = [
        Action(Do.MAKE_REMOTE_FOLDER if d.do is Do.DELETE_LOCAL else Do.MAKE_LOCAL_FOLDER, d.path)
        for d in sorted(deletions, key=lambda d: d.path)
        if d.path in holding and d.do is not Do.FORGET
    ]
    safe_paths = {d.path for d in safe}
    outermost = [d for d in safe if not any(a in safe_paths for a in _ancestors(d.path))]
    outer_paths = {d.path for d in outermost}
    kept = [
        a
        for a in others
        if a.do not in deleting or not any(p in outer_paths for p in _ancestors(a.path))
    ]
    return [*remade, *kept, *outermost]


def is_within(path: str, top: str) -> bool:
    """`path` is `top` or lies below it: '/a/b' is within '/a', '/ab' is not."""
    return path == top or path.startswith(top + "/")


def _ancestors(path: str) -> list[str]:
    """'/a/b/c' → ['/a/b', '/a']."""
    found = []
    while (cut := path.rfind("/")) > 0:
        path = path[:cut]
        found.append(path)
    return found


def conflicted_copy_name(name: str, *, stamp: str, device: str) -> str:
    """'Report.odt' → 'Report (conflicted copy 2026-11-25 093000 from laptop).odt'."""
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        return f"{name} (conflicted copy {stamp} from {device})"
    return f"{stem} (conflicted copy {stamp} from {device}).{extension}"
