"""Shares of a file or folder with a colleague or a group of the same organisation.

The owner of My Files, or a Manager of a team folder, shares a node as Viewer or Editor, sees
who has access, changes a role, removes a share. The recipient finds it under "Shared with
me" and reaches it, by the share's id, as a space of its own (`share_grants.share_scope`):
the node's subtree and nothing else. Never across organisations: another organisation's user
or group is answered exactly like an unknown one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from sfs.domain.roles import UserStatus
from sfs.domain.space_roles import SpaceRole, parse_share_role
from sfs.domain.space_scope import SpaceScope
from sfs.domain.validation import normalize_email
from sfs.i18n import N_
from sfs.metadata.db import Database
from sfs.metadata.file_models import Node, Space
from sfs.metadata.models import User
from sfs.metadata.share_models import NodeShare
from sfs.metadata.team_models import Group
from sfs.ports import Clock
from sfs.protocol.paths import name_key
from sfs.services.audit import AuditLog
from sfs.services.files.nodes import FILE, parse_path, resolve
from sfs.services.sharing.access import reachable_space, role_in
from sfs.services.sharing.members import member_of_organisation
from sfs.services.sharing.share_grants import live_path, shares_reaching, sharing_allowed

NO_RECIPIENT = N_("No colleague or group of that name in your organisation.")
NO_SHARE = N_("No such share.")
SHARING_OFF = N_("Your organisation does not allow sharing with colleagues.")


@dataclass(frozen=True)
class ShareView:
    """A share as its owner (or a Manager of its team folder) sees it."""

    id: uuid.UUID
    space_id: uuid.UUID
    node_id: uuid.UUID
    path: str  # in the owner's space
    kind: str  # file | folder
    role: SpaceRole
    user_id: uuid.UUID | None
    group_id: uuid.UUID | None
    recipient: str  # the user's email, or the group's name
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class SharedWithMe:
    """A share as its recipient sees it: reach it as the space `id`."""

    id: uuid.UUID
    name: str
    kind: str
    role: SpaceRole
    shared_by: str  # the display name of who shared it
    created_at: datetime


class ShareService:
    def __init__(self, database: Database, audit: AuditLog, clock: Clock) -> None:
        self._database = database
        self._audit = audit
        self._clock = clock

    def create(
        self,
        actor: Actor,
        *,
        space_id: uuid.UUID,
        path: str,
        role: str,
        client: ClientInfo,
        user_email: str | None = None,
        group_name: str | None = None,
    ) -> ShareView:
        """Share the node at `path` of the space with one colleague (by address) or one group
        (by name) of the actor's organisation."""
        if (user_email is None) == (group_name is None):
            raise InvalidInput(N_("Share with one colleague or one group."), field="with")
        share_role = parse_share_role(role)
        parts = parse_path(path)
        now = self._clock.now()
        with self._database.transaction() as session:
            organization_id = member_of_organisation(actor)
            scope = _manageable_scope(session, actor, space_id)
            if not sharing_allowed(session, organization_id):
                raise PermissionDenied(SHARING_OFF)
            if not parts:
                raise InvalidInput(
                    N_("Choose a file or folder to share, not the top folder."), field="path"
                )
            node = resolve(session, scope, parts)
            _check_role_fits(node.kind, share_role)
            user, group = _recipient(session, actor, organization_id, user_email, group_name)
            row = NodeShare(
                id=uuid.uuid4(),
                organization_id=organization_id,
                space_id=scope.id,
                node_id=node.id,
                created_by=actor.user_id,
                user_id=user.id if user else None,
                group_id=group.id if group else None,
                role=share_role.value,
                created_seq=scope.journal_seq,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                raise AlreadyExists(
                    N_("It is already shared with them: change the role instead.")
                ) from None
            view = _view(session, row)
            self._record(session, AuditEventType.SHARE_CREATED, actor, client, view)
            return view

    def shares_of(self, actor: Actor, *, space_id: uuid.UUID, path: str) -> list[ShareView]:
        """Who the node at `path` is shared with (for its owner or a Manager)."""
        parts = parse_path(path)
        with self._database.transaction() as session:
            scope = _manageable_scope(session, actor, space_id)
            node = resolve(session, scope, parts)
            rows = session.scalars(select(NodeShare).where(NodeShare.node_id == node.id)).all()
            return sorted((_view(session, row) for row in rows), key=_listing_order)

    def shares_by(self, actor: Actor) -> list[ShareView]:
        """Every share the actor may manage: of their My Files, and of the team folders they
        manage; by path."""
        with self._database.transaction() as session:
            member_of_organisation(actor)
            rows = session.scalars(
                select(NodeShare).where(NodeShare.organization_id == actor.organization_id)
            ).all()
            views = [_view(session, row) for row in rows if _may_manage(session, actor, row)]
        return sorted(views, key=lambda view: (view.path, *_listing_order(view)))

    def share(self, actor: Actor, share_id: uuid.UUID) -> ShareView:
        with self._database.transaction() as session:
            return _view(session, _managed(session, actor, share_id))

    def update(
        self, actor: Actor, share_id: uuid.UUID, *, role: str, client: ClientInfo
    ) -> ShareView:
        share_role = parse_share_role(role)
        with self._database.transaction() as session:
            row = _managed(session, actor, share_id)
            node = session.get(Node, row.node_id)
            assert node is not None
            _check_role_fits(node.kind, share_role)
            before = row.role
            row.role, row.updated_at = share_role.value, self._clock.now()
            session.flush()
            view = _view(session, row)
            if before != row.role:
                self._record(
                    session, AuditEventType.SHARE_CHANGED, actor, client, view, old_role=before
                )
            return view

    def delete(self, actor: Actor, share_id: uuid.UUID, *, client: ClientInfo) -> None:
        with self._database.transaction() as session:
            row = _managed(session, actor, share_id)
            view = _view(session, row)
            session.delete(row)
            self._record(session, AuditEventType.SHARE_REMOVED, actor, client, view)

    def shared_with_me(self, actor: Actor) -> list[SharedWithMe]:
        """What colleagues share with the actor and grants them something now, one entry per
        node (the strongest of their grants on it), by name."""
        with self._database.transaction() as session:
            member_of_organisation(actor)
            found: list[SharedWithMe] = []
            for row, scope in shares_reaching(session, actor):
                node = session.get(Node, row.node_id)
                sharer = session.get(User, row.created_by) if row.created_by else None
                assert node is not None
                found.append(
                    SharedWithMe(
                        id=row.id,
                        name=node.name,
                        kind=node.kind,
                        role=scope.role,
                        shared_by=sharer.display_name if sharer else "",
                        created_at=row.created_at,
                    )
                )
        return sorted(found, key=lambda item: (name_key(item.name), item.id))

    def _record(
        self,
        session: Session,
        event: AuditEventType,
        actor: Actor,
        client: ClientInfo,
        view: ShareView,
        **details: object,
    ) -> None:
        self._audit.record(
            session,
            event,
            organization_id=actor.organization_id,
            client=client,
            actor=actor,
            target_user_id=view.user_id,
            target_email=view.recipient if view.user_id else None,
            share_id=str(view.id),
            space_id=str(view.space_id),
            path=view.path,
            group=view.recipient if view.group_id else None,
            role=view.role.value,
            **details,
        )


def _manageable_scope(session: Session, actor: Actor, space_id: uuid.UUID) -> SpaceScope:
    """The space whose nodes the actor may share: their My Files, or a team folder they manage.
    A share's recipient may not share it on."""
    scope = reachable_space(session, actor, space_id)
    if scope.is_share or scope.role not in (SpaceRole.OWNER, SpaceRole.MANAGER):
        raise PermissionDenied(
            N_("Only the owner, or a Manager of a team folder, may share its files.")
        )
    return scope


def _may_manage(session: Session, actor: Actor, row: NodeShare) -> bool:
    if row.organization_id != actor.organization_id:
        return False
    node = session.get(Node, row.node_id)
    space = session.get(Space, node.space_id) if node is not None else None
    if space is None:
        return False
    return role_in(session, actor, space) in (SpaceRole.OWNER, SpaceRole.MANAGER)


def _managed(session: Session, actor: Actor, share_id: uuid.UUID) -> NodeShare:
    """A share the actor may change or remove; NotFound for every other id, so neither another
    organisation's shares nor a colleague's are revealed."""
    row = session.get(NodeShare, share_id)
    if row is None or not _may_manage(session, actor, row):
        raise NotFound(NO_SHARE)
    return row


def _recipient(
    session: Session,
    actor: Actor,
    organization_id: uuid.UUID,
    user_email: str | None,
    group_name: str | None,
) -> tuple[User | None, Group | None]:
    """The colleague or group named; one NotFound for unknown, malformed, disabled and other
    organisations' alike."""
    if group_name is not None:
        group = session.scalars(
            select(Group).where(
                Group.organization_id == organization_id,
                Group.name_key == name_key(group_name.strip() or "-"),
            )
        ).one_or_none()
        if group is None:
            raise NotFound(NO_RECIPIENT)
        return None, group
    assert user_email is not None
    try:
        key = normalize_email(user_email)
    except InvalidInput:
        raise NotFound(NO_RECIPIENT) from None
    user = session.scalars(
        select(User).where(User.email == key, User.organization_id == organization_id)
    ).one_or_none()
    if user is None or user.status == UserStatus.DISABLED.value:
        raise NotFound(NO_RECIPIENT)
    if user.id == actor.user_id:
        raise InvalidInput(N_("You cannot share with yourself."), field="with")
    return user, None


def _view(session: Session, row: NodeShare) -> ShareView:
    node = session.get(Node, row.node_id)
    assert node is not None
    if row.user_id is not None:
        user = session.get(User, row.user_id)
        recipient = user.email if user else ""
    else:
        group = session.get(Group, row.group_id)
        recipient = group.name if group else ""
    return ShareView(
        id=row.id,
        space_id=node.space_id,
        node_id=node.id,
        path=live_path(session, node.id) or "",
        kind=node.kind,
        role=SpaceRole(row.role),
        user_id=row.user_id,
        group_id=row.group_id,
        recipient=recipient,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _check_role_fits(kind: str, role: SpaceRole) -> None:
    """A single file is shared to be read: writing it in place would put conflicted copies
    beside it, outside what is shared. Its folder can be shared with Editors."""
    if kind == FILE and role.may_write:
        raise InvalidInput(
            N_("A single file is shared as Viewer; share its folder to let them edit it."),
            field="role",
        )


def _listing_order(view: ShareView) -> tuple[bool, str, str]:
    """People by address, then groups by name."""
    return (view.group_id is not None, view.recipient.casefold(), str(view.id))
