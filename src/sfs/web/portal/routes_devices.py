"""My account → Devices and app passwords: every device signed in, and app passwords to add."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from sfs.domain.errors import InvalidInput, NotFound
from sfs.services.identity.app_passwords import MAX_NAME_LENGTH
from sfs.services.identity.web_sessions import ActiveSession
from sfs.web.errors import status_for
from sfs.web.portal.guards import require_fresh_form, to_login
from sfs.web.portal.rendering import render
from sfs.web.portal.session import client_of, current_session, services_of

router = APIRouter(include_in_schema=False)


@router.get("/account/devices")
def devices_page(request: Request, done: str = "") -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    return _page(request, active, done=done if done == "revoked" else "")


@router.post("/account/devices/app-passwords")
def create_app_password(
    request: Request,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    name: Annotated[str, Form(max_length=MAX_NAME_LENGTH * 4)] = "",
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    services = services_of(request)
    try:
        created = services.app_passwords.create(active.actor, name=name, client=client_of(request))
    except InvalidInput as exc:
        return _page(request, active, name=name, error=exc, status_code=status_for(exc))
    # Shown on this answer only (never in a URL): it cannot be seen again.
    response = render(
        request,
        "account_app_password.html",
        {"session": active, "created": created, **_addresses(request, active)},
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/account/devices/{device_id}/forget")
def forget_device(
    request: Request, device_id: str, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    try:
        token_id = uuid.UUID(device_id)
    except ValueError:
        raise NotFound("No such device.") from None
    services_of(request).app_passwords.revoke(active.actor, token_id, client=client_of(request))
    return RedirectResponse("/account/devices?done=revoked", status_code=303)


def _addresses(request: Request, active: ActiveSession) -> dict[str, str]:
    base = services_of(request).settings.base_url
    return {
        "dav_address": f"{base}/dav/",
        "nextcloud_dav_address": f"{base}/remote.php/dav/files/{active.actor.user_id}/",
        "login_name": active.actor.email,
    }


def _page(
    request: Request,
    active: ActiveSession,
    *,
    done: str = "",
    name: str = "",
    error: InvalidInput | None = None,
    status_code: int = 200,
) -> Response:
    devices = services_of(request).app_passwords.devices(active.actor)
    return render(
        request,
        "account_devices.html",
        {
            "session": active,
            "devices": devices,
            "done": done,
            "name": name,
            "error": error,
            "max_name_length": MAX_NAME_LENGTH,
            **_addresses(request, active),
        },
        status_code=status_code,
    )
