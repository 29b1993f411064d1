"""Login (a device token for this client), logout, and the caller's own identity and devices."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from sfs.web.api.deps import ActorDep, AuthenticatedDep, ClientDep, ServicesDep
from sfs.web.api.schemas import DeviceOut, LoginRequest, LoginResponse, Problem, UserOut

router = APIRouter(tags=["authentication"])

_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": Problem},
    403: {"model": Problem},
    422: {"model": Problem},
    429: {"model": Problem},
}


@router.post("/auth/login", response_model=LoginResponse, responses=_ERRORS)
def login(body: LoginRequest, services: ServicesDep, client: ClientDep) -> LoginResponse:
    """Exchange email and password for a device token. The password is never stored by a client."""
    actor = services.login.authenticate(
        email=body.email, password=body.password, client=client, channel="api"
    )
    issued = services.device_tokens.issue(actor, device_name=body.device_name, client=client)
    user = services.accounts.get_user(actor, actor.user_id)
    return LoginResponse(token=issued.secret, device_id=issued.id, user=UserOut.of(user))


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
def logout(authenticated: AuthenticatedDep, services: ServicesDep, client: ClientDep) -> None:
    """Revoke the token this request was made with."""
    actor, token_id = authenticated
    services.device_tokens.revoke(actor, token_id, client=client)


@router.get("/me", response_model=UserOut, responses=_ERRORS)
def me(actor: ActorDep, services: ServicesDep) -> UserOut:
    return UserOut.of(services.accounts.get_user(actor, actor.user_id))


@router.get("/devices", response_model=list[DeviceOut], responses=_ERRORS)
def list_devices(authenticated: AuthenticatedDep, services: ServicesDep) -> list[DeviceOut]:
    actor, current = authenticated
    return [
        DeviceOut(
            id=device.id,
            name=device.name,
            created_at=device.created_at,
            last_used_at=device.last_used_at,
            current=device.id == current,
        )
        for device in services.device_tokens.list_own(actor)
    ]


@router.delete(
    "/devices/{device_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**_ERRORS, 404: {"model": Problem}},
)
def revoke_device(
    device_id: uuid.UUID, actor: ActorDep, services: ServicesDep, client: ClientDep
) -> None:
    services.device_tokens.revoke(actor, device_id, client=client)
