"""A member's files as one tree, the way Nextcloud clients see an account: My Files at the top,
then each team folder the member reaches and each folder colleagues share with them, as a folder
of the top level, by its name.

A team folder whose name is taken at the top of My Files (compared as siblings are: case-folded
NFC) shows as "<name> (team folder)", then "(team folder 2)"… in name order; a shared folder
whose name is taken by either shows as "<name> (shared)", "(shared 2)"…. So My Files never loses
a name and the choice is the same at every request. A shared single file stays under the
`spaces/<share id>` door (a mount is a folder). Paths the doors take are resolved here to a space
(a share's address for a shared folder) and a path inside it; nothing is stored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sfs.domain.actor import Actor
from sfs.domain.space_roles import SHARE, TEAM, SpaceRole
from sfs.metadata.db import Database
from sfs.metadata.file_models import Node, Space
from sfs.ports import Clock
from sfs.protocol.paths import join_path, name_key
from sfs.services.files.nodes import FOLDER, parse_path
from sfs.services.files.spaces import SpaceService, SpaceView, personal_space
from sfs.services.recently_checked import RecentlyChecked
from sfs.services.sharing.access import roles_by_space
from sfs.services.sharing.share_grants import shares_reaching

TEAM_SUFFIX = "team folder"
SHARED_SUFFIX = "shared"
# Only a new membership or share can give a root with no mounts one (a shared folder restored
# from the trash elsewhere shows within the cache's time).
_MEMBERSHIPS = ("space_members", "group_members", "node_shares")
_CHANGED = "memberships_changed"


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
    """Asked at every request of the Nextcloud door: one short transaction, whatever the
    number of team folders (one query for the names My Files holds at its top).

    A root with no mounts (the common case: nothing but My Files) is remembered for `ttl` (the
    credential cache's, 5 s by default), so a burst of small requests from one client does not
    look it up at each: only a new membership or share can change such a root, and one
    committed in this process forgets them all at once; one committed by another instance shows
    here within `ttl`. A root with team folders or shared folders is looked up every time (their
    names depend on what My Files holds at its top)."""

    def __init__(
        self, database: Database, spaces: SpaceService, clock: Clock, *, ttl: timedelta
    ) -> None:
        self._database = database
        self._spaces = spaces
        # Roots with no mounts, by (user, organisation).
        self._alone: RecentlyChecked[tuple[uuid.UUID, uuid.UUID | None], FilesRoot] = (
            RecentlyChecked(
                database, clock, ttl=ttl, watched=_MEMBERSHIPS, marker=_CHANGED, inserts=True
            )
        )

    def root(self, actor: Actor) -> FilesRoot:
        key = (actor.user_id, actor.organization_id)
        remembered = self._alone.get(key)
        if remembered is not None:
            return remembered
        generation = self._alone.generation
        found = self._looked_up(actor)
        if not found.mounts:
            self._alone.remember(key, found, generation)
        return found

    def remembered(self, actor: Actor) -> FilesRoot | None:
        """What `root` answered moments ago, without a query (None when it must look)."""
        return self._alone.get((actor.user_id, actor.organization_id))

    def _looked_up(self, actor: Actor) -> FilesRoot:
        if actor.organization_id is not None:
            with self._database.transaction() as session:
                mine = personal_space(session, actor.user_id)
                if mine is not None:  # the usual case: one transaction for the whole root
                    return _root(session, actor, mine)
        created = self._spaces.my_files(actor)  # created on first use (or refused)
        with self._database.transaction() as session:
            mine = session.get(Space, created.id)
            assert mine is not None  # my_files made it
            return _root(session, actor, mine)


def _root(session: Session, actor: Actor, my_root: Space) -> FilesRoot:
    my_files = SpaceView(
        id=my_root.id,
        name=my_root.name,
        kind=my_root.kind,
        journal_seq=my_root.journal_seq,
        role=SpaceRole.OWNER,
    )
    roles = roles_by_space(session, actor)
    teams = (
        session.scalars(
            select(Space).where(
                Space.organization_id == actor.organization_id,
                Space.kind == TEAM,
                Space.id.in_(list(roles)),
            )
        ).all()
        if roles
        else []
    )
    ordered = sorted(teams, key=lambda space: (name_key(space.name), space.id))
    shared = sorted(
        (
            scope
            for _, scope in shares_reaching(session, actor)
            if session.scalar(select(Node.kind).where(Node.id == scope.root_node_id)) == FOLDER
        ),
        key=lambda scope: (name_key(scope.name), scope.address),
    )
    room = len(ordered) + len(shared)
    wanted = {
        name_key(candidate)
        for name, suffix in [(t.name, TEAM_SUFFIX) for t in ordered]
        + [(s.name, SHARED_SUFFIX) for s in shared]
        for candidate in _candidates(name, suffix, room)
    }
    taken = set(
        session.scalars(
            select(Node.name_key).where(
                Node.parent_id == my_root.root_node_id,
                Node.deleted_at.is_(None),
                Node.name_key.in_(wanted),
            )
        )
        if wanted
        else []
    )
    mounts: list[Mount] = []
    for team in ordered:
        name = next(
            c for c in _candidates(team.name, TEAM_SUFFIX, room) if name_key(c) not in taken
        )
        taken.add(name_key(name))
        view = SpaceView(
            id=team.id,
            name=team.name,
            kind=team.kind,
            journal_seq=team.journal_seq,
            role=roles[team.id],
        )
        mounts.append(Mount(name, view))
    for scope in shared:
        name = next(
            c for c in _candidates(scope.name, SHARED_SUFFIX, room) if name_key(c) not in taken
        )
        taken.add(name_key(name))
        view = SpaceView(
            id=scope.address,
            name=scope.name,
            kind=SHARE,
            journal_seq=scope.journal_seq,
            role=scope.role,
        )
        mounts.append(Mount(name, view))

    return FilesRoot(my_files, tuple(mounts))


def _candidates(name: str, suffix: str, mounts: int) -> list[str]:
    """The names a mount may show under, in order: enough that one is always free (My Files
    can take at most one of each, the other mounts one each)."""
    return [name] + [
        f"{name} ({suffix}{'' if number == 1 else f' {number}'})" for number in range(1, mounts + 2)
    ]
