"""Remote wipe for the native client: "must I erase?" and "I have erased".

Both take the device's own token (Bearer), revoked though it is: a wiped token answers these two
calls and nothing else (every other call is 401 `device_wiped`). See `services/identity/
device_wipe.py`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from sfs.app import Services
from sfs.domain.actor import ClientInfo
from sfs.domain.errors import NotAuthenticated
from sfs.services.identity.device_wipe import MAX_KEPT
from sfs.web.api.deps import ClientDep, ServicesDep
from sfs.web.api.responses import problems

router = APIRouter(tags=["authentication"])
_bearer = HTTPBearer(auto_error=False, description="The device's own token, even if wiped")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


class WipeCheck(BaseModel):
    wipe: bool = Field(description="True when this device must erase what it synced, now.")


class WipeDone(BaseModel):
    files_kept: int | None = Field(
        default=None, ge=0, le=MAX_KEPT, description="Files left in place: never synced."
    )


@router.post("/auth/wipe/check", response_model=WipeCheck, responses=problems(401, 429))
def wipe_check(services: ServicesDep, client: ClientDep, credentials: BearerDep) -> WipeCheck:
    """Whether a remote wipe of this device was requested and not yet confirmed."""
    return WipeCheck(wipe=_status(services, credentials, client))


@router.post(
    "/auth/wipe/done",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 404, 429),
)
def wipe_done(
    services: ServicesDep, client: ClientDep, credentials: BearerDep, body: WipeDone | None = None
) -> None:
    """The device erased what it synced; taken once (404 when no wipe is waiting)."""
    kept = body.files_kept if body is not None else None
    _status(services, credentials, client)
    services.device_wipe.confirm(_secret(credentials), client=client, kept=kept)


def _secret(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None:
        raise NotAuthenticated("Send the device's token: Authorization: Bearer <token>.")
    return credentials.credentials


def _status(
    services: Services, credentials: HTTPAuthorizationCredentials | None, client: ClientInfo
) -> bool:
    """Whether the device is to wipe; 401 when the token is no device's at all."""
    status = services.device_wipe.wipe_status(_secret(credentials), client=client)
    if status is None:
        raise NotAuthenticated("The access token is not valid.")
    return status
