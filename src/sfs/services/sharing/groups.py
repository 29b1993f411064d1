"""Groups: named sets of an organisation's users, managed by its organisation admins; a group
may then be made a member of a team folder."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import AlreadyExists, NotFound
from sfs.domain.validation import clean_label
from sfs.i18n import N_
from sfs.metadata.db import Database
from sfs.metadata.models import User
from sfs.metadata.team_models import Group, GroupMember
from sfs.ports import Clock
from sfs.protocol.paths import name_key
from sfs.services.audit import AuditLog
from sfs.services.sharing.members import (
    colleague_by_email,
    colleague_by_id,
    lock_names,
    member_of_organisation,
    organisation_admin,
)

MAX_GROUP_NAME = 100


@dataclass(frozen=True)
class GroupMemberView:
    user_id: uuid.UUID
    email: str
    display_name: str


@dataclass(frozen=True)
class GroupView:
    id: uuid.UUID
    name: str
    members: list[GroupMemberView]


class GroupService:
    def __init__(self, database: Database, audit: AuditLog, clock: Clock) -> None:
        self._database = database
        self._audit = audit
        self._clock = clock

    def list_groups(self, actor: Actor) -> list[GroupView]:
        """The organisation's groups by name: any member may see them (a Manager adds one to a
        team folder); who is in them only the organisation's admins (like the Accounts list)."""
        organization_id = member_of_organisation(actor)
        with self._database.transaction() as session:
            groups = session.scalars(
                select(Group)
                .where(Group.organization_id == organization_id)
                .order_by(Group.name_key)
            ).all()
            return [_view(session, group, with_members=actor.is_org_admin) for group in groups]

    def group(self, actor: Actor, group_id: uuid.UUID) -> GroupView:
        organization_id = member_of_organisation(actor)
        with self._database.transaction() as session:
            group = visible_group(session, organization_id, group_id)
            return _view(session, group, with_members=actor.is_org_admin)

    def create(self, actor: Actor, name: str, *, client: ClientInfo) -> GroupView:
        organization_id = organisation_admin(actor)
        clean = _clean(name)
        with self._database.transaction() as session:
            lock_names(session, organization_id)
            _refuse_taken(session, organization_id, clean)
            group = Group(
                id=uuid.uuid4(),
                organization_id=organization_id,
                name=clean,
                name_key=name_key(clean),
                created_at=self._clock.now(),
            )
            session.add(group)
            session.flush()
            self._record(session, AuditEventType.GROUP_CREATED, actor, client, group)
            return _view(session, group)

    def rename(
        self, actor: Actor, group_id: uuid.UUID, name: str, *, client: ClientInfo
    ) -> GroupView:
        organization_id = organisation_admin(actor)
        clean = _clean(name)
        with self._database.transaction() as session:
            group = visible_group(session, organization_id, group_id)
            lock_names(session, organization_id)
            if name_key(clean) != group.name_key:
                _refuse_taken(session, organization_id, clean)
            previous = group.name
            group.name, group.name_key = clean, name_key(clean)
            self._record(
                session, AuditEventType.GROUP_CHANGED, actor, client, group, previous_name=previous
            )
            return _view(session, group)

    def delete(self, actor: Actor, group_id: uuid.UUID, *, client: ClientInfo) -> None:
        """The group goes, and with it whatever it gave its members on team folders."""
        organization_id = organisation_admin(actor)
        with self._database.transaction() as session:
            group = visible_group(session, organization_id, group_id)
            self._record(session, AuditEventType.GROUP_DELETED, actor, client, group)
            session.delete(group)

    def add_member(
        self, actor: Actor, group_id: uuid.UUID, email: str, *, client: ClientInfo
    ) -> GroupView:
        organization_id = organisation_admin(actor)
        with self._database.transaction() as session:
            group = visible_group(session, organization_id, group_id)
            user = colleague_by_email(session, organization_id, email)
            if session.get(GroupMember, (group.id, user.id)) is None:
                session.add(
                    GroupMember(
                        group_id=group.id,
                        user_id=user.id,
                        organization_id=organization_id,
                        added_at=self._clock.now(),
                    )
                )
                session.flush()
                self._record(
                    session,
                    AuditEventType.GROUP_CHANGED,
                    actor,
                    client,
                    group,
                    target=user,
                    member_added=user.email,
                )
            return _view(session, group)

    def remove_member(
        self, actor: Actor, group_id: uuid.UUID, user_id: uuid.UUID, *, client: ClientInfo
    ) -> GroupView:
        organization_id = organisation_admin(actor)
        with self._database.transaction() as session:
            group = visible_group(session, organization_id, group_id)
            user = colleague_by_id(session, organization_id, user_id)
            membership = session.get(GroupMember, (group.id, user.id))
            if membership is None:
                raise NotFound(N_("That account is not a member of this group."))
            session.delete(membership)
            session.flush()
            self._record(
                session,
                AuditEventType.GROUP_CHANGED,
                actor,
                client,
                group,
                target=user,
                member_removed=user.email,
            )
            return _view(session, group)

    def _record(
        self,
        session: Session,
        event: AuditEventType,
        actor: Actor,
        client: ClientInfo,
        group: Group,
        *,
        target: User | None = None,
        **details: str,
    ) -> None:
        self._audit.record(
            session,
            event,
            organization_id=group.organization_id,
            client=client,
            actor=actor,
            target_user_id=target.id if target else None,
            target_email=target.email if target else None,
            group_id=str(group.id),
            group=group.name,
            **details,
        )


def visible_group(session: Session, organization_id: uuid.UUID, group_id: uuid.UUID) -> Group:
    """The organisation's group; another organisation's is not found, like a bad id."""
    group = session.get(Group, group_id)
    if group is None or group.organization_id != organization_id:
        raise NotFound(N_("No such group."))
    return group


def _clean(name: str) -> str:
    return clean_label(name, what="Group name", field="name", limit=MAX_GROUP_NAME)


def _refuse_taken(session: Session, organization_id: uuid.UUID, name: str) -> None:
    taken = session.scalar(
        select(Group.id).where(
            Group.organization_id == organization_id, Group.name_key == name_key(name)
        )
    )
    if taken is not None:
        raise AlreadyExists(N_("A group of that name already exists."))


def _view(session: Session, group: Group, *, with_members: bool = True) -> GroupView:
    if not with_members:
        return GroupView(id=group.id, name=group.name, members=[])
    rows = session.execute(
        select(User.id, User.email, User.display_name)
        .join(GroupMember, GroupMember.user_id == User.id)
        .where(GroupMember.group_id == group.id)
        .order_by(User.email)
    ).all()
    members = [GroupMemberView(row[0], row[1], row[2]) for row in rows]
    return GroupView(id=group.id, name=group.name, members=members)
