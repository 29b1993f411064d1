"""Spaces (roots of files) and their change journal; who may reach which space."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sfs.domain.actor import Actor
from sfs.domain.errors import NotFound, PermissionDenied
from sfs.domain.space_roles import PERSONAL as PERSONAL
from sfs.domain.space_roles import SHARE, TEAM, SpaceRole
from sfs.domain.space_scope import SpaceScope
from sfs.i18n import N_
from sfs.metadata.db import Database
from sfs.metadata.file_models import JournalEntry, Node, Space
from sfs.ports import Clock
from sfs.services.files.nodes import stamp_changed
from sfs.services.sharing.access import reachable_space, roles_by_space
from sfs.services.sharing.access import readable_space_ids as readable_space_ids
from sfs.services.sharing.access import writable_space as writable_space
from sfs.services.sharing.share_grants import shares_reaching

# `session.info` key: spaces whose journal grew in this unit of work (for change notification).
TOUCHED_SPACES = "touched_spaces"
MY_FILES = "My Files"


@dataclass(frozen=True)
class SpaceView:
    id: uuid.UUID
    name: str
    kind: str
    journal_seq: int
    role: SpaceRole = SpaceRole.OWNER


# Users whose My Files id is remembered (see `SpaceService.my_files_id`), before starting over.
_REMEMBERED_USERS = 100_000


class SpaceService:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock
        self._my_files_ids: dict[uuid.UUID, uuid.UUID] = {}

    def my_files_id(self, actor: Actor) -> uuid.UUID:
        """The id of the actor's My Files. A personal space keeps its id for its owner's life,
        so it is remembered: "me" in every request of a sync or WebDAV client costs no query.
        (Whoever uses the id still checks the actor may reach it, in their own transaction.)"""
        known = self._my_files_ids.get(actor.user_id)
        if known is not None:
            return known
        space_id = self.my_files(actor).id
        if len(self._my_files_ids) >= _REMEMBERED_USERS:
            self._my_files_ids.clear()
        self._my_files_ids[actor.user_id] = space_id
        return space_id

    def resolves_without_writing(self, actor: Actor, reference: str) -> bool:
        """Whether `resolve_reference` only reads: "me" creates the actor's My Files on first
        use, unless its id is remembered."""
        return reference != "me" or actor.user_id in self._my_files_ids

    def my_files(self, actor: Actor) -> SpaceView:
        """The actor's personal space, created on first use."""
        if actor.organization_id is None:
            raise PermissionDenied(N_("Provider administrators have no files."))
        with self._database.transaction() as session:
            space = personal_space(session, actor.user_id)
            if space is not None:
                return _view(space)
        try:
            with self._database.transaction() as session:
                space = create_space(
                    session,
                    organization_id=actor.organization_id,
                    owner_user_id=actor.user_id,
                    kind=PERSONAL,
                    name=MY_FILES,
                    now=self._clock.now(),
                )
                return _view(space)
        except IntegrityError:
            # Two first requests raced; the other one created it.
            with self._database.transaction() as session:
                space = personal_space(session, actor.user_id)
                assert space is not None
                return _view(space)

    def list_spaces(self, actor: Actor) -> list[SpaceView]:
        """My Files first, then the team folders the actor is a member of, by name, then what
        colleagues share with them (kind `share`, reached by the share's id), by name."""
        mine = self.my_files(actor)
        with self._database.transaction() as session:
            roles = roles_by_space(session, actor)
            teams = session.scalars(
                select(Space)
                .where(
                    Space.organization_id == actor.organization_id,
                    Space.kind == TEAM,
                    Space.id.in_(list(roles)),
                )
                .order_by(Space.name)
            ).all()
            shared = [
                SpaceView(
                    id=scope.address,
                    name=scope.name,
                    kind=SHARE,
                    journal_seq=scope.journal_seq,
                    role=scope.role,
                )
                for _, scope in shares_reaching(session, actor)
                if _is_folder(session, scope.root_node_id)  # a shared file is no space to sync
            ]
            shared.sort(key=lambda view: (view.name.casefold(), view.id))
            return [mine] + [_view(space, roles[space.id]) for space in teams] + shared

    def resolve_reference(self, actor: Actor, reference: str, *, write: bool = False) -> uuid.UUID:
        """'me' names My Files; anything else must be a space id the actor may reach (and, for
        `write`, change: a door checks before taking a body the service would refuse)."""
        if reference == "me":
            return self.my_files_id(actor)
        try:
            space_id = uuid.UUID(reference)
        except ValueError:
            raise NotFound(N_("No such space.")) from None
        with self._database.transaction() as session:
            if write:
                writable_space(session, actor, space_id)
            else:
                visible_space(session, actor, space_id)
        return space_id


def create_space(
    session: Session,
    *,
    organization_id: uuid.UUID,
    owner_user_id: uuid.UUID | None,
    kind: str,
    name: str,
    now: datetime,
) -> Space:
    space_id, root_id = uuid.uuid4(), uuid.uuid4()
    space = Space(
        id=space_id,
        organization_id=organization_id,
        kind=kind,
        owner_user_id=owner_user_id,
        name=name,
        root_node_id=root_id,
        journal_seq=0,
        created_at=now,
    )
    session.add(space)
    session.flush()
    session.add(
        Node(
            id=root_id,
            organization_id=organization_id,
            space_id=space_id,
            parent_id=None,
            name="",
            name_key="",
            kind="folder",
            size=0,
            modified_at=now,
            created_at=now,
        )
    )
    session.flush()
    return space


def visible_space(session: Session, actor: Actor, space_id: uuid.UUID) -> SpaceScope:
    """The space (or share) if the actor may read it; NotFound for anything else, other
    tenants included. Changes go through `writable_space`, which also refuses a Viewer."""
    return reachable_space(session, actor, space_id)


def lock_for_commit(session: Session, space: SpaceScope) -> None:
    """Take the space's write lock before looking at chunks, so the garbage collector cannot
    delete a chunk between this check and the commit (on SQLite this starts the write
    transaction; on PostgreSQL it locks the space row, which also orders journal numbers)."""
    session.execute(_LOCK, {"locked_space": space.id})


# On the table and built once (an ORM UPDATE works its cache key out anew at every run): it
# changes no value, so no object in the session needs synchronising.
_SPACES = cast(Table, Space.__table__)
_LOCK = (
    update(_SPACES)
    .where(_SPACES.c.id == bindparam("locked_space"))
    .values(journal_seq=_SPACES.c.journal_seq)
)


def append_journal(
    session: Session,
    space: SpaceScope,
    *,
    node: Node,
    operation: str,
    path: str,
    now: datetime,
    old_path: str | None = None,
    version_id: uuid.UUID | None = None,
    old_parent_id: uuid.UUID | None = None,
) -> int:
    """Give the change the space's next sequence number (row-locked, so without gaps), and
    stamp it on the node and the folders above it (and above its old place, after a move)."""
    session.info.setdefault(TOUCHED_SPACES, set()).add(space.id)
    seq = session.execute(
        update(Space)
        .where(Space.id == space.id)
        .values(journal_seq=Space.journal_seq + 1)
        .returning(Space.journal_seq)
    ).scalar_one()
    session.add(
        JournalEntry(
            organization_id=space.organization_id,
            space_id=space.id,
            seq=seq,
            node_id=node.id,
            operation=operation,
            kind=node.kind,
            path=space.space_path(path),  # the journal is the whole space's
            old_path=space.space_path(old_path) if old_path is not None else None,
            version_id=version_id,
            size=node.size,
            occurred_at=now,
        )
    )
    stamp_changed(session, [node.id] + ([old_parent_id] if old_parent_id else []), int(seq))
    return int(seq)


def _is_folder(session: Session, node_id: uuid.UUID) -> bool:
    node = session.get(Node, node_id)
    return node is not None and node.kind == "folder"


def personal_space(session: Session, user_id: uuid.UUID) -> Space | None:
    """The user's My Files, None until first used."""
    query = select(Space).where(Space.owner_user_id == user_id, Space.kind == PERSONAL)
    return session.scalars(query).one_or_none()


def _view(space: Space, role: SpaceRole = SpaceRole.OWNER) -> SpaceView:
    return SpaceView(
        id=space.id, name=space.name, kind=space.kind, journal_seq=space.journal_seq, role=role
    )
