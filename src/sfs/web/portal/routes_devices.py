"""Devices: every browser and device signed in, with revoke, wipe and "sign out everywhere".

My account → Devices and app passwords (`/account/devices`) for one's own, and the same page
for an account an Organization Admin administers (`/accounts/{id}/devices`). Thin: every rule
(whose devices, what a wipe does) is in `services/identity/devices.py`.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from sfs.domain.errors import InvalidInput, NotFound
from sfs.i18n import N_
from sfs.services.identity.app_passwords import MAX_NAME_LENGTH
from sfs.services.identity.devices import DeviceView
from sfs.services.identity.web_sessions import ActiveSession
from sfs.web.errors import status_for
from sfs.web.portal.guards import require_fresh_form, to_login
from sfs.web.portal.rendering import render
from sfs.web.portal.session import SESSION_COOKIE, client_of, current_session, services_of

router = APIRouter(include_in_schema=False)

OWN = "/account/devices"
# What a redirect after an action may announce on the page.
DONE = ("revoked", "wipe", "ended", "everywhere")


def _base(user_id: uuid.UUID | None) -> str:
    return OWN if user_id is None else f"/accounts/{user_id}/devices"


def _parse_id(text: str, what: str) -> uuid.UUID:
    """A malformed id is answered like an unknown one."""
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotFound(N_("No such %(what)s.", what=what)) from None


# -- the page --------------------------------------------------------------------------------


@router.get(OWN)
def devices_page(request: Request, done: str = "") -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    return _page(request, active, None, done=done)


@router.get("/accounts/{user_id}/devices")
def account_devices_page(request: Request, user_id: str, done: str = "") -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    return _page(request, active, _parse_id(user_id, "account"), done=done)


# -- app passwords (one's own only) ----------------------------------------------------------


@router.post(OWN + "/app-passwords")
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
        return _page(request, active, None, name=name, error=exc, status_code=status_for(exc))
    # Shown on this answer only (never in a URL): it cannot be seen again.
    response = render(
        request,
        "account_app_password.html",
        {"session": active, "created": created, **_addresses(request, active)},
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# -- actions, on one's own devices or (as an admin) on an account's --------------------------


@router.post(OWN + "/{device_id}/forget")
def forget_device(
    request: Request, device_id: str, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    return _act(request, None, csrf_token, "revoked", device_id)


@router.post("/accounts/{user_id}/devices/{device_id}/forget")
def forget_account_device(
    request: Request,
    user_id: str,
    device_id: str,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    return _act(request, _parse_id(user_id, "account"), csrf_token, "revoked", device_id)


@router.get(OWN + "/{device_id}/wipe")
def wipe_form(request: Request, device_id: str) -> Response:
    return _wipe_form(request, None, device_id)


@router.get("/accounts/{user_id}/devices/{device_id}/wipe")
def wipe_account_device_form(request: Request, user_id: str, device_id: str) -> Response:
    return _wipe_form(request, _parse_id(user_id, "account"), device_id)


@router.post(OWN + "/{device_id}/wipe")
def wipe(
    request: Request, device_id: str, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    return _act(request, None, csrf_token, "wipe", device_id)


@router.post("/accounts/{user_id}/devices/{device_id}/wipe")
def wipe_account_device(
    request: Request,
    user_id: str,
    device_id: str,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    return _act(request, _parse_id(user_id, "account"), csrf_token, "wipe", device_id)


@router.post(OWN + "/sessions/{handle}/end")
def end_session(
    request: Request, handle: str, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    return _act(request, None, csrf_token, "ended", handle[:64])


@router.post("/accounts/{user_id}/devices/sessions/{handle}/end")
def end_account_session(
    request: Request,
    user_id: str,
    handle: str,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    return _act(request, _parse_id(user_id, "account"), csrf_token, "ended", handle[:64])


@router.post(OWN + "/sign-out-everywhere")
def sign_out_everywhere(
    request: Request, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    return _act(request, None, csrf_token, "everywhere", "")


@router.post("/accounts/{user_id}/devices/sign-out-everywhere")
def sign_out_account_everywhere(
    request: Request, user_id: str, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    return _act(request, _parse_id(user_id, "account"), csrf_token, "everywhere", "")


def _act(
    request: Request, user_id: uuid.UUID | None, csrf_token: str, action: str, target: str
) -> Response:
    """One button of the page: do it, or show why not on the same page."""
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    devices = services_of(request).devices
    client, cookie = client_of(request), request.cookies.get(SESSION_COOKIE)
    try:
        if action == "revoked":
            device_id = _parse_id(target, "device")
            devices.revoke(active.actor, device_id, client=client, user_id=user_id)
        elif action == "wipe":
            device_id = _parse_id(target, "device")
            devices.request_wipe(active.actor, device_id, client=client, user_id=user_id)
        elif action == "ended":
            devices.end_browser(
                active.actor, target, client=client, user_id=user_id, current_session_cookie=cookie
            )
        else:
            devices.sign_out_everywhere(
                active.actor, client=client, user_id=user_id, current_session_cookie=cookie
            )
    except InvalidInput as exc:
        return _page(request, active, user_id, error=exc, status_code=status_for(exc))
    return RedirectResponse(f"{_base(user_id)}?done={action}", status_code=303)


def _wipe_form(request: Request, user_id: uuid.UUID | None, device_id: str) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    token_id = _parse_id(device_id, "device")
    listing = services_of(request).devices.listing(active.actor, user_id=user_id)
    device = next((d for d in listing.devices if d.id == token_id), None)
    if device is None:
        raise NotFound(N_("No such device."))
    return render(
        request,
        "account_device_wipe.html",
        {"session": active, "listing": listing, "device": device, "base": _base(user_id)},
    )


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
    user_id: uuid.UUID | None,
    *,
    done: str = "",
    name: str = "",
    error: InvalidInput | None = None,
    status_code: int = 200,
) -> Response:
    listing = services_of(request).devices.listing(
        active.actor, user_id=user_id, current_session_cookie=request.cookies.get(SESSION_COOKIE)
    )
    own = listing.user_id == active.actor.user_id and user_id is None
    context: dict[str, Any] = {
        "session": active,
        "listing": listing,
        "own": own,
        "base": _base(user_id),
        "done": done if done in DONE else "",
        "name": name,
        "error": error,
        "max_name_length": MAX_NAME_LENGTH,
        "software": software,
    }
    if own:
        context.update(_addresses(request, active))
    return render(request, "account_devices.html", context, status_code=status_code)


def software(item: DeviceView | Any) -> str:
    """`Firefox 128`, `sfs 0.2.0`: the client and its version, as far as they are known."""
    return " ".join(part for part in (item.client, item.version) if part)
