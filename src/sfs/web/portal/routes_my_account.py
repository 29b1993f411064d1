"""My account: reached by clicking the account name at the top of every page."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from sfs.domain.errors import InvalidInput, NotFound, TooManyAttempts
from sfs.i18n import LANGUAGE_NAMES, N_
from sfs.services.identity.web_sessions import ActiveSession
from sfs.web.errors import headers_for, status_for
from sfs.web.portal.guards import require_fresh_form, to_login
from sfs.web.portal.rendering import render
from sfs.web.portal.session import (
    SESSION_COOKIE,
    client_of,
    current_session,
    password_changing_session,
    services_of,
)

router = APIRouter(include_in_schema=False)

PASSWORD_LIMIT = 1024
DONE = ("password", "language", "session", "device", "second_factor")


def _to_account(done: str) -> RedirectResponse:
    return RedirectResponse(f"/account?done={done}", status_code=303)


@router.get("/account")
def my_account(request: Request, done: str = "") -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    account = services_of(request).my_account.overview(
        active.actor, current_session_cookie=request.cookies.get(SESSION_COOKIE)
    )
    return render(
        request,
        "account.html",
        {
            "session": active,
            "account": account,
            "languages": LANGUAGE_NAMES,
            "done": done if done in DONE else "",
        },
    )


@router.get("/account/password")
def change_password_form(request: Request) -> Response:
    active = password_changing_session(request)
    if active is None:
        return to_login()
    return _password_page(request, active, sign_out_others=True)


@router.post("/account/password")
def change_password(
    request: Request,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    current_password: Annotated[str, Form(max_length=PASSWORD_LIMIT)] = "",
    new_password: Annotated[str, Form(max_length=PASSWORD_LIMIT)] = "",
    confirm_password: Annotated[str, Form(max_length=PASSWORD_LIMIT)] = "",
    sign_out_others: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    active = password_changing_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    try:
        services_of(request).my_account.change_password(
            active.actor,
            current_password=current_password,
            new_password=new_password,
            confirm_password=confirm_password,
            sign_out_other_sessions=bool(sign_out_others),
            client=client_of(request),
            current_session_cookie=request.cookies.get(SESSION_COOKIE),
        )
    except (InvalidInput, TooManyAttempts) as exc:
        response = _password_page(
            request,
            active,
            sign_out_others=bool(sign_out_others),
            error=exc.message,
            status_code=status_for(exc),
        )
        response.headers.update(headers_for(exc))
        return response
    return _to_account("password")


def _min_password_length(request: Request, active: ActiveSession) -> int:
    organization_id = active.actor.organization_id
    if organization_id is None:
        return 0  # a provider administrator: the policy's own minimum
    return services_of(request).organisations.get(active.actor, organization_id).min_password_length


def _password_page(
    request: Request,
    active: ActiveSession,
    *,
    sign_out_others: bool,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    required = services_of(request).login.password_change_required(active.actor)
    return render(
        request,
        "account_password.html",
        {
            "session": active,
            "sign_out_others": sign_out_others,
            "error": error,
            "required": required,
            "min_password_length": _min_password_length(request, active),
        },
        status_code=status_code,
    )


@router.post("/account/language")
def set_language(
    request: Request,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    language: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    services_of(request).my_account.set_language(
        active.actor, language=language, client=client_of(request)
    )
    return _to_account("language")


@router.post("/account/sessions/{handle}/revoke")
def revoke_session(
    request: Request, handle: str, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    services = services_of(request)
    services.my_account.revoke_browser(active.actor, handle=handle[:64], client=client_of(request))
    if current_session(request) is None:  # the user signed out this very browser
        return to_login()
    return _to_account("session")


@router.post("/account/devices/{device_id}/revoke")
def revoke_device(
    request: Request, device_id: str, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    try:
        token_id = uuid.UUID(device_id)
    except ValueError:
        raise NotFound(N_("No such device.")) from None
    services_of(request).device_tokens.revoke(active.actor, token_id, client=client_of(request))
    return _to_account("device")
