"""Organisation settings: the Organization Admin's security policy for their organisation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from sfs.domain.errors import InvalidInput
from sfs.domain.policy import (
    MIN_PASSWORD_LENGTH_CEILING,
    MIN_PASSWORD_LENGTH_FLOOR,
    SESSION_ABSOLUTE_MINUTES_RANGE,
    SESSION_IDLE_MINUTES_RANGE,
)
from sfs.i18n import N_
from sfs.services.identity.web_sessions import ActiveSession
from sfs.services.organisations.organisations import OrganisationView
from sfs.web.errors import status_for
from sfs.web.portal.guards import require_fresh_form, to_login
from sfs.web.portal.rendering import render
from sfs.web.portal.session import client_of, current_session, services_of

router = APIRouter(include_in_schema=False)

NUMBER_LIMIT = 12


@router.get("/organisation")
def organisation_settings(request: Request, saved: bool = False) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    organisation = services_of(request).organisations.own_settings(active.actor)
    return _page(request, active, organisation, form=_form_of(organisation), saved=saved)


@router.post("/organisation")
def save_organisation_settings(
    request: Request,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    require_second_factor: Annotated[str, Form(max_length=8)] = "",
    allowed_second_factors: Annotated[list[str] | None, Form(max_length=16)] = None,
    min_password_length: Annotated[str, Form(max_length=NUMBER_LIMIT)] = "",
    session_idle_minutes: Annotated[str, Form(max_length=NUMBER_LIMIT)] = "",
    session_absolute_minutes: Annotated[str, Form(max_length=NUMBER_LIMIT)] = "",
    allow_account_password_clients: Annotated[str, Form(max_length=8)] = "",
    internal_sharing_allowed: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    services = services_of(request)
    organisation = services.organisations.own_settings(active.actor)
    form: dict[str, object] = {
        "require_second_factor": bool(require_second_factor),
        "allowed_second_factors": list(allowed_second_factors or []),
        "min_password_length": min_password_length,
        "session_idle_minutes": session_idle_minutes,
        "session_absolute_minutes": session_absolute_minutes,
        "allow_account_password_clients": bool(allow_account_password_clients),
        "internal_sharing_allowed": bool(internal_sharing_allowed),
    }
    try:
        services.organisations.update_policy(
            active.actor,
            organization_id=organisation.id,
            client=client_of(request),
            require_second_factor=bool(require_second_factor),
            allowed_second_factors=allowed_second_factors or [],
            min_password_length=_whole_number(min_password_length, "min_password_length"),
            session_idle_minutes=_whole_number(session_idle_minutes, "session_idle_minutes"),
            session_absolute_minutes=_whole_number(
                session_absolute_minutes, "session_absolute_minutes"
            ),
            allow_account_password_clients=bool(allow_account_password_clients),
            internal_sharing_allowed=bool(internal_sharing_allowed),
        )
    except InvalidInput as exc:
        return _page(
            request, active, organisation, form=form, error=exc, status_code=status_for(exc)
        )
    return RedirectResponse("/organisation?saved=true", status_code=303)


def _whole_number(raw: str, field: str) -> int:
    text = raw.strip()
    if not text.isascii() or not text.isdigit():
        raise InvalidInput(N_("Enter a whole number."), field=field)
    return int(text)


def _form_of(organisation: OrganisationView) -> dict[str, object]:
    return {
        "require_second_factor": organisation.require_second_factor,
        "allowed_second_factors": list(organisation.allowed_second_factors),
        "min_password_length": str(organisation.min_password_length),
        "session_idle_minutes": str(organisation.session_idle_minutes),
        "session_absolute_minutes": str(organisation.session_absolute_minutes),
        "allow_account_password_clients": organisation.allow_account_password_clients,
        "internal_sharing_allowed": organisation.internal_sharing_allowed,
    }


def _page(
    request: Request,
    active: ActiveSession,
    organisation: OrganisationView,
    *,
    form: dict[str, object],
    saved: bool = False,
    error: InvalidInput | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "organisation.html",
        {
            "session": active,
            "organisation": organisation,
            "form": form,
            "saved": saved,
            "error": error,
            "bounds": {
                "min_password_length": (MIN_PASSWORD_LENGTH_FLOOR, MIN_PASSWORD_LENGTH_CEILING),
                "session_idle_minutes": SESSION_IDLE_MINUTES_RANGE,
                "session_absolute_minutes": SESSION_ABSOLUTE_MINUTES_RANGE,
            },
        },
        status_code=status_code,
    )
