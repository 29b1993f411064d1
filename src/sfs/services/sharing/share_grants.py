"""What a share of a node grants its recipient, decided at each use.

A share grants its node's subtree, nothing above or beside it, and only while:
- the organisation allows internal sharing (a policy turned off ends every share's use at once),
- the node is live (not in the trash, nor under a folder that is),
- the recipient is still the user, or a member of the group, it was given to.
Its role is the strongest of the recipient's grants on that node (directly and through groups).
Every door reaches a share through `access.reachable_space`, as a `SpaceScope`.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from sfs.domain.actor import Actor
from sfs.domain.space_roles import PERSONAL, SpaceRole
from sfs.domain.space_scope import SpaceScope
from sfs.metadata.file_models import Node, Space
from sfs.metadata.models import Organization
from sfs.metadata.share_models import NodeShare
from sfs.metadata.team_models import GroupMember
from sfs.protocol.paths import join_path


def grants_to(actor: Actor) -> Select[NodeShare]:
    """The share rows given to the actor, directly or through a group (unchecked for use)."""
    groups = select(GroupMember.group_id).where(GroupMember.user_id == actor.user_id)
    return select(NodeShare).where(
        NodeShare.organization_id == actor.organization_id,
        or_(NodeShare.user_id == actor.user_id, NodeShare.group_id.in_(groups)),
    )


def sharing_allowed(session: Session, organization_id: uuid.UUID) -> bool:
    allowed = session.scalar(
        select(Organization.internal_sharing_allowed).where(Organization.id == organization_id)
    )
    return bool(allowed)


def share_scope(session: Session, actor: Actor, share_id: uuid.UUID) -> SpaceScope | None:
    """The share of this id as a scope for the actor; None when it grants them nothing now."""
    if actor.organization_id is None:
        return None
    share = session.get(NodeShare, share_id)
    if share is None or share.organization_id != actor.organization_id:
        return None
    grants = list(session.scalars(grants_to(actor).where(NodeShare.node_id == share.node_id)))
    if share.id not in {grant.id for grant in grants}:
        return None
    if not sharing_allowed(session, actor.organization_id):
        return None
    root_path = live_path(session, share.node_id)
    node = session.get(Node, share.node_id)
    space = session.get(Space, node.space_id) if node is not None else None
    if root_path is None or space is None or node is None:
        return None
    role = max((SpaceRole(grant.role) for grant in grants), key=lambda role: role.rank)
    return SpaceScope(
        id=space.id,
        organization_id=space.organization_id,
        kind=space.kind,
        name=node.name,
        owner_user_id=space.owner_user_id,
        root_node_id=node.id,
        journal_seq=space.journal_seq,
        journal_floor=space.journal_floor,
        role=role,
        share_id=share.id,
        root_path=root_path,
        feed_start=min(grant.created_seq for grant in grants),
    )


def shares_reaching(session: Session, actor: Actor) -> list[tuple[NodeShare, SpaceScope]]:
    """Each node shared with the actor that grants them something now, once (by the id of its
    strongest grant), with its scope; not the actor's own files reached through a group."""
    by_node: dict[uuid.UUID, tuple[NodeShare, SpaceScope]] = {}
    if actor.organization_id is None:
        return []
    for row in session.scalars(grants_to(actor).order_by(NodeShare.created_at, NodeShare.id)):
        known = by_node.get(row.node_id)
        if known is not None and known[1].role.rank >= SpaceRole(row.role).rank:
            continue
        scope = share_scope(session, actor, row.id)
        if scope is None or (scope.kind == PERSONAL and scope.owner_user_id == actor.user_id):
            continue
        by_node[row.node_id] = (row, scope)
    return list(by_node.values())


def live_path(session: Session, node_id: uuid.UUID) -> str | None:
    """The node's path in its space, None when it or a folder above it is in the trash."""
    parts: list[str] = []
    current = session.get(Node, node_id)
    while current is not None:
        if current.deleted_at is not None:
            return None
        if current.parent_id is None:
            return join_path(list(reversed(parts)))
        parts.append(current.name)
        current = session.get(Node, current.parent_id)
    return None


def shared_roots(session: Session, actor: Actor) -> list[uuid.UUID]:
    """The nodes shared with the actor that grant them something now (for chunk access)."""
    if actor.organization_id is None or not sharing_allowed(session, actor.organization_id):
        return []
    nodes = set(session.scalars(grants_to(actor).with_only_columns(NodeShare.node_id)))
    return [node_id for node_id in nodes if live_path(session, node_id) is not None]


def subtree_node_ids(roots: list[uuid.UUID]) -> Select[uuid.UUID]:
    """Every live node at or below these roots, as a subquery (a recursive walk down)."""
    below = select(Node.id).where(Node.id.in_(roots)).cte("shared_below", recursive=True)
    below = below.union_all(
        select(Node.id).join(below, Node.parent_id == below.c.id).where(Node.deleted_at.is_(None))
    )
    return select(below.c.id)
