"""Two-factor pages: the method menu, enrolment, the login challenge, the Backup Key.

A correct password leaves the browser with a *pending* session (see `LoginStage`) that can reach
only these pages; finishing moves it to an active session under a new id.
"""

from __future__ import annotations

from typing import Annotated, Any

import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from sfs.domain.errors import (
    AuthenticationFailed,
    InvalidCode,
    InvalidInput,
    NotAuthenticated,
    PermissionDenied,
    ResendTooSoon,
    TooManyAttempts,
)
from sfs.domain.stages import LoginStage
from sfs.i18n import N_
from sfs.services.identity.second_factor import EMAIL, METHOD_LABELS, TOTP, TotpSetup
from sfs.services.identity.web_sessions import ActiveSession
from sfs.web.errors import status_for
from sfs.web.portal.rendering import render
from sfs.web.portal.session import (
    SESSION_COOKIE,
    client_of,
    services_of,
    set_session_cookie,
    tokens_match,
)

router = APIRouter(include_in_schema=False)

CODE_LIMIT = 64
_USER_ERRORS = (InvalidCode, InvalidInput, AuthenticationFailed, TooManyAttempts, ResendTooSoon)


def _login_in_progress(request: Request, *stages: LoginStage) -> ActiveSession | None:
    """The browser's session if it is at one of `stages` (ACTIVE allowed only when listed)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        current = services_of(request).web_sessions.resolve(
            cookie, client=client_of(request), allow_pending=True
        )
    except NotAuthenticated:
        return None
    return current if current.stage in stages else None


def _enrolling(request: Request) -> ActiveSession | None:
    """A login that must enrol, or a signed-in user without a second factor setting one up."""
    current = _login_in_progress(request, LoginStage.ENROLMENT, LoginStage.ACTIVE)
    if current is None:
        return None
    if services_of(request).second_factor.enrolled_method(current.actor) is not None:
        return None
    return current


def _to_login() -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


def finish_login(
    request: Request, current: ActiveSession, stage: LoginStage, *, enrolled: bool = False
) -> Response:
    """Move the login on under a new session id, and send the browser where that stage lives.

    `enrolled`: a second factor was just set up, and the page reached says so.
    """
    services = services_of(request)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if current.stage is LoginStage.ACTIVE and stage is LoginStage.ACTIVE:
        return RedirectResponse(
            "/account?done=second_factor" if enrolled else "/account", status_code=303
        )
    new = services.web_sessions.advance(cookie, stage=stage, client=client_of(request))
    landing = landing_page(request, current, stage)
    if enrolled and landing == "/":
        landing = "/?done=second_factor"
    response = RedirectResponse(landing, status_code=303)
    set_session_cookie(response, request, new.cookie_value)
    return response


def landing_page(request: Request, current: ActiveSession, stage: LoginStage) -> str:
    if stage is LoginStage.SECOND_FACTOR:
        return "/login/verify"
    if stage is LoginStage.ENROLMENT:
        return "/enrol"
    if services_of(request).login.password_change_required(current.actor):
        return "/account/password"
    return "/"


_EMAILED_CODE_PAGES = {
    "second_factor_email.html",
    "second_factor_mailbox.html",
    "second_factor_verify.html",
}


def _page(
    request: Request, template: str, current: ActiveSession, status_code: int = 200, **context: Any
) -> Response:
    # A pending login has no menus: the top bar only shows for an active session.
    session = current if current.stage is LoginStage.ACTIVE else None
    if template in _EMAILED_CODE_PAGES:
        # Said from the stored code, never assumed: a throttled send mails nothing.
        context["code"] = services_of(request).second_factor.email_code_status(current.actor)
    return render(
        request,
        template,
        {"session": session, "pending": current, **context},
        status_code=status_code,
    )


def _csrf_ok(current: ActiveSession, token: str) -> bool:
    return tokens_match(current.csrf_token, token)


def _expired_form(request: Request, current: ActiveSession) -> Response:
    return _page(
        request,
        "error.html",
        current,
        status_code=403,
        title=N_("Form expired"),
        message=N_("Please try again."),
    )


# -- the method menu ------------------------------------------------------------------------


@router.get("/enrol")
def method_menu(request: Request) -> Response:
    current = _enrolling(request)
    if current is None:
        return _to_login()
    services = services_of(request)
    return _page(
        request,
        "second_factor_menu.html",
        current,
        options=services.second_factor.method_menu(current.actor),
        required=current.stage is LoginStage.ENROLMENT,
        backup_key_spent=request.query_params.get("backup_key_used") == "1",
    )


@router.get("/enrol/{method}")
def confirm_password_form(request: Request, method: str) -> Response:
    current = _enrolling(request)
    if current is None:
        return _to_login()
    if method not in (TOTP, EMAIL):
        return RedirectResponse("/enrol", status_code=303)
    replace = request.query_params.get("replace") == "1"
    under_way = services_of(request).second_factor.enrolment_under_way(current.actor)
    if under_way is not None and not replace:
        return _restart_warning(request, current, method=method, under_way=under_way)
    return _page(
        request,
        "second_factor_password.html",
        current,
        method=method,
        label=METHOD_LABELS[method],
        replace=replace,
    )


def _restart_warning(
    request: Request, current: ActiveSession, *, method: str, under_way: str, status_code: int = 200
) -> Response:
    """Starting again makes a new Backup Key: the one already shown (maybe saved) stops working."""
    return _page(
        request,
        "second_factor_restart.html",
        current,
        status_code=status_code,
        method=method,
        label=METHOD_LABELS[method],
        under_way=under_way,
        under_way_label=METHOD_LABELS[under_way],
    )


@router.get("/enrol/{method}/resume")
def resume_enrolment(request: Request, method: str) -> Response:
    """The set-up already under way, shown again without a new secret or Backup Key."""
    current = _enrolling(request)
    if current is None:
        return _to_login()
    services = services_of(request)
    if services.second_factor.enrolment_under_way(current.actor) != method:
        return RedirectResponse("/enrol", status_code=303)
    if method == TOTP:
        return _totp_page(request, current, services.second_factor.pending_totp(current.actor))
    return _page(request, "second_factor_email.html", current, email=current.actor.email)


@router.post("/enrol/{method}")
def begin_enrolment(
    request: Request,
    method: str,
    password: Annotated[str, Form(max_length=1024)] = "",
    replace: Annotated[str, Form(max_length=8)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    current = _enrolling(request)
    if current is None:
        return _to_login()
    if method not in (TOTP, EMAIL):
        return RedirectResponse("/enrol", status_code=303)
    if not _csrf_ok(current, csrf_token):
        return _expired_form(request, current)
    services = services_of(request)
    client = client_of(request)
    under_way = services.second_factor.enrolment_under_way(current.actor)
    if under_way is not None and replace != "1":
        return _restart_warning(
            request, current, method=method, under_way=under_way, status_code=409
        )
    try:
        services.login.confirm_password(current.actor, password=password, client=client)
        if method == TOTP and services.second_factor.mailbox_proof_due(current.actor):
            services.second_factor.send_mailbox_code(current.actor, client=client)
            return _mailbox_page(request, current)
        if method == TOTP:
            return _totp_page(
                request, current, services.second_factor.begin_totp(current.actor, client=client)
            )
        setup = services.second_factor.begin_email(current.actor, client=client)
    except (*_USER_ERRORS, PermissionDenied) as problem:
        return _page(
            request,
            "second_factor_password.html",
            current,
            status_code=status_for(problem),
            method=method,
            label=METHOD_LABELS[method],
            replace=replace == "1",
            error=problem.message,
        )
    return _page(
        request, "second_factor_email.html", current, backup_key=setup.backup_key, email=setup.email
    )


def _mailbox_page(
    request: Request, current: ActiveSession, *, status_code: int = 200, **context: Any
) -> Response:
    return _page(
        request,
        "second_factor_mailbox.html",
        current,
        status_code=status_code,
        email=current.actor.email,
        **context,
    )


@router.post("/enrol/totp/mailbox")
def prove_mailbox(
    request: Request,
    code: Annotated[str, Form(max_length=CODE_LIMIT)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """After a reset or a spent Backup Key: the emailed code first, then the app's QR code."""
    current = _enrolling(request)
    if current is None:
        return _to_login()
    if not _csrf_ok(current, csrf_token):
        return _expired_form(request, current)
    services = services_of(request)
    client = client_of(request)
    if not services.second_factor.mailbox_proof_due(current.actor):
        return RedirectResponse("/enrol/totp", status_code=303)  # the password step comes first
    try:
        services.second_factor.prove_mailbox(current.actor, code=code, client=client)
        setup = services.second_factor.begin_totp(current.actor, client=client)
    except (*_USER_ERRORS, PermissionDenied) as problem:
        return _mailbox_page(
            request, current, status_code=status_for(problem), error=problem.message
        )
    return _totp_page(request, current, setup)


@router.post("/enrol/totp/mailbox/resend")
def resend_mailbox_code(
    request: Request, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    current = _enrolling(request)
    if current is None:
        return _to_login()
    if not _csrf_ok(current, csrf_token):
        return _expired_form(request, current)
    return _resend(request, current, "second_factor_mailbox.html", email=current.actor.email)


def _totp_page(
    request: Request, current: ActiveSession, setup: TotpSetup, *, error: str | None = None
) -> Response:
    qr = segno.make(setup.uri, error="m")
    return _page(
        request,
        "second_factor_app.html",
        current,
        status_code=422 if error else 200,
        backup_key=setup.backup_key,
        qr_data_uri=qr.svg_data_uri(scale=5, border=2),
        secret=setup.grouped_secret,
        error=error,
    )


@router.post("/enrol/{method}/confirm")
def complete_enrolment(
    request: Request,
    method: str,
    code: Annotated[str, Form(max_length=CODE_LIMIT)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    current = _enrolling(request)
    if current is None:
        return _to_login()
    if method not in (TOTP, EMAIL):
        return RedirectResponse("/enrol", status_code=303)
    if not _csrf_ok(current, csrf_token):
        return _expired_form(request, current)
    services = services_of(request)
    try:
        services.second_factor.complete_enrolment(
            current.actor, method=method, code=code, client=client_of(request)
        )
    except _USER_ERRORS as problem:
        if method == TOTP:
            try:
                setup = services.second_factor.pending_totp(current.actor)
            except InvalidInput:
                return RedirectResponse("/enrol", status_code=303)
            return _totp_page(request, current, setup, error=problem.message)
        return _page(
            request,
            "second_factor_email.html",
            current,
            status_code=status_for(problem),
            email=current.actor.email,
            error=problem.message,
        )
    return finish_login(request, current, LoginStage.ACTIVE, enrolled=True)


@router.post("/enrol/email/resend")
def resend_enrolment_code(
    request: Request, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    current = _enrolling(request)
    if current is None:
        return _to_login()
    if not _csrf_ok(current, csrf_token):
        return _expired_form(request, current)
    return _resend(request, current, "second_factor_email.html", email=current.actor.email)


def _resend(request: Request, current: ActiveSession, template: str, **context: Any) -> Response:
    try:
        services_of(request).second_factor.resend_email_code(
            current.actor, client=client_of(request)
        )
    except _USER_ERRORS as problem:
        return _page(
            request,
            template,
            current,
            status_code=status_for(problem),
            error=problem.message,
            **context,
        )
    return _page(request, template, current, notice=N_("A new code is on its way."), **context)


# -- later logins ---------------------------------------------------------------------------


def _challenged(request: Request) -> ActiveSession | None:
    return _login_in_progress(request, LoginStage.SECOND_FACTOR)


def _challenge_page(
    request: Request, current: ActiveSession, *, status_code: int = 200, **context: Any
) -> Response:
    method = services_of(request).second_factor.enrolled_method(current.actor)
    return _page(
        request,
        "second_factor_verify.html",
        current,
        status_code=status_code,
        method=method,
        method_label=METHOD_LABELS.get(method or "", ""),
        **context,
    )


@router.get("/login/verify")
def challenge(request: Request) -> Response:
    current = _challenged(request)
    if current is None:
        return _to_login()
    return _challenge_page(request, current)


@router.post("/login/verify")
def answer_challenge(
    request: Request,
    code: Annotated[str, Form(max_length=CODE_LIMIT)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    current = _challenged(request)
    if current is None:
        return _to_login()
    if not _csrf_ok(current, csrf_token):
        return _expired_form(request, current)
    try:
        services_of(request).second_factor.verify(
            current.actor, code=code, client=client_of(request)
        )
    except _USER_ERRORS as problem:
        return _challenge_page(
            request, current, status_code=status_for(problem), error=problem.message
        )
    return finish_login(request, current, LoginStage.ACTIVE)


@router.post("/login/verify/resend")
def resend_login_code(
    request: Request, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    current = _challenged(request)
    if current is None:
        return _to_login()
    if not _csrf_ok(current, csrf_token):
        return _expired_form(request, current)
    try:
        services_of(request).second_factor.resend_email_code(
            current.actor, client=client_of(request)
        )
    except _USER_ERRORS as problem:
        return _challenge_page(
            request, current, status_code=status_for(problem), error=problem.message
        )
    return _challenge_page(request, current, notice=N_("A new code is on its way."))


@router.get("/login/backup-key")
def backup_key_form(request: Request) -> Response:
    current = _challenged(request)
    if current is None:
        return _to_login()
    return _page(request, "second_factor_backup_key.html", current)


@router.post("/login/backup-key")
def use_backup_key(
    request: Request,
    backup_key: Annotated[str, Form(max_length=128)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    current = _challenged(request)
    if current is None:
        return _to_login()
    if not _csrf_ok(current, csrf_token):
        return _expired_form(request, current)
    try:
        services_of(request).second_factor.use_backup_key(
            current.actor, backup_key=backup_key, client=client_of(request)
        )
    except _USER_ERRORS as problem:
        return _page(
            request,
            "second_factor_backup_key.html",
            current,
            status_code=status_for(problem),
            error=problem.message,
        )
    response = finish_login(request, current, LoginStage.ENROLMENT)
    response.headers["location"] = "/enrol?backup_key_used=1"
    return response
