"""Login Flow v2, the browser's side: the user logs in (second factor included, through the
usual pages) and grants, or refuses, a device the app password it is waiting for."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from sfs.domain.errors import EnrolmentRequired, PasswordChangeRequired
from sfs.services.identity.web_sessions import ActiveSession
from sfs.web.portal.guards import require_fresh_form
from sfs.web.portal.rendering import render
from sfs.web.portal.return_to import forget_return, remember_return
from sfs.web.portal.session import current_session, detour, services_of

router = APIRouter(include_in_schema=False)
FLOW = "/login/v2/flow/{token}"


@router.get(FLOW)
def flow_page(request: Request, token: str) -> Response:
    active = _signed_in(request, token)
    if isinstance(active, Response):
        return active
    waiting = services_of(request).login_flows.waiting(active.actor, token)  # NotFound: 404
    response = render(
        request,
        "login_flow.html",
        {
            "session": active,
            "client_name": waiting.client_name,
            "token": token,
            "granted": waiting.granted,
        },
    )
    forget_return(response)
    return response


@router.post(FLOW)
def flow_answer(
    request: Request,
    token: str,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    answer: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    active = _signed_in(request, token)
    if isinstance(active, Response):
        return active
    require_fresh_form(active, csrf_token)
    flows = services_of(request).login_flows
    granted = answer == "grant"
    name = flows.grant(active.actor, token) if granted else flows.deny(active.actor, token)
    return render(
        request,
        "login_flow_done.html",
        {"session": active, "client_name": name, "granted": granted},
    )


def _signed_in(request: Request, token: str) -> ActiveSession | Response:
    """The signed-in session, or where the browser goes first (and comes back from)."""
    path = FLOW.format(token=token)
    try:
        active = current_session(request)
    except (EnrolmentRequired, PasswordChangeRequired) as owed:
        redirect = detour(owed)
        assert redirect is not None
        remember_return(redirect, request, path)
        return redirect
    if active is not None:
        return active
    to_login = RedirectResponse("/login", status_code=303)
    remember_return(to_login, request, path)
    return to_login
