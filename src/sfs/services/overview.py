"""What the home page shows at a glance: read-only, and scoped to the actor's own organisation.

For everyone: their latest files, the storage their files take against their quota, whether a
second factor protects the account. For an Organization Admin also: who has no second factor,
what the organisation stores against its quota, and its latest security events.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sfs.domain.actor import Actor
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import PermissionDenied
from sfs.domain.roles import UserStatus
from sfs.domain.space_roles import PERSONAL
from sfs.i18n import N_
from sfs.metadata.db import Database
from sfs.metadata.file_models import Chunk, Node, Space, Version, VersionChunk
from sfs.metadata.models import AuditEvent, Organization, User

RECENT_FILES = 6
LISTED_WITHOUT_SECOND_FACTOR = 8
SECURITY_EVENTS_SHOWN = 8
# Events an administrator should see without opening the audit log: failures and changes to
# how people get in.
SECURITY_EVENTS = (
    AuditEventType.LOGIN_FAILED,
    AuditEventType.LOGIN_THROTTLED,
    AuditEventType.SECOND_FACTOR_FAILED,
    AuditEventType.SECOND_FACTOR_RESET,
    AuditEventType.BACKUP_KEY_USED,
    AuditEventType.PASSWORD_CHANGED_BY_ADMIN,
    AuditEventType.PASSWORD_RESET_COMPLETED,
    AuditEventType.USER_ROLE_CHANGED,
    AuditEventType.USER_DISABLED,
    AuditEventType.DEVICE_WIPE_REQUESTED,
    AuditEventType.APP_PASSWORD_USED_FROM_NEW_ADDRESS,
    AuditEventType.SHARE_LINK_PASSWORD_FAILED,
    AuditEventType.ORGANISATION_POLICY_CHANGED,
)


@dataclass(frozen=True)
class RecentFile:
    name: str
    folder: str  # "/" or "/Projects/2026", within My Files
    path: str  # "/Projects/2026/plan.odt"
    size: int
    modified_at: datetime


@dataclass(frozen=True)
class MyOverview:
    recent_files: list[RecentFile]
    used_bytes: int
    quota_bytes: int | None
    second_factor_method: str | None  # "totp", "email" or None


@dataclass(frozen=True)
class PersonWithoutSecondFactor:
    user_id: uuid.UUID
    display_name: str
    email: str


@dataclass(frozen=True)
class SecurityEvent:
    occurred_at: datetime
    event_type: str
    actor_email: str | None
    target_email: str | None


@dataclass(frozen=True)
class OrganisationOverview:
    name: str
    active_users: int
    without_second_factor_count: int
    without_second_factor: list[PersonWithoutSecondFactor]  # the first few, by name
    second_factor_required: bool
    used_bytes: int
    quota_bytes: int | None
    security_events: list[SecurityEvent]


class OverviewService:
    def __init__(self, database: Database) -> None:
        self._database = database

    def mine(self, actor: Actor) -> MyOverview:
        with self._database.transaction() as session:
            user = session.get(User, actor.user_id)
            assert user is not None  # the actor came from a live session
            space = _my_files(session, actor)
            recent = _recent_files(session, space) if space is not None else []
            used = _used_by(session, user) if actor.organization_id is not None else 0
            return MyOverview(
                recent_files=recent,
                used_bytes=used,
                quota_bytes=user.quota_bytes,
                second_factor_method=user.second_factor_method,
            )

    def organisation(self, actor: Actor) -> OrganisationOverview:
        """Only for an Organization Admin, about their own organisation."""
        if not actor.is_org_admin or actor.organization_id is None:
            raise PermissionDenied(N_("Only administrators of an organisation may see this."))
        organization_id = actor.organization_id
        with self._database.transaction() as session:
            organisation = session.get(Organization, organization_id)
            assert organisation is not None
            active = User.organization_id == organization_id, User.status == UserStatus.ACTIVE
            unprotected = (*active, User.second_factor_method.is_(None))
            return OrganisationOverview(
                name=organisation.name,
                active_users=_count(session, *active),
                without_second_factor_count=_count(session, *unprotected),
                without_second_factor=[
                    PersonWithoutSecondFactor(row.id, row.display_name, row.email)
                    for row in session.scalars(
                        select(User)
                        .where(*unprotected)
                        .order_by(User.display_name, User.id)
                        .limit(LISTED_WITHOUT_SECOND_FACTOR)
                    )
                ],
                second_factor_required=organisation.require_second_factor,
                used_bytes=int(
                    session.scalar(
                        select(func.coalesce(func.sum(Chunk.length), 0)).where(
                            Chunk.organization_id == organization_id
                        )
                    )
                    or 0
                ),
                quota_bytes=organisation.quota_bytes,
                security_events=[
                    SecurityEvent(
                        row.occurred_at, row.event_type, row.actor_email, row.target_email
                    )
                    for row in session.scalars(
                        select(AuditEvent)
                        .where(
                            AuditEvent.organization_id == organization_id,
                            AuditEvent.event_type.in_([kind.value for kind in SECURITY_EVENTS]),
                        )
                        .order_by(AuditEvent.id.desc())
                        .limit(SECURITY_EVENTS_SHOWN)
                    )
                ],
            )


def _my_files(session: Session, actor: Actor) -> Space | None:
    return session.scalars(
        select(Space).where(Space.owner_user_id == actor.user_id, Space.kind == PERSONAL)
    ).first()


def _recent_files(session: Session, space: Space) -> list[RecentFile]:
    rows = session.scalars(
        select(Node)
        .where(Node.space_id == space.id, Node.kind == "file", Node.deleted_at.is_(None))
        .order_by(Node.modified_at.desc(), Node.id)
        .limit(RECENT_FILES)
    ).all()
    found = []
    for node in rows:
        folders = _folder_names(session, node.parent_id, space.root_node_id)
        folder = "/" + "/".join(folders)
        path = f"{folder.rstrip('/')}/{node.name}"
        found.append(RecentFile(node.name, folder, path, node.size, node.modified_at))
    return found


def _folder_names(session: Session, parent_id: uuid.UUID | None, root_id: uuid.UUID) -> list[str]:
    names: list[str] = []
    while parent_id is not None and parent_id != root_id:
        parent = session.get(Node, parent_id)
        if parent is None:
            break
        names.append(parent.name)
        parent_id = parent.parent_id
    return names[::-1]


def _used_by(session: Session, user: User) -> int:
    """The user's own files, each stored chunk counted once however many versions share it."""
    referenced = (
        select(VersionChunk.chunk_id)
        .join(Version, Version.id == VersionChunk.version_id)
        .join(Node, Node.id == Version.node_id)
        .join(Space, Space.id == Node.space_id)
        .where(Space.owner_user_id == user.id, VersionChunk.organization_id == user.organization_id)
        .distinct()
    )
    used = session.scalar(
        select(func.coalesce(func.sum(Chunk.length), 0)).where(
            Chunk.organization_id == user.organization_id, Chunk.chunk_id.in_(referenced)
        )
    )
    return int(used or 0)


def _count(session: Session, *conditions: object) -> int:
    return int(session.scalar(select(func.count()).select_from(User).where(*conditions)) or 0)  # type: ignore[arg-type]
