"""The portal's view of a browser: its session cookie, CSRF checks, the signed-in actor."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from sfs.app import Services
from sfs.domain.actor import ClientInfo
from sfs.domain.errors import EnrolmentRequired, NotAuthenticated, PasswordChangeRequired
from sfs.services.identity.web_sessions import ActiveSession

SESSION_COOKIE = "sfs_session"
# Forms shown before login (the login form itself) use a double-submit cookie instead.
ANONYMOUS_CSRF_COOKIE = "sfs_csrf"


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def client_of(request: Request) -> ClientInfo:
    return ClientInfo(
        address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


def current_session(
    request: Request, *, allow_password_change: bool = False
) -> ActiveSession | None:
    """The signed-in browser's session, or None.

    A session that owes a second factor or a new password raises EnrolmentRequired or
    PasswordChangeRequired, which the page error handler turns into a visit to that page.
    """
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        return services_of(request).web_sessions.resolve(
            cookie, client=client_of(request), allow_password_change=allow_password_change
        )
    except NotAuthenticated:
        return None


def password_changing_session(request: Request) -> ActiveSession | None:
    """For the change-password page and logging out: open to a user who must change it."""
    return current_session(request, allow_password_change=True)


def shown_session(request: Request) -> ActiveSession | None:
    """For the top bar of pages anyone may open (errors, invitations): never sends elsewhere."""
    try:
        return current_session(request)
    except (EnrolmentRequired, PasswordChangeRequired):
        return None


def detour(problem: Exception) -> RedirectResponse | None:
    """Where a browser goes when its session owes something before any other page."""
    if isinstance(problem, PasswordChangeRequired):
        return RedirectResponse("/account/password", status_code=303)
    if isinstance(problem, EnrolmentRequired):
        return RedirectResponse("/enrol", status_code=303)
    return None


def set_session_cookie(response: Response, request: Request, value: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        value,
        httponly=True,
        samesite="lax",
        secure=services_of(request).settings.served_over_https,
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def anonymous_csrf_token(request: Request) -> str:
    return request.cookies.get(ANONYMOUS_CSRF_COOKIE) or secrets.token_urlsafe(32)


def set_anonymous_csrf_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        ANONYMOUS_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=services_of(request).settings.served_over_https,
        path="/",
    )


def tokens_match(expected: str | None, submitted: str | None) -> bool:
    if not expected or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())
