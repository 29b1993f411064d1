"""Who may reach which space, and with which role: the one place every door's check ends in.

A user reaches their own My Files (as its owner) and the team folders of their organisation of
which they are a member, directly or through a group; the strongest of those memberships
counts. A share of a node (`share_grants.py`) is reached by its own id as a `SpaceScope` rooted
at the shared node. Anything else, other organisations' spaces included, is not found.
"""

from __future__ import annotations

import uuid
from typing import Protocol

from sqlalchemy import Select, and_, bindparam, or_, select
from sqlalchemy.orm import Session

from sfs.domain.actor import Actor
from sfs.domain.errors import NotFound, PermissionDenied
from sfs.domain.space_roles import PERSONAL, TEAM, SpaceRole
from sfs.domain.space_scope import SpaceScope
from sfs.i18n import N_
from sfs.metadata.file_models import Space
from sfs.metadata.team_models import GroupMember, SpaceMember
from sfs.services.sharing.share_grants import share_scope

READ_ONLY = "You may only read {name}: your role there is Viewer."


def _memberships(actor: Actor) -> Select[uuid.UUID, str]:
    """(space id, role) of each of the actor's memberships, direct or through a group."""
    groups = select(GroupMember.group_id).where(GroupMember.user_id == actor.user_id)
    return select(SpaceMember.space_id, SpaceMember.role).where(
        SpaceMember.organization_id == actor.organization_id,
        or_(SpaceMember.user_id == actor.user_id, SpaceMember.group_id.in_(groups)),
    )


def readable_space_ids(actor: Actor) -> Select[uuid.UUID]:
    """The spaces the actor may read, as a subquery: for spaces and for chunks alike."""
    member_of = _memberships(actor).with_only_columns(SpaceMember.space_id)
    return select(Space.id).where(
        Space.organization_id == actor.organization_id,
        or_(
            and_(Space.kind == PERSONAL, Space.owner_user_id == actor.user_id),
            and_(Space.kind == TEAM, Space.id.in_(member_of)),
        ),
    )


class SpaceFacts(Protocol):
    """What a role is decided from: a `Space`, or a row of its columns."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def organization_id(self) -> uuid.UUID: ...
    @property
    def kind(self) -> str: ...
    @property
    def owner_user_id(self) -> uuid.UUID | None: ...


def role_in(session: Session, actor: Actor, space: SpaceFacts) -> SpaceRole | None:
    """The actor's role on the space, None when they may not reach it."""
    if space.organization_id != actor.organization_id:
        return None
    if space.kind == PERSONAL:
        return SpaceRole.OWNER if space.owner_user_id == actor.user_id else None
    if space.kind != TEAM:
        return None
    roles = [
        SpaceRole(role)
        for role in session.scalars(
            _memberships(actor)
            .where(SpaceMember.space_id == space.id)
            .with_only_columns(SpaceMember.role)
        )
    ]
    return max(roles, key=lambda role: role.rank, default=None)


def roles_by_space(session: Session, actor: Actor) -> dict[uuid.UUID, SpaceRole]:
    """The actor's role on each team folder they are a member of."""
    best: dict[uuid.UUID, SpaceRole] = {}
    for row in session.execute(_memberships(actor)):
        space_id, role = row[0], SpaceRole(row[1])
        if space_id not in best or role.rank > best[space_id].rank:
            best[space_id] = role
    return best


# Columns, not an ORM object: every request of every door asks this, and loading and tracking
# a `Space` was most of what a small read cost (a prebuilt statement is not built anew either).
_SPACES = Space.__table__
_SPACE_BY_ID = select(
    _SPACES.c.id,
    _SPACES.c.organization_id,
    _SPACES.c.kind,
    _SPACES.c.name,
    _SPACES.c.owner_user_id,
    _SPACES.c.root_node_id,
    _SPACES.c.journal_seq,
    _SPACES.c.journal_floor,
).where(_SPACES.c.id == bindparam("space_id"))


def reachable_space(session: Session, actor: Actor, space_id: uuid.UUID) -> SpaceScope:
    """The space, or the share, of this id as the actor may reach it; NotFound otherwise."""
    space = session.execute(_SPACE_BY_ID, {"space_id": space_id}).one_or_none()
    if space is None:
        scope = share_scope(session, actor, space_id)
        if scope is None:
            raise NotFound(N_("No such space."))
        return scope
    role = role_in(session, actor, space)
    if role is None:
        raise NotFound(N_("No such space."))
    return whole_space(space, role)


class _WholeSpace(SpaceFacts, Protocol):
    @property
    def name(self) -> str: ...
    @property
    def root_node_id(self) -> uuid.UUID: ...
    @property
    def journal_seq(self) -> int: ...
    @property
    def journal_floor(self) -> int: ...


def whole_space(space: _WholeSpace, role: SpaceRole = SpaceRole.OWNER) -> SpaceScope:
    return SpaceScope(
        id=space.id,
        organization_id=space.organization_id,
        kind=space.kind,
        name=space.name,
        owner_user_id=space.owner_user_id,
        root_node_id=space.root_node_id,
        journal_seq=space.journal_seq,
        journal_floor=space.journal_floor,
        role=role,
    )


def writable_space(session: Session, actor: Actor, space_id: uuid.UUID) -> SpaceScope:
    """The space if the actor may change what is in it: NotFound when they may not reach it,
    PermissionDenied (with the folder's name, which they may see) when they may only read."""
    scope = reachable_space(session, actor, space_id)
    if not scope.role.may_write:
        raise PermissionDenied(READ_ONLY.format(name=scope.name))
    return scope


def whole_space_only(scope: SpaceScope) -> SpaceScope:
    """For what a share's recipient may not do (the trash, links of the space): refused as if
    the space were not there, as a share grants its subtree and nothing of the space around."""
    if scope.is_share:
        raise PermissionDenied("This is not available in a folder shared with you.")
    return scope
