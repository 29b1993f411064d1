"""The audit log over REST: the same filters and tenant rule as the portal's page."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from sfs.domain.audit import AuditEventType
from sfs.protocol.limits import MAX_SEQUENCE
from sfs.services.audit import MAX_PAGE_SIZE, AuditEntry, AuditFilter
from sfs.web.api.deps import ActorDep, ServicesDep
from sfs.web.api.ranges import DayQuery
from sfs.web.api.responses import ADMIN

router = APIRouter(prefix="/audit", tags=["audit"])

_ERRORS = ADMIN


class AuditEventOut(BaseModel):
    id: int
    occurred_at: datetime
    event_type: str
    organization_id: uuid.UUID | None
    organization_name: str | None
    actor_email: str | None
    target_email: str | None
    client_address: str | None
    user_agent: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEventOut:
        return cls(
            id=entry.id,
            occurred_at=entry.occurred_at,
            event_type=entry.event_type,
            organization_id=entry.organization_id,
            organization_name=entry.organization_name,
            actor_email=entry.actor_email,
            target_email=entry.target_email,
            client_address=entry.client_address,
            user_agent=entry.user_agent,
            details=entry.details,
        )


class AuditPageOut(BaseModel):
    events: list[AuditEventOut]
    next_before: int | None = Field(description="pass as `before` for the next, older page")


@router.get("", response_model=AuditPageOut, responses=_ERRORS)
def list_audit_events(
    actor: ActorDep,
    services: ServicesDep,
    user: Annotated[
        str, Query(max_length=254, description="part of an actor or target email")
    ] = "",
    event_type: Annotated[
        AuditEventType | Literal[""], Query(description="one kind of event; empty: all")
    ] = "",
    date_from: Annotated[DayQuery, Query(description="first day, UTC, included")] = None,
    date_to: Annotated[DayQuery, Query(description="last day, UTC, included")] = None,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_SEQUENCE, description="only events older than this id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 100,
) -> AuditPageOut:
    """Newest first. Organization Admins see their organisation's events; provider admins all."""
    page = services.audit.search(
        actor,
        where=AuditFilter(user=user, event_type=event_type, date_from=date_from, date_to=date_to),
        before=before,
        limit=limit,
    )
    return AuditPageOut(
        events=[AuditEventOut.of(entry) for entry in page.entries], next_before=page.next_before
    )
