"""The append-only audit trail: who did what, to whom, when, from where."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

from sfs.domain.actor import OPERATOR_USER_ID, Actor, ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import InvalidInput, PermissionDenied
from sfs.domain.validation import check_sequence
from sfs.i18n import N_
from sfs.metadata.db import Database
from sfs.metadata.models import AuditEvent, Organization
from sfs.metadata.search import LIKE_ESCAPE, contains_pattern
from sfs.observability.metrics import Metrics
from sfs.observability.request_ids import current_request_id
from sfs.ports import Clock
from sfs.protocol.limits import in_day_window

MAX_PAGE_SIZE = 500
_Query = Select[AuditEvent, str]
# The export reads in batches, each in its own short transaction, so a long download never
# holds a database connection (or, on SQLite, a read lock) for its whole duration.
EXPORT_BATCH_SIZE = 500
MAX_USER_FILTER_LENGTH = 254


@dataclass(frozen=True)
class AuditEntry:
    id: int
    occurred_at: datetime
    event_type: str
    organization_id: uuid.UUID | None
    actor_email: str | None
    target_email: str | None
    client_address: str | None
    user_agent: str | None
    details: dict[str, Any]
    organization_name: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class AuditFilter:
    """Which events to show. Dates are whole days in UTC, both ends included.

    `user` matches part of the email of the event's actor or target, ignoring case.
    """

    user: str = ""
    event_type: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def checked(self) -> AuditFilter:
        user = self.user.strip()
        if len(user) > MAX_USER_FILTER_LENGTH:
            raise InvalidInput("The user filter is too long.", field="user")
        event_type = self.event_type.strip()
        if event_type and event_type not in set(AuditEventType):
            raise InvalidInput(f"Unknown event type {event_type!r}.", field="event_type")
        for field, day in (("date_from", self.date_from), ("date_to", self.date_to)):
            if day is not None and not in_day_window(day):  # the range of sfs.protocol.limits
                raise InvalidInput(N_("Give dates from 1970-01-01 to 2199-12-31."), field=field)
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InvalidInput(N_("The start date is after the end date."), field="date_from")
        return AuditFilter(user, event_type, self.date_from, self.date_to)

    def conditions(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if self.user:
            pattern = contains_pattern(self.user.casefold())
            where.append(
                or_(
                    AuditEvent.actor_email.like(pattern, escape=LIKE_ESCAPE),
                    AuditEvent.target_email.like(pattern, escape=LIKE_ESCAPE),
                )
            )
        if self.event_type:
            where.append(AuditEvent.event_type == self.event_type)
        if self.date_from:
            where.append(AuditEvent.occurred_at >= _start_of(self.date_from))
        if self.date_to:
            where.append(AuditEvent.occurred_at < _start_of(self.date_to + timedelta(days=1)))
        return where


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    # Pass as `before` to get the next (older) page; None on the last page.
    next_before: int | None


# Failed sign-ins, as the `sfs_login_failures` metric counts them (by kind).
_LOGIN_FAILURES = {
    AuditEventType.LOGIN_FAILED: "password",
    AuditEventType.SECOND_FACTOR_FAILED: "second_factor",
}


class AuditLog:
    def __init__(self, database: Database, clock: Clock, metrics: Metrics | None = None) -> None:
        self._database = database
        self._clock = clock
        self._metrics = metrics

    def record(
        self,
        session: Session,
        event_type: AuditEventType,
        *,
        organization_id: uuid.UUID | None,
        client: ClientInfo,
        actor: Actor | None = None,
        target_user_id: uuid.UUID | None = None,
        target_email: str | None = None,
        **details: Any,
    ) -> None:
        """Add an event inside the caller's unit of work, so it commits (or not) with the change.

        The request id (X-Request-ID) of the request being served, if any, goes with it: the
        same id is in every log line of that request.
        """
        if self._metrics is not None and event_type in _LOGIN_FAILURES:
            self._metrics.login_failures.labels(kind=_LOGIN_FAILURES[event_type]).inc()
        session.add(
            AuditEvent(
                occurred_at=self._clock.now(),
                organization_id=organization_id,
                event_type=event_type.value,
                actor_user_id=actor.user_id
                if actor and actor.user_id != OPERATOR_USER_ID
                else None,
                actor_email=actor.email if actor else None,
                target_user_id=target_user_id,
                target_email=target_email,
                client_address=_clip(client.address, 64),
                user_agent=_clip(client.user_agent, 255),
                details=json.dumps(details, sort_keys=True, default=str),
                request_id=current_request_id(),
            )
        )

    def recent(self, actor: Actor, *, limit: int = 100) -> list[AuditEntry]:
        """Newest first; an Organization Admin sees their organisation, a provider admin all."""
        if not (actor.is_org_admin or actor.is_provider_admin):
            raise PermissionDenied(N_("Only administrators may read the audit log."))
        query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
        if not actor.is_provider_admin:
            query = query.where(AuditEvent.organization_id == actor.organization_id)
        with self._database.transaction() as session:
            return [_entry(row) for row in session.scalars(query)]

    def search(
        self,
        actor: Actor,
        *,
        where: AuditFilter | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> AuditPage:
        """A page of events, newest first, older than event id `before` when given.

        Paging by id rather than by offset keeps every page as fast as the first.
        """
        require_audit_reader(actor)
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidInput(f"Page size must be 1 to {MAX_PAGE_SIZE}.", field="limit")
        query = _scoped(actor, (where or AuditFilter()).checked())
        if before is not None:
            query = query.where(AuditEvent.id < check_sequence(before, field="before", least=1))
        with self._database.transaction() as session:
            rows = session.execute(query.limit(limit + 1)).all()
        entries = [_entry(row.AuditEvent, row.name) for row in rows[:limit]]
        return AuditPage(entries, entries[-1].id if len(rows) > limit else None)

    def export(
        self, actor: Actor, *, where: AuditFilter | None = None, client: ClientInfo
    ) -> Iterator[AuditEntry]:
        """Every matching event, newest first, read lazily in batches.

        Permission and filters are checked, and the export itself audited, before the first
        entry is read: a refused export fails here, not halfway through a download.
        """
        require_audit_reader(actor)
        checked = (where or AuditFilter()).checked()
        query = _scoped(actor, checked)
        with self._database.transaction() as session:
            self.record(
                session,
                AuditEventType.AUDIT_LOG_EXPORTED,
                organization_id=actor.organization_id,
                client=client,
                actor=actor,
                user=checked.user,
                type=checked.event_type,
                date_from=checked.date_from,
                date_to=checked.date_to,
            )
        return self._batches(query)

    def _batches(self, query: _Query) -> Iterator[AuditEntry]:
        before: int | None = None
        while True:
            batch = query if before is None else query.where(AuditEvent.id < before)
            with self._database.transaction() as session:
                rows = session.execute(batch.limit(EXPORT_BATCH_SIZE)).all()
            for row in rows:
                yield _entry(row.AuditEvent, row.name)
            if len(rows) < EXPORT_BATCH_SIZE:
                return
            before = rows[-1].AuditEvent.id


def _clip(value: str | None, length: int) -> str | None:
    return value[:length] if value is not None else None


def _scoped(actor: Actor, where: AuditFilter) -> _Query:
    """The tenant rule, in one place: an Organization Admin reads only their organisation."""
    require_audit_reader(actor)
    query = (
        select(AuditEvent, Organization.name)
        .outerjoin(Organization, Organization.id == AuditEvent.organization_id)
        .where(*where.conditions())
        .order_by(AuditEvent.id.desc())
    )
    if not actor.is_provider_admin:
        query = query.where(AuditEvent.organization_id == actor.organization_id)
    return query


def require_audit_reader(actor: Actor) -> None:
    if not (actor.is_org_admin or actor.is_provider_admin):
        raise PermissionDenied(N_("Only administrators may read the audit log."))


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _entry(row: AuditEvent, organization_name: str | None = None) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        occurred_at=row.occurred_at,
        event_type=row.event_type,
        organization_id=row.organization_id,
        actor_email=row.actor_email,
        target_email=row.target_email,
        client_address=row.client_address,
        user_agent=row.user_agent,
        details=json.loads(row.details),
        organization_name=organization_name,
        request_id=row.request_id,
    )
