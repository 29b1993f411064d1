"""`Forgot password?`: ask for a link, then set a new password (with the Backup Key if enrolled)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from sfs.domain.errors import InvalidCode, InvalidInput, TooManyAttempts
from sfs.web.errors import headers_for, status_for
from sfs.web.portal.rendering import render
from sfs.web.portal.session import (
    ANONYMOUS_CSRF_COOKIE,
    anonymous_csrf_token,
    client_of,
    services_of,
    set_anonymous_csrf_cookie,
    tokens_match,
)

router = APIRouter(include_in_schema=False)

FIELD_LIMIT = 1024


def _anonymous_page(
    request: Request, template: str, status_code: int = 200, **context: object
) -> Response:
    token = anonymous_csrf_token(request)
    response = render(request, template, {"csrf_token": token, **context}, status_code=status_code)
    set_anonymous_csrf_cookie(response, request, token)
    return response


def _form_is_genuine(request: Request, submitted: str) -> bool:
    return tokens_match(request.cookies.get(ANONYMOUS_CSRF_COOKIE), submitted)


@router.get("/password/forgot")
def forgot_form(request: Request) -> Response:
    return _anonymous_page(request, "password_forgot.html")


@router.post("/password/forgot")
def forgot_submit(
    request: Request,
    email: Annotated[str, Form(max_length=FIELD_LIMIT)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    if not _form_is_genuine(request, csrf_token):
        return _anonymous_page(
            request, "password_forgot.html", 403, error="Your form expired. Please try again."
        )
    if not email.strip():
        return _anonymous_page(
            request, "password_forgot.html", 422, error="Enter your email address."
        )
    try:
        services_of(request).password_reset.request(email=email, client=client_of(request))
    except TooManyAttempts as problem:
        response = _anonymous_page(request, "password_forgot.html", 429, error=problem.message)
        response.headers.update(headers_for(problem))
        return response
    return _anonymous_page(request, "password_forgot.html", sent=True)


@router.get("/password/reset/{token}")
def reset_form(request: Request, token: str) -> Response:
    try:
        ticket = services_of(request).password_reset.inspect(token)
    except InvalidCode as problem:
        return render(
            request,
            "error.html",
            {"title": "Link no longer valid", "message": problem.message},
            status_code=410,
        )
    return _anonymous_page(request, "password_reset.html", ticket=ticket, token=token)


@router.post("/password/reset/{token}")
def reset_submit(
    request: Request,
    token: str,
    new_password: Annotated[str, Form(max_length=FIELD_LIMIT)] = "",
    confirm_password: Annotated[str, Form(max_length=FIELD_LIMIT)] = "",
    backup_key: Annotated[str, Form(max_length=128)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    services = services_of(request)
    try:
        ticket = services.password_reset.inspect(token)
    except InvalidCode as problem:
        return render(
            request,
            "error.html",
            {"title": "Link no longer valid", "message": problem.message},
            status_code=410,
        )
    if not _form_is_genuine(request, csrf_token):
        return _anonymous_page(
            request,
            "password_reset.html",
            403,
            ticket=ticket,
            token=token,
            error="Your form expired. Please try again.",
        )
    try:
        services.password_reset.complete(
            token,
            new_password=new_password,
            confirmation=confirm_password,
            backup_key=backup_key,
            client=client_of(request),
        )
    except (InvalidInput, InvalidCode, TooManyAttempts) as problem:
        return _anonymous_page(
            request,
            "password_reset.html",
            status_for(problem),
            ticket=ticket,
            token=token,
            error=problem.message,
        )
    return render(request, "password_reset_done.html", {"ticket": ticket})
