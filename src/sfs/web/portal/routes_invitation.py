"""The page an invitation email links to: choose a password, and the account is active."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from sfs.domain.errors import InvalidInput, InvalidLink
from sfs.web.errors import status_for
from sfs.web.portal.rendering import render
from sfs.web.portal.session import (
    ANONYMOUS_CSRF_COOKIE,
    anonymous_csrf_token,
    client_of,
    services_of,
    set_anonymous_csrf_cookie,
    shown_session,
    tokens_match,
)

router = APIRouter(include_in_schema=False)

PASSWORD_LIMIT = 1024
TOKEN_LIMIT = 200


@router.get("/invitation/{token}")
def invitation(request: Request, token: str) -> Response:
    return _invitation_page(request, token[:TOKEN_LIMIT])


@router.post("/invitation/{token}")
def accept_invitation(
    request: Request,
    token: str,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    new_password: Annotated[str, Form(max_length=PASSWORD_LIMIT)] = "",
    confirm_password: Annotated[str, Form(max_length=PASSWORD_LIMIT)] = "",
) -> Response:
    token = token[:TOKEN_LIMIT]
    if not tokens_match(request.cookies.get(ANONYMOUS_CSRF_COOKIE), csrf_token):
        return _invitation_page(
            request, token, error="Your form expired. Please try again.", status_code=403
        )
    services = services_of(request)
    try:
        email = services.invitations.accept(
            token,
            new_password=new_password,
            confirm_password=confirm_password,
            client=client_of(request),
        )
    except InvalidLink as exc:
        return _link_error(request, exc)
    except InvalidInput as exc:
        return _invitation_page(request, token, error=exc.message, status_code=status_for(exc))
    return render(
        request, "invitation_done.html", {"session": shown_session(request), "email": email}
    )


def _invitation_page(
    request: Request, token: str, *, error: str | None = None, status_code: int = 200
) -> Response:
    try:
        found = services_of(request).invitations.look_up(token)
    except InvalidLink as exc:
        return _link_error(request, exc)
    csrf = anonymous_csrf_token(request)
    response = render(
        request,
        "invitation.html",
        {
            "session": shown_session(request),
            "invitation": found,
            "token": token,
            "csrf_token": csrf,
            "error": error,
        },
        status_code=status_code,
    )
    set_anonymous_csrf_cookie(response, request, csrf)
    response.headers["Cache-Control"] = "no-store"
    return response


def _link_error(request: Request, exc: InvalidLink) -> Response:
    return render(
        request,
        "error.html",
        {
            "session": shown_session(request),
            "title": "This link does not work",
            "message": exc.message,
        },
        status_code=status_for(exc),
    )
