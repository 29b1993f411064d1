"""The append-only audit trail: who did what, to whom, when, from where."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sfs.domain.actor import OPERATOR_USER_ID, Actor, ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import PermissionDenied
from sfs.metadata.db import Database
from sfs.metadata.models import AuditEvent
from sfs.ports import Clock


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


class AuditLog:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

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
        """Add an event inside the caller's unit of work, so it commits (or not) with the change."""
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
            )
        )

    def recent(self, actor: Actor, *, limit: int = 100) -> list[AuditEntry]:
        """Newest first; an Organization Admin sees their organisation, a provider admin all."""
        if not (actor.is_org_admin or actor.is_provider_admin):
            raise PermissionDenied("Only administrators may read the audit log.")
        query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
        if not actor.is_provider_admin:
            query = query.where(AuditEvent.organization_id == actor.organization_id)
        with self._database.transaction() as session:
            return [_entry(row) for row in session.scalars(query)]


def _clip(value: str | None, length: int) -> str | None:
    return value[:length] if value is not None else None


def _entry(row: AuditEvent) -> AuditEntry:
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
    )
