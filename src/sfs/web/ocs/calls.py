"""One OCS call: check the version, pick JSON or XML, run the handler, turn a domain error into
the envelope with its precise status. Shared by every OCS route module."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from fastapi.responses import Response

from sfs.domain.errors import (
    AuthenticationFailed,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    SfsError,
)
from sfs.services.identity.client_passwords import ClientLogin
from sfs.web.basic_auth import CHALLENGE
from sfs.web.errors import headers_for, status_for
from sfs.web.ocs import envelope
from sfs.web.ocs.auth import client_login
from sfs.web.portal.session import client_of, services_of


def login_of(request: Request) -> ClientLogin:
    return client_login(
        services_of(request), request.headers.get("authorization"), client_of(request)
    )


def ocs_call(request: Request, version: str, produce: Callable[[], envelope.Data]) -> Response:
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
