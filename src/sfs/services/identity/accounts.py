"""Accounts: creating and reading users, always within the actor's organisation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sfs.auth.password_policy import check_password
from sfs.crypto.passwords import PasswordHasher
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from sfs.domain.roles import ORGANISATION_ROLES, Role, UserStatus
from sfs.domain.validation import check_sequence, clean_display_name, normalize_email
from sfs.i18n import N_
from sfs.metadata.db import Database
from sfs.metadata.models import Organization, User
from sfs.metadata.search import LIKE_ESCAPE, contains_pattern
from sfs.ports import Clock
from sfs.services.audit import AuditLog

MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class UserView:
    id: uuid.UUID
    email: str
    display_name: str
    role: Role
    status: UserStatus
    organization_id: uuid.UUID | None
    organization_name: str | None
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, row: User) -> UserView:
        return cls(
            id=row.id,
            email=row.email,
            display_name=row.display_name,
            role=Role(row.role),
            status=UserStatus(row.status),
            organization_id=row.organization_id,
            organization_name=row.organization.name if row.organization else None,
            created_at=row.created_at,
            last_login_at=row.last_login_at,
        )


class AccountService:
    def __init__(
        self, database: Database, audit: AuditLog, clock: Clock, hasher: PasswordHasher
    ) -> None:
        self._database = database
        self._audit = audit
        self._clock = clock
        self._hasher = hasher

    def create_user(
        self,
        actor: Actor,
        *,
        organization_id: uuid.UUID,
        email: str,
        display_name: str,
        password: str,
        client: ClientInfo,
        role: Role = Role.USER,
    ) -> UserView:
        if not (actor.is_provider_admin or actor.is_org_admin):
            raise PermissionDenied(N_("Only administrators may create accounts."))
        if role not in ORGANISATION_ROLES:
            raise InvalidInput(N_("Role must be 'org_admin' or 'user'."), field="role")
        if role.rank > actor.role.rank:
            raise PermissionDenied(N_("You cannot give anyone a role above your own."))
        clean_email = normalize_email(email)
        clean_name = clean_display_name(display_name)
        with self._database.transaction() as session:
            organisation = _visible_organisation(session, actor, organization_id)
            min_length = organisation.min_password_length
            _refuse_taken_email(session, clean_email)
        check_password(
            password,
            email=clean_email,
            display_name=clean_name,
            min_length=min_length,
            for_someone_else=True,
        )
        password_hash = self._hasher.hash(password)  # slow: kept outside the transaction
        return self._insert(
            actor,
            organization_id=organization_id,
            email=clean_email,
            display_name=clean_name,
            role=role,
            password_hash=password_hash,
            client=client,
        )

    def create_provider_admin(
        self, actor: Actor, *, email: str, display_name: str, password: str, client: ClientInfo
    ) -> UserView:
        if not actor.is_provider_admin:
            raise PermissionDenied(
                N_("Only provider administrators may create provider administrators.")
            )
        clean_email = normalize_email(email)
        clean_name = clean_display_name(display_name)
        with self._database.transaction() as session:
            _refuse_taken_email(session, clean_email)
        check_password(password, email=clean_email, display_name=clean_name, for_someone_else=True)
        return self._insert(
            actor,
            organization_id=None,
            email=clean_email,
            display_name=clean_name,
            role=Role.PROVIDER_ADMIN,
            password_hash=self._hasher.hash(password),
            client=client,
        )

    def _insert(
        self,
        actor: Actor,
        *,
        organization_id: uuid.UUID | None,
        email: str,
        display_name: str,
        role: Role,
        password_hash: str,
        client: ClientInfo,
    ) -> UserView:
        now = self._clock.now()
        try:
            with self._database.transaction() as session:
                row = User(
                    id=uuid.uuid4(),
                    organization_id=organization_id,
                    email=email,
                    display_name=display_name,
                    role=role.value,
                    status=UserStatus.ACTIVE.value,
                    password_hash=password_hash,
                    created_at=now,
                    password_changed_at=now,
                )
                session.add(row)
                session.flush()
                self._audit.record(
                    session,
                    AuditEventType.USER_CREATED,
                    organization_id=organization_id,
                    client=client,
                    actor=actor,
                    target_user_id=row.id,
                    target_email=email,
                    role=role.value,
                )
                session.refresh(row, ["organization"])
                return UserView.of(row)
        except IntegrityError:
            # Another request registered the same email between our check and the insert.
            raise _email_taken() from None

    def list_users(
        self,
        actor: Actor,
        *,
        organization_id: uuid.UUID | None = None,
        search: str = "",
        limit: int = 100,
        offset: int = 0,
    ) -> list[UserView]:
        """An Organization Admin lists their own organisation; a provider admin any or all."""
        if not (actor.is_provider_admin or actor.is_org_admin):
            raise PermissionDenied(N_("Only administrators may list accounts."))
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidInput(
                N_("Page size must be 1 to %(MAX_PAGE_SIZE)s.", MAX_PAGE_SIZE=MAX_PAGE_SIZE),
                field="limit",
            )
        check_sequence(offset, field="offset")
        if organization_id is None and not actor.is_provider_admin:
            organization_id = actor.organization_id
        query = select(User).order_by(User.display_name, User.email).limit(limit).offset(offset)
        with self._database.transaction() as session:
            if organization_id is not None:
                _visible_organisation(session, actor, organization_id)
                query = query.where(User.organization_id == organization_id)
            if search.strip():
                pattern = contains_pattern(search.strip().casefold())
                query = query.where(
                    or_(
                        func.lower(User.display_name).like(pattern, escape=LIKE_ESCAPE),
                        User.email.like(pattern, escape=LIKE_ESCAPE),
                    )
                )
            return [UserView.of(row) for row in session.scalars(query)]

    def get_user(self, actor: Actor, user_id: uuid.UUID) -> UserView:
        with self._database.transaction() as session:
            return UserView.of(visible_user(session, actor, user_id))


def visible_user(session: Session, actor: Actor, user_id: uuid.UUID) -> User:
    """The user, if the actor may see them: themselves, their organisation's admin, a provider.

    Everyone else gets NotFound, exactly as for an id that does not exist.
    """
    row = session.get(User, user_id)
    if row is None:
        raise NotFound(N_("No such account."))
    if row.id == actor.user_id or actor.is_provider_admin:
        return row
    if actor.is_org_admin and row.organization_id == actor.organization_id:
        return row
    raise NotFound(N_("No such account."))


def _visible_organisation(
    session: Session, actor: Actor, organization_id: uuid.UUID
) -> Organization:
    row = session.get(Organization, organization_id)
    if row is None or not (actor.is_provider_admin or actor.organization_id == organization_id):
        raise NotFound(N_("No such organisation."))
    return row


def _refuse_taken_email(session: Session, email: str) -> None:
    if session.scalars(select(User.id).where(User.email == email)).first() is not None:
        raise _email_taken()


def _email_taken() -> AlreadyExists:
    return AlreadyExists(N_("An account with this email address already exists."))
