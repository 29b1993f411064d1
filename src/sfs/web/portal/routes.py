"""Portal pages: log in, log out, home, my account."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from sfs.domain.errors import (
    AccountUnavailable,
    AuthenticationFailed,
    NotAuthenticated,
    TooManyAttempts,
)
from sfs.domain.stages import LoginStage
from sfs.protocol.sizes import byte_size
from sfs.services.identity.web_sessions import ActiveSession
from sfs.web.errors import headers_for, status_for
from sfs.web.portal.rendering import render
from sfs.web.portal.return_to import forget_return, pending_return
from sfs.web.portal.routes_second_factor import landing_page
from sfs.web.portal.session import (
    ANONYMOUS_CSRF_COOKIE,
    SESSION_COOKIE,
    anonymous_csrf_token,
    clear_session_cookie,
    client_of,
    current_session,
    services_of,
    set_anonymous_csrf_cookie,
    set_session_cookie,
    tokens_match,
)

router = APIRouter(include_in_schema=False)

FAVICON = Path(__file__).parent / "static" / "favicon.svg"

FIELD_LIMIT = 1024


def _to_login() -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


@router.get("/login")
def login_form(request: Request) -> Response:
    if current_session(request) is not None:
        return RedirectResponse("/", status_code=303)
    return _login_page(request)


def _login_page(
    request: Request,
    *,
    email: str = "",
    error: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    token = anonymous_csrf_token(request)
    response = render(
        request,
        "login.html",
        {"csrf_token": token, "email": email, "error": error},
        status_code=status_code,
    )
    set_anonymous_csrf_cookie(response, request, token)
    response.headers.update(headers or {})
    return response


@router.post("/login")
def login_submit(
    request: Request,
    email: Annotated[str, Form(max_length=FIELD_LIMIT)] = "",
    password: Annotated[str, Form(max_length=FIELD_LIMIT)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    if not tokens_match(request.cookies.get(ANONYMOUS_CSRF_COOKIE), csrf_token):
        return _login_page(
            request,
            email=email,
            error="Your form expired. Please try again.",
            status_code=403,
        )
    services = services_of(request)
    client = client_of(request)
    try:
        actor = services.login.authenticate(
            email=email, password=password, client=client, channel="web"
        )
    except (AuthenticationFailed, TooManyAttempts, AccountUnavailable) as exc:
        return _login_page(
            request,
            email=email,
            error=exc.message,
            status_code=status_for(exc),
            headers=headers_for(exc),
        )
    # A correct password alone may not be enough: the session starts pending when a second
    # factor is due (its challenge is sent now) or must first be set up.
    stage = services.second_factor.stage_after_password(actor, client=client)
    new = services.web_sessions.start(
        actor, client=client, replaces=request.cookies.get(SESSION_COOKIE), stage=stage
    )
    pending = ActiveSession(actor=actor, csrf_token=new.csrf_token, stage=stage)
    response = RedirectResponse(landing_page(request, pending, stage), status_code=303)
    set_session_cookie(response, request, new.cookie_value)
    return response


def _session_to_end(request: Request) -> ActiveSession | None:
    """The browser's session at any stage: a login not finished may be abandoned too."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        return services_of(request).web_sessions.resolve(
            cookie, client=client_of(request), allow_pending=True, allow_password_change=True
        )
    except NotAuthenticated:
        return None


@router.get("/logout")
def logout_confirmation(request: Request) -> Response:
    """A typed or linked /logout asks first: logging out changes state, so only a POST does it."""
    active = _session_to_end(request)
    if active is None:
        return _to_login()
    shown = active if active.stage is LoginStage.ACTIVE else None
    return render(request, "logout.html", {"session": shown, "pending": active})


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form(max_length=128)] = "") -> Response:
    active = _session_to_end(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    if active is None or cookie is None:
        response = _to_login()
        clear_session_cookie(response)
        return response
    if not tokens_match(active.csrf_token, csrf_token):
        return render(
            request,
            "logout.html",
            {
                "session": active if active.stage is LoginStage.ACTIVE else None,
                "pending": active,
                "expired": True,
            },
            status_code=403,
        )
    services_of(request).web_sessions.end(cookie, client=client_of(request))
    response = _to_login()
    clear_session_cookie(response)
    return response


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    """Browsers ask for /favicon.ico on every page; the portal's mark answers (SVG)."""
    return FileResponse(
        FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"}
    )


@router.get("/")
def home(request: Request) -> Response:
    active = current_session(request)
    if active is None:
        return _to_login()
    back = pending_return(request)
    if back is not None:  # a page sent the browser to log in, and waits for it
        response = RedirectResponse(back, status_code=303)
        forget_return(response)
        return response
    return render(request, "home.html", _home_context(request, active))


HOME_NOTICES = ("second_factor",)


def _home_context(request: Request, active: ActiveSession) -> dict[str, Any]:
    """Everything the home page shows, each part from its service (all read-only)."""
    services = services_of(request)
    actor = active.actor
    context: dict[str, Any] = {
        "session": active,
        "done": request.query_params.get("done")
        if request.query_params.get("done") in HOME_NOTICES
        else "",
        "byte_size": byte_size,
        "organisation": None,
        "mine": None,
        "devices": [],
        "state": None,
    }
    if actor.organization_id is None:
        return context  # a provider administrator: the console is their home
    context["organisation"] = services.organisations.get(actor, actor.organization_id)
    context["mine"] = services.overview.mine(actor)
    listing = services.devices.listing(
        actor, current_session_cookie=request.cookies.get(SESSION_COOKIE)
    )
    context["devices"] = [device for device in listing.devices if device.working]
    if actor.is_org_admin:
        context["state"] = services.overview.organisation(actor)
    return context
