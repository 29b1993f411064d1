"""status.php and the OCS endpoints the Nextcloud clients call: capabilities, the signed-in
user, and revoking the app password in use (the client's "log out")."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from sfs.domain.errors import (
    AuthenticationFailed,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    SfsError,
)
from sfs.services.identity.client_passwords import ClientLogin
from sfs.web.basic_auth import CHALLENGE
from sfs.web.errors import headers_for, status_for
from sfs.web.ocs import capabilities, envelope
from sfs.web.ocs.auth import client_login
from sfs.web.ocs.user import user_data
from sfs.web.portal.session import client_of, services_of

router = APIRouter(include_in_schema=False)
OCS = "/ocs/v{version}.php"


@router.get("/status.php")
def status_php() -> Response:
    return JSONResponse(capabilities.status())


@router.get(OCS + "/cloud/capabilities")
def cloud_capabilities(request: Request, version: str) -> Response:
    # Public, as in Nextcloud: a client reads it before it has credentials.
    return _ocs(request, version, lambda: capabilities.capabilities())


@router.get(OCS + "/cloud/user")
def cloud_user(request: Request, version: str) -> Response:
    def produce() -> envelope.Data:
        login = _login(request)
        return user_data(services_of(request), login.actor)

    return _ocs(request, version, produce)


@router.delete(OCS + "/core/apppassword")
def delete_app_password(request: Request, version: str) -> Response:
    def produce() -> envelope.Data:
        login = _login(request)
        if login.app_password_id is None:
            raise PermissionDenied(
                "You are signed in with your account password: there is no app password to revoke."
            )
        services_of(request).app_passwords.revoke(
            login.actor, login.app_password_id, client=client_of(request)
        )
        return []

    return _ocs(request, version, produce)


@router.api_route(
    OCS + "/{rest:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
)
def unknown(request: Request, version: str, rest: str) -> Response:
    def produce() -> envelope.Data:
        raise NotFound("No such OCS endpoint.")

    return _ocs(request, version, produce)


def _login(request: Request) -> ClientLogin:
    return client_login(
        services_of(request), request.headers.get("authorization"), client_of(request)
    )


def _ocs(request: Request, version: str, produce: Callable[[], envelope.Data]) -> Response:
    number = int(version) if version in ("1", "2") else 2
    try:
        as_json = envelope.wants_json(request)
    except InvalidInput as exc:
        return envelope.error(number, 400, exc.message, as_json=False)
    try:
        if number != int(version):
            raise NotFound("No such OCS version (use v1.php or v2.php).")
        return envelope.ok(number, produce(), as_json=as_json)
    except SfsError as exc:
        status = 400 if isinstance(exc, InvalidInput) else status_for(exc)
        headers = headers_for(exc)
        if isinstance(exc, NotAuthenticated | AuthenticationFailed):
            headers["WWW-Authenticate"] = CHALLENGE
        return envelope.error(number, status, exc.message, as_json=as_json, headers=headers)
