"""The provider console: organisations, their first Organization Admin, suspension."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from sfs.domain.errors import AlreadyExists, InvalidInput, NotFound, SfsError
from sfs.i18n import N_
from sfs.protocol.sizes import byte_size
from sfs.services.identity.web_sessions import ActiveSession
from sfs.web.errors import status_for
from sfs.web.portal.guards import require_fresh_form, to_login
from sfs.web.portal.rendering import render
from sfs.web.portal.session import client_of, current_session, services_of

router = APIRouter(include_in_schema=False)

FIELD_LIMIT = 320
CsrfField = Annotated[str, Form(max_length=128)]
TextField = Annotated[str, Form(max_length=FIELD_LIMIT)]
# What the page says after a change; the text itself is in the template, so it is translated.
DONE = ("created", "invited", "suspended", "reactivated")


@router.get("/provider")
def provider_console(request: Request, done: str = "") -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    return _page(request, active, done=done if done in DONE else "")


@router.post("/provider/organisations")
def create_organisation(
    request: Request,
    csrf_token: CsrfField = "",
    name: TextField = "",
    region: TextField = "",
    require_second_factor: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    try:
        services_of(request).organisations.create(
            active.actor,
            name=name,
            region=region or None,
            require_second_factor=bool(require_second_factor),
            client=client_of(request),
        )
    except (InvalidInput, AlreadyExists) as exc:
        form = {
            "name": name,
            "region": region,
            "require_second_factor": bool(require_second_factor),
        }
        return _page(request, active, create_form=form, create_error=exc)
    return RedirectResponse("/provider?done=created", status_code=303)


@router.post("/provider/admins")
def invite_organisation_admin(
    request: Request,
    csrf_token: CsrfField = "",
    organization_id: TextField = "",
    display_name: TextField = "",
    email: TextField = "",
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    form = {
        "organization_id": organization_id,
        "display_name": display_name,
        "email": email,
    }
    try:
        services_of(request).provider.invite_organisation_admin(
            active.actor,
            organization_id=_organisation_id(organization_id),
            email=email,
            display_name=display_name,
            client=client_of(request),
        )
    except (InvalidInput, AlreadyExists, NotFound) as exc:
        return _page(request, active, invite_form=form, invite_error=exc)
    return RedirectResponse("/provider?done=invited", status_code=303)


@router.post("/provider/organisations/{organization_id}/suspend")
def suspend_organisation(
    request: Request, organization_id: uuid.UUID, csrf_token: CsrfField = ""
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    services_of(request).provider.suspend(
        active.actor, organization_id=organization_id, client=client_of(request)
    )
    return RedirectResponse("/provider?done=suspended", status_code=303)


@router.post("/provider/organisations/{organization_id}/reactivate")
def reactivate_organisation(
    request: Request, organization_id: uuid.UUID, csrf_token: CsrfField = ""
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    services_of(request).provider.reactivate(
        active.actor, organization_id=organization_id, client=client_of(request)
    )
    return RedirectResponse("/provider?done=reactivated", status_code=303)


def _organisation_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise InvalidInput(N_("Choose an organisation."), field="organization_id") from None


def _page(
    request: Request,
    active: ActiveSession,
    *,
    done: str = "",
    create_form: dict[str, object] | None = None,
    create_error: SfsError | None = None,
    invite_form: dict[str, str] | None = None,
    invite_error: SfsError | None = None,
) -> Response:
    services = services_of(request)
    summaries = services.provider.overview(active.actor)  # refuses all but provider admins
    error = create_error or invite_error
    return render(
        request,
        "provider.html",
        {
            "session": active,
            "summaries": summaries,
            "done": done,
            "create_form": create_form
            or {"name": "", "region": services.settings.region, "require_second_factor": False},
            "create_error": create_error,
            "invite_form": invite_form or {"organization_id": "", "display_name": "", "email": ""},
            "invite_error": invite_error,
            "byte_size": byte_size,
        },
        status_code=status_for(error) if error else 200,
    )
