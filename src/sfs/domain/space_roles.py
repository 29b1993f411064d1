"""Kinds of spaces and the roles a member holds on a team folder."""

from __future__ import annotations

from enum import StrEnum

from sfs.domain.errors import InvalidInput
from sfs.i18n import N_

PERSONAL = "personal"
TEAM = "team"
SHARE = "share"  # a file or folder a colleague shares: listed with the spaces, never stored


class SpaceRole(StrEnum):
    VIEWER = "viewer"  # reads and syncs down
    EDITOR = "editor"  # also writes
    MANAGER = "manager"  # also manages the folder's members
    OWNER = "owner"  # a user's own My Files (never stored as a membership)

    @property
    def rank(self) -> int:
        return _RANKS[self]

    @property
    def may_write(self) -> bool:
        return self.rank >= _RANKS[SpaceRole.EDITOR]

    @property
    def may_manage(self) -> bool:
        return self.rank >= _RANKS[SpaceRole.MANAGER]

    @property
    def label(self) -> str:
        return _LABELS[self]


_RANKS = {SpaceRole.VIEWER: 0, SpaceRole.EDITOR: 1, SpaceRole.MANAGER: 2, SpaceRole.OWNER: 3}
_LABELS = {
    SpaceRole.VIEWER: N_("Viewer"),
    SpaceRole.EDITOR: N_("Editor"),
    SpaceRole.MANAGER: N_("Manager"),
    SpaceRole.OWNER: N_("Owner"),
}
MEMBER_ROLES = (SpaceRole.VIEWER, SpaceRole.EDITOR, SpaceRole.MANAGER)


def parse_member_role(value: str) -> SpaceRole:
    try:
        role = SpaceRole(value.strip().lower())
    except ValueError:
        role = None
    if role not in MEMBER_ROLES:
        raise InvalidInput(N_("Role must be viewer, editor or manager."), field="role")
    return role


SHARE_ROLES = (SpaceRole.VIEWER, SpaceRole.EDITOR)


def parse_share_role(value: str) -> SpaceRole:
    """The role a share of a file or folder gives: Viewer or Editor (never Manager)."""
    try:
        role = SpaceRole(value.strip().lower())
    except ValueError:
        role = None
    if role not in SHARE_ROLES:
        raise InvalidInput(N_("Role must be viewer or editor."), field="role")
    return role
