"""Team folders: spaces that belong to the organisation rather than to one person.

The organisation admin creates, renames and deletes them; their members (users and groups)
are Viewers, Editors or Managers, and a Manager manages the folder's members too. Their files
count against the organisation's quota only, and stay when a member leaves. Who may read or
write inside one is decided in `access.py`, like for every space.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from sfs.domain.space_roles import TEAM, SpaceRole, parse_member_role
from sfs.i18n import N_
from sfs.metadata.db import Database
from sfs.metadata.file_models import Space
from sfs.metadata.models import User
from sfs.metadata.team_models import Group, SpaceMember
from sfs.ports import Clock
from sfs.protocol.paths import BadName, clean_name, name_key
from sfs.services.audit import AuditLog
from sfs.services.files.spaces import MY_FILES, create_space
from sfs.services.sharing.access import role_in
from sfs.services.sharing.groups import visible_group
from sfs.services.sharing.members import (
    colleague_by_email,
    lock_names,
    member_of_organisation,
    organisation_admin,
)

MAX_TEAM_FOLDER_NAME = 100


@dataclass(frozen=True)
class TeamMemberView:
    id: uuid.UUID
    role: SpaceRole
    user_id: uuid.UUID | None
    group_id: uuid.UUID | None
    label: str  # the user's email, or the group's name


@dataclass(frozen=True)
class TeamFolderView:
    id: uuid.UUID
    name: str
    members: list[TeamMemberView]


class TeamFolderService:
    def __init__(self, database: Database, audit: AuditLog, clock: Clock) -> None:
        self._database = database
        self._audit = audit
        self._clock = clock

    # -- the organisation admin --------------------------------------------------------------

    def list_all(self, actor: Actor) -> list[TeamFolderView]:
        """Every team folder of the organisation, for its admin (members or not)."""
        organization_id = organisation_admin(actor)
        with self._database.transaction() as session:
            spaces = session.scalars(
                select(Space)
                .where(Space.organization_id == organization_id, Space.kind == TEAM)
                .order_by(Space.name)
            ).all()
            return [_view(session, space) for space in spaces]

    def create(self, actor: Actor, name: str, *, client: ClientInfo) -> TeamFolderView:
        organization_id = organisation_admin(actor)
        clean = _clean(name)
        with self._database.transaction() as session:
            lock_names(session, organization_id)
            _refuse_taken(session, organization_id, clean)
            space = create_space(
                session,
                organization_id=organization_id,
                owner_user_id=None,
                kind=TEAM,
                name=clean,
                now=self._clock.now(),
            )
            self._record(session, AuditEventType.TEAM_FOLDER_CREATED, actor, client, space)
            return _view(session, space)

    def rename(
        self, actor: Actor, space_id: uuid.UUID, name: str, *, client: ClientInfo
    ) -> TeamFolderView:
        organization_id = organisation_admin(actor)
        clean = _clean(name)
        with self._database.transaction() as session:
            space = _team_folder(session, organization_id, space_id)
            lock_names(session, organization_id)
            if name_key(clean) != name_key(space.name):
                _refuse_taken(session, organization_id, clean)
            previous = space.name
            space.name = clean
            self._record(
                session,
                AuditEventType.TEAM_FOLDER_RENAMED,
                actor,
                client,
                space,
                previous_name=previous,
            )
            return _view(session, space)

    def delete(self, actor: Actor, space_id: uuid.UUID, *, client: ClientInfo) -> None:
        """The folder and its files go at once; their chunks are left to `sfs admin gc`."""
        organization_id = organisation_admin(actor)
        with self._database.transaction() as session:
            space = _team_folder(session, organization_id, space_id)
            self._record(session, AuditEventType.TEAM_FOLDER_DELETED, actor, client, space)
            session.delete(space)

    # -- members: the organisation admin or a Manager of the folder -------------------------

    def folder(self, actor: Actor, space_id: uuid.UUID) -> TeamFolderView:
        with self._database.transaction() as session:
            return _view(session, self._managed(session, actor, space_id))

    def set_user_role(
        self, actor: Actor, space_id: uuid.UUID, email: str, role: str, *, client: ClientInfo
    ) -> TeamFolderView:
        """Add a colleague as a member, or change their role."""
        wanted = parse_member_role(role)
        with self._database.transaction() as session:
            space = self._managed(session, actor, space_id)
            user = colleague_by_email(session, space.organization_id, email)
            row = session.scalars(
                select(SpaceMember).where(
                    SpaceMember.space_id == space.id, SpaceMember.user_id == user.id
                )
            ).one_or_none()
            self._set(session, actor, client, space, row, wanted, user=user)
            return _view(session, space)

    def set_group_role(
        self,
        actor: Actor,
        space_id: uuid.UUID,
        group_id: uuid.UUID,
        role: str,
        *,
        client: ClientInfo,
    ) -> TeamFolderView:
        wanted = parse_member_role(role)
        with self._database.transaction() as session:
            space = self._managed(session, actor, space_id)
            group = visible_group(session, space.organization_id, group_id)
            row = session.scalars(
                select(SpaceMember).where(
                    SpaceMember.space_id == space.id, SpaceMember.group_id == group.id
                )
            ).one_or_none()
            self._set(session, actor, client, space, row, wanted, group=group)
            return _view(session, space)

    def remove_member(
        self, actor: Actor, space_id: uuid.UUID, member_id: uuid.UUID, *, client: ClientInfo
    ) -> TeamFolderView:
        with self._database.transaction() as session:
            space = self._managed(session, actor, space_id)
            row = session.get(SpaceMember, member_id)
            if row is None or row.space_id != space.id:
                raise NotFound(N_("No such member of this team folder."))
            self._record(
                session,
                AuditEventType.TEAM_FOLDER_MEMBER_REMOVED,
                actor,
                client,
                space,
                member=_label(session, row),
                role=row.role,
            )
            session.delete(row)
            session.flush()
            return _view(session, space)

    # -- the rest ----------------------------------------------------------------------------

    def _managed(self, session: Session, actor: Actor, space_id: uuid.UUID) -> Space:
        """The team folder if the actor may manage its members: its organisation's admin, or
        a Manager. Another member is refused; anyone else does not find it."""
        organization_id = member_of_organisation(actor)
        space = _team_folder(session, organization_id, space_id)
        if actor.is_org_admin:
            return space
        role = role_in(session, actor, space)
        if role is None:
            raise NotFound(N_("No such team folder."))
        if not role.may_manage:
            raise PermissionDenied(N_("Only a Manager of this team folder may change its members."))
        return space

    def _set(
        self,
        session: Session,
        actor: Actor,
        client: ClientInfo,
        space: Space,
        row: SpaceMember | None,
        role: SpaceRole,
        *,
        user: User | None = None,
        group: Group | None = None,
    ) -> None:
        label = user.email if user is not None else group.name if group is not None else ""
        if row is None:
            session.add(
                SpaceMember(
                    id=uuid.uuid4(),
                    organization_id=space.organization_id,
                    space_id=space.id,
                    user_id=user.id if user is not None else None,
                    group_id=group.id if group is not None else None,
                    role=role.value,
                    created_at=self._clock.now(),
                )
            )
            session.flush()
            event, details = AuditEventType.TEAM_FOLDER_MEMBER_ADDED, {"role": role.value}
        elif row.role != role.value:
            details = {"previous_role": row.role, "role": role.value}
            row.role = role.value
            event = AuditEventType.TEAM_FOLDER_MEMBER_CHANGED
        else:
            return
        self._record(session, event, actor, client, space, member=label, **details)

    def _record(
        self,
        session: Session,
        event: AuditEventType,
        actor: Actor,
        client: ClientInfo,
        space: Space,
        **details: Any,
    ) -> None:
        self._audit.record(
            session,
            event,
            organization_id=space.organization_id,
            client=client,
            actor=actor,
            team_folder_id=str(space.id),
            team_folder=space.name,
            **details,
        )


def _team_folder(session: Session, organization_id: uuid.UUID, space_id: uuid.UUID) -> Space:
    space = session.get(Space, space_id)
    if space is None or space.organization_id != organization_id or space.kind != TEAM:
        raise NotFound(N_("No such team folder."))
    return space


def _clean(name: str) -> str:
    try:
        clean = clean_name(name.strip())
    except BadName as exc:
        raise InvalidInput(str(exc), field="name") from None
    if len(clean) > MAX_TEAM_FOLDER_NAME:
        raise InvalidInput(
            N_(
                "A team folder's name is too long (at most %(MAX_TEAM_FOLDER_NAME)s characters).",
                MAX_TEAM_FOLDER_NAME=MAX_TEAM_FOLDER_NAME,
            ),
            field="name",
        )
    if name_key(clean) == name_key(MY_FILES):
        # `sfs sync --space` finds spaces by name: this one would hide the user's own.
        raise InvalidInput(
            N_("%(MY_FILES)s is the name of everyone's own files.", MY_FILES=repr(MY_FILES)),
            field="name",
        )
    return clean


def _refuse_taken(session: Session, organization_id: uuid.UUID, name: str) -> None:
    names = session.scalars(
        select(Space.name).where(Space.organization_id == organization_id, Space.kind == TEAM)
    )
    if any(name_key(existing) == name_key(name) for existing in names):
        raise AlreadyExists(N_("A team folder of that name already exists."))


def _label(session: Session, row: SpaceMember) -> str:
    if row.user_id is not None:
        user = session.get(User, row.user_id)
        return user.email if user is not None else ""
    group = session.get(Group, row.group_id)
    return group.name if group is not None else ""


def _view(session: Session, space: Space) -> TeamFolderView:
    rows = session.scalars(select(SpaceMember).where(SpaceMember.space_id == space.id)).all()
    members = [
        TeamMemberView(
            id=row.id,
            role=SpaceRole(row.role),
            user_id=row.user_id,
            group_id=row.group_id,
            label=_label(session, row),
        )
        for row in rows
    ]
    members.sort(key=lambda m: (m.group_id is None, m.label.casefold()))
    return TeamFolderView(id=space.id, name=space.name, members=members)
