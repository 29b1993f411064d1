"""Organisations and their policy: created by provider admins, tuned by Organization Admins."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import AlreadyExists, NotFound, PermissionDenied
from sfs.domain.policy import (
    SECOND_FACTOR_METHODS,
    OrganisationPolicy,
    check_policy,
    format_second_factor_methods,
    parse_second_factor_methods,
)
from sfs.domain.regions import clean_region
from sfs.domain.validation import clean_organisation_name
from sfs.i18n import N_
from sfs.metadata.db import Database
from sfs.metadata.models import DeviceToken, Organization, User
from sfs.ports import Clock
from sfs.services.audit import AuditLog
from sfs.services.identity.credentials import revoke_device_tokens

T = TypeVar("T")


@dataclass(frozen=True)
class OrganisationView:
    id: uuid.UUID
    name: str
    region: str
    status: str
    require_second_factor: bool
    min_password_length: int
    session_idle_minutes: int
    session_absolute_minutes: int
    user_count: int = 0
    allowed_second_factors: tuple[str, ...] = SECOND_FACTOR_METHODS
    allow_account_password_clients: bool = False
    internal_sharing_allowed: bool = True

    @classmethod
    def of(cls, row: Organization, user_count: int = 0) -> OrganisationView:
        return cls(
            id=row.id,
            name=row.name,
            region=row.region,
            status=row.status,
            require_second_factor=row.require_second_factor,
            min_password_length=row.min_password_length,
            session_idle_minutes=row.session_idle_minutes,
            session_absolute_minutes=row.session_absolute_minutes,
            user_count=user_count,
            allowed_second_factors=parse_second_factor_methods(row.allowed_second_factors),
            allow_account_password_clients=row.allow_account_password_clients,
            internal_sharing_allowed=row.internal_sharing_allowed,
        )

    @property
    def policy(self) -> OrganisationPolicy:
        return OrganisationPolicy(
            require_second_factor=self.require_second_factor,
            allowed_second_factors=self.allowed_second_factors,
            min_password_length=self.min_password_length,
            session_idle_minutes=self.session_idle_minutes,
            session_absolute_minutes=self.session_absolute_minutes,
            allow_account_password_clients=self.allow_account_password_clients,
            internal_sharing_allowed=self.internal_sharing_allowed,
        )


class OrganisationService:
    def __init__(
        self, database: Database, audit: AuditLog, clock: Clock, *, default_region: str
    ) -> None:
        self._database = database
        self._audit = audit
        self._clock = clock
        self._default_region = default_region

    def create(
        self,
        actor: Actor,
        *,
        name: str,
        client: ClientInfo,
        region: str | None = None,
        require_second_factor: bool = False,
    ) -> OrganisationView:
        if not actor.is_provider_admin:
            raise PermissionDenied("Only provider administrators may create organisations.")
        clean_name = clean_organisation_name(name)
        clean_region_code = clean_region(region or self._default_region)
        with self._database.transaction() as session:
            if _find_by_name(session, clean_name) is not None:
                raise AlreadyExists(f"An organisation named {clean_name!r} already exists.")
            row = Organization(
                id=uuid.uuid4(),
                name=clean_name,
                name_key=clean_name.casefold(),
                region=clean_region_code,
                status="active",
                require_second_factor=require_second_factor,
                allowed_second_factors="totp,email",
                min_password_length=12,
                session_idle_minutes=60,
                session_absolute_minutes=12 * 60,
                created_at=self._clock.now(),
            )
            session.add(row)
            session.flush()
            self._audit.record(
                session,
                AuditEventType.ORGANISATION_CREATED,
                organization_id=row.id,
                client=client,
                actor=actor,
                name=clean_name,
                region=clean_region_code,
                require_second_factor=require_second_factor,
            )
            return OrganisationView.of(row)

    def set_second_factor_requirement(
        self, actor: Actor, *, organization_id: uuid.UUID, required: bool, client: ClientInfo
    ) -> OrganisationView:
        with self._database.transaction() as session:
            row = visible_organisation(session, actor, organization_id)
            if not (actor.is_provider_admin or actor.is_org_admin):
                raise PermissionDenied("Only administrators may change the organisation's policy.")
            before = row.require_second_factor
            row.require_second_factor = required
            self._audit.record(
                session,
                AuditEventType.ORGANISATION_POLICY_CHANGED,
                organization_id=row.id,
                client=client,
                actor=actor,
                setting="require_second_factor",
                old=before,
                new=required,
            )
            if required and not before:
                self._end_devices_without_second_factor(session, row, actor, client)
            return OrganisationView.of(row)

    def update_policy(
        self,
        actor: Actor,
        *,
        organization_id: uuid.UUID,
        client: ClientInfo,
        require_second_factor: bool | None = None,
        allowed_second_factors: Iterable[str] | None = None,
        min_password_length: int | None = None,
        session_idle_minutes: int | None = None,
        session_absolute_minutes: int | None = None,
        allow_account_password_clients: bool | None = None,
        internal_sharing_allowed: bool | None = None,
    ) -> OrganisationView:
        """Change any of the policy settings (None keeps one); one audit event per change.

        The new policy is checked as a whole, so a bad value changes nothing at all.
        """
        with self._database.transaction() as session:
            row = visible_organisation(session, actor, organization_id)
            if not (actor.is_provider_admin or actor.is_org_admin):
                raise PermissionDenied("Only administrators may change the organisation's policy.")
            before = OrganisationView.of(row).policy
            after = check_policy(
                OrganisationPolicy(
                    require_second_factor=_keep(
                        require_second_factor, before.require_second_factor
                    ),
                    allowed_second_factors=tuple(
                        _keep(allowed_second_factors, before.allowed_second_factors)
                    ),
                    min_password_length=_keep(min_password_length, before.min_password_length),
                    session_idle_minutes=_keep(session_idle_minutes, before.session_idle_minutes),
                    session_absolute_minutes=_keep(
                        session_absolute_minutes, before.session_absolute_minutes
                    ),
                    allow_account_password_clients=_keep(
                        allow_account_password_clients, before.allow_account_password_clients
                    ),
                    internal_sharing_allowed=_keep(
                        internal_sharing_allowed, before.internal_sharing_allowed
                    ),
                )
            )
            for setting in fields(OrganisationPolicy):
                old, new = getattr(before, setting.name), getattr(after, setting.name)
                if old == new:
                    continue
                if setting.name == "allowed_second_factors":
                    row.allowed_second_factors = format_second_factor_methods(new)
                    old, new = list(old), list(new)
                else:
                    setattr(row, setting.name, new)
                self._audit.record(
                    session,
                    AuditEventType.ORGANISATION_POLICY_CHANGED,
                    organization_id=row.id,
                    client=client,
                    actor=actor,
                    setting=setting.name,
                    old=old,
                    new=new,
                )
            if after.require_second_factor and not before.require_second_factor:
                self._end_devices_without_second_factor(session, row, actor, client)
            return OrganisationView.of(row)

    def _end_devices_without_second_factor(
        self, session: Session, row: Organization, actor: Actor, client: ClientInfo
    ) -> None:
        """The new requirement reaches what is already signed in: members without a second
        factor lose their devices now, and their browsers are sent to enrolment at their next
        page (see `WebSessionService.resolve`)."""
        without_factor = select(User.id).where(
            User.organization_id == row.id, User.second_factor_method.is_(None)
        )
        revoke_device_tokens(
            session,
            self._audit,
            DeviceToken.user_id.in_(without_factor),
            now=self._clock.now(),
            client=client,
            actor=actor,
            reason="second_factor_required",
        )

    def own_settings(self, actor: Actor) -> OrganisationView:
        """The Organization Admin's own organisation, for its settings page."""
        if not actor.is_org_admin or actor.organization_id is None:
            raise PermissionDenied(
                N_("Only Organization Admins may open the organisation settings.")
            )
        return self.get(actor, actor.organization_id)

    def get(self, actor: Actor, organization_id: uuid.UUID) -> OrganisationView:
        with self._database.transaction() as session:
            return OrganisationView.of(visible_organisation(session, actor, organization_id))

    def find_by_name(self, actor: Actor, name: str) -> OrganisationView:
        with self._database.transaction() as session:
            row = _find_by_name(session, name.strip())
            if row is None or not _may_see(actor, row.id):
                raise NotFound(f"No organisation named {name.strip()!r}.")
            return OrganisationView.of(row)

    def list_all(self, actor: Actor) -> list[OrganisationView]:
        if not actor.is_provider_admin:
            raise PermissionDenied("Only provider administrators may list organisations.")
        counts = (
            select(User.organization_id, func.count().label("n"))
            .group_by(User.organization_id)
            .subquery()
        )
        query = (
            select(Organization, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.organization_id == Organization.id)
            .order_by(Organization.name_key)
        )
        with self._database.transaction() as session:
            return [OrganisationView.of(row, count) for row, count in session.execute(query)]


def _keep(value: T | None, current: T) -> T:
    return current if value is None else value


def _find_by_name(session: Session, name: str) -> Organization | None:
    query = select(Organization).where(Organization.name_key == name.casefold())
    return session.scalars(query).one_or_none()


def _may_see(actor: Actor, organization_id: uuid.UUID) -> bool:
    return actor.is_provider_admin or actor.organization_id == organization_id


def visible_organisation(
    session: Session, actor: Actor, organization_id: uuid.UUID
) -> Organization:
    row = session.get(Organization, organization_id)
    if row is None or not _may_see(actor, organization_id):
        raise NotFound("No such organisation.")
    return row
