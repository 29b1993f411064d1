"""What one addressable unit of files is: a whole space, or a shared subtree of one.

Every files service takes a space reference and works inside a `SpaceScope`. For a space the
scope's root is the space's root; for a share it is the shared node, and paths are relative to
it: the services resolve downward from `root_node_id` only (a path cannot name `..`), so a
recipient can never name anything outside the shared node. The journal keeps whole-space paths
(`space_path` turns a scope's path into one, `scope_path` back, None when outside).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sfs.domain.space_roles import SpaceRole


@dataclass(frozen=True, slots=True)
class SpaceScope:
    id: uuid.UUID  # the space's id (tables and the journal are per space)
    organization_id: uuid.UUID
    kind: str  # the space's kind: personal | team
    name: str
    owner_user_id: uuid.UUID | None
    root_node_id: uuid.UUID
    journal_seq: int
    role: SpaceRole
    share_id: uuid.UUID | None = None  # set when the scope is a share of a subtree
    root_path: str = "/"  # the scope root's path in its space
    feed_start: int = 0  # a share's feed shows journal entries after this number only
    journal_floor: int = 0  # the lowest cursor the journal answers (raised by a restore)

    @property
    def is_share(self) -> bool:
        return self.share_id is not None

    @property
    def address(self) -> uuid.UUID:
        """The id a door names this scope by: the space's, or the share's."""
        return self.share_id or self.id

    def space_path(self, path: str) -> str:
        """'/a/b' inside the scope → its path in the whole space."""
        if self.root_path == "/":
            return path
        return self.root_path if path in ("", "/") else self.root_path + path

    def scope_path(self, space_path: str | None) -> str | None:
        """A whole-space path → its path inside the scope; None when it lies outside."""
        if space_path is None:
            return None
        if self.root_path == "/":
            return space_path
        if space_path == self.root_path:
            return "/"
        if space_path.startswith(self.root_path + "/"):
            return space_path[len(self.root_path) :]
        return None
