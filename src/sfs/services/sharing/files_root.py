"""A member's files as one tree, the way Nextcloud clients see an account: My Files at the top,
and each team folder the member reaches as a folder of the top level, by its name.

A team folder whose name is taken at the top of My Files (compared as siblings are: case-folded
NFC) shows as "<name> (team folder)", then "(team folder 2)"… in name order, so My Files never
loses a name and the choice is the same at every request. Paths the doors take are resolved here
to a space and a path inside it; nothing is stored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sfs.domain.actor import Actor
from sfs.domain.errors import NotFound
from sfs.domain.space_roles import TEAM
from sfs.protocol.paths import join_path, name_key
from sfs.services.files.nodes import parse_path
from sfs.services.files.spaces import SpaceService, SpaceView
from sfs.services.files.tree import FileTreeService

TEAM_SUFFIX = "team folder"


@dataclass(frozen=True)
class Mount:
    name: str  # the folder's name at the top of the member's files
    space: SpaceView


@dataclass(frozen=True)
class Located:
    space: SpaceView
    path: str  # inside the space
    mount: Mount | None  # None: in My Files


@dataclass(frozen=True)
class FilesRoot:
    my_files: SpaceView
    mounts: tuple[Mount, ...]

    def locate(self, path: str) -> Located:
        """The space and inner path of a path of the member's files."""
        parts = parse_path(path)
        if parts:
            mount = self.mount_named(parts[0])
            if mount is not None:
                return Located(mount.space, join_path(parts[1:]), mount)
        return Located(self.my_files, join_path(parts), None)

    def mount_named(self, name: str) -> Mount | None:
        key = name_key(name)
        return next((mount for mount in self.mounts if name_key(mount.name) == key), None)

    def outer_path(self, space_id: uuid.UUID, inner: str) -> str | None:
        """Where a space's path shows in the member's files; None for a space not shown."""
        if space_id == self.my_files.id:
            return join_path(parse_path(inner))
        for mount in self.mounts:
            if mount.space.id == space_id:
                return join_path([mount.name, *parse_path(inner)])
        return None


class FilesRootService:
    def __init__(self, spaces: SpaceService, tree: FileTreeService) -> None:
        self._spaces = spaces
        self._tree = tree

    def root(self, actor: Actor) -> FilesRoot:
        spaces = self._spaces.list_spaces(actor)
        my_files, teams = spaces[0], [space for space in spaces[1:] if space.kind == TEAM]
        taken: set[str] = set()
        mounts: list[Mount] = []
        for team in sorted(teams, key=lambda space: (name_key(space.name), space.id)):
            name = team.name
            number = 1
            while name_key(name) in taken or self._in_my_files(actor, my_files.id, name):
                name = f"{team.name} ({TEAM_SUFFIX}{'' if number == 1 else f' {number}'})"
                number += 1
            taken.add(name_key(name))
            mounts.append(Mount(name, team))
        return FilesRoot(my_files, tuple(mounts))

    def _in_my_files(self, actor: Actor, space_id: uuid.UUID, name: str) -> bool:
        try:
            self._tree.stat(actor, space_id=space_id, path=join_path([name]))
        except NotFound:
            return False
        return True
