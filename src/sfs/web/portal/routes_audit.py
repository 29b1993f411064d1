"""The audit log: a filtered, paged table of events, and the same events as CSV."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from sfs.domain.audit import AuditEventType
from sfs.domain.errors import InvalidInput
from sfs.i18n import N_
from sfs.services.audit import AuditFilter, AuditPage, require_audit_reader
from sfs.web.errors import status_for
from sfs.web.portal.csv_export import audit_csv
from sfs.web.portal.guards import to_login
from sfs.web.portal.rendering import render
from sfs.web.portal.session import client_of, current_session, services_of

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
FilterText = Annotated[str, Query(max_length=254)]


@router.get("/audit")
def audit_log(
    request: Request,
    user: FilterText = "",
    event_type: FilterText = "",
    date_from: FilterText = "",
    date_to: FilterText = "",
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_audit_reader(active.actor)
    form = {"user": user, "event_type": event_type, "date_from": date_from, "date_to": date_to}
    audit = services_of(request).audit
    error: InvalidInput | None = None
    try:
        where = _filter(user, event_type, date_from, date_to)
        page = audit.search(active.actor, where=where, before=before, limit=PAGE_SIZE)
    except InvalidInput as exc:
        error = exc
        page = AuditPage(entries=[], next_before=None)
    query = urlencode({key: value for key, value in form.items() if value})
    return render(
        request,
        "audit.html",
        {
            "session": active,
            "page": page,
            "form": form,
            "query": query,
            "first_page": before is None,
            "event_types": [kind.value for kind in AuditEventType],
            "error": error,
            "show_organisation": active.actor.is_provider_admin,
        },
        status_code=status_for(error) if error else 200,
    )


@router.get("/audit.csv")
def audit_log_csv(
    request: Request,
    user: FilterText = "",
    event_type: FilterText = "",
    date_from: FilterText = "",
    date_to: FilterText = "",
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_audit_reader(active.actor)
    services = services_of(request)
    entries = services.audit.export(
        active.actor,
        where=_filter(user, event_type, date_from, date_to),
        client=client_of(request),
    )
    stamp = services.clock.now().strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(
        audit_csv(entries),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="audit-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )


def _filter(user: str, event_type: str, date_from: str, date_to: str) -> AuditFilter:
    return AuditFilter(
        user=user,
        event_type=event_type,
        date_from=_day(date_from, "date_from"),
        date_to=_day(date_to, "date_to"),
    )


def _day(raw: str, field: str) -> date | None:
    if not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(N_("Enter dates as YYYY-MM-DD."), field=field) from None
