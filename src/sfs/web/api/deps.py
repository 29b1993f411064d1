"""Request-scoped dependencies: the services, the client's address, the authenticated actor."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sfs.app import Services
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.errors import NotAuthenticated
from sfs.protocol.devices import SYNCED_SPACE_HEADER

_bearer = HTTPBearer(auto_error=False, description="A device token from POST /auth/login")


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_client(request: Request) -> ClientInfo:
    return ClientInfo(
        address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


def get_authenticated(
    request: Request,
    services: Annotated[Services, Depends(get_services)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> tuple[Actor, uuid.UUID]:
    if credentials is None:
        raise NotAuthenticated("Send a device token: Authorization: Bearer <token>.")
    return services.device_tokens.resolve(
        credentials.credentials,
        client=get_client(request),
        space=unquote(request.headers.get(SYNCED_SPACE_HEADER, "")[:400]),
    )


def get_actor(
    authenticated: Annotated[tuple[Actor, uuid.UUID], Depends(get_authenticated)],
) -> Actor:
    return authenticated[0]


ServicesDep = Annotated[Services, Depends(get_services)]
ClientDep = Annotated[ClientInfo, Depends(get_client)]
ActorDep = Annotated[Actor, Depends(get_actor)]
AuthenticatedDep = Annotated[tuple[Actor, uuid.UUID], Depends(get_authenticated)]
