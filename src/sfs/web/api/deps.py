"""Request-scoped dependencies: the services, the client's address, the authenticated actor.

They are coroutines, so they run on the event loop: as plain functions each would cost a hop to
the worker-thread pool and back per request, which was a good part of a small request's time.
Only checking a credential not checked moments ago goes to a worker thread (it queries).
"""

from __future__ import annotations

import uuid
from functools import partial
from typing import Annotated
from urllib.parse import unquote

import anyio.to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sfs.app import Services
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.errors import NotAuthenticated
from sfs.protocol.devices import SYNCED_SPACE_HEADER

_bearer = HTTPBearer(auto_error=False, description="A device token from POST /auth/login")


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_client(request: Request) -> ClientInfo:
    return _client_of(request)


def _client_of(request: Request) -> ClientInfo:
    return ClientInfo(
        address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


async def get_authenticated(
    request: Request,
    services: Annotated[Services, Depends(get_services)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> tuple[Actor, uuid.UUID]:
    if credentials is None:
        raise NotAuthenticated("Send a device token: Authorization: Bearer <token>.")
    secret, client = credentials.credentials, _client_of(request)
    space = unquote(request.headers.get(SYNCED_SPACE_HEADER, "")[:400])
    remembered = services.device_tokens.remembered(secret, client=client, space=space)
    if remembered is not None:
        return remembered
    return await anyio.to_thread.run_sync(
        partial(services.device_tokens.resolve, secret, client=client, space=space)
    )


async def get_actor(
    authenticated: Annotated[tuple[Actor, uuid.UUID], Depends(get_authenticated)],
) -> Actor:
    return authenticated[0]


ServicesDep = Annotated[Services, Depends(get_services)]
ClientDep = Annotated[ClientInfo, Depends(get_client)]
ActorDep = Annotated[Actor, Depends(get_actor)]
AuthenticatedDep = Annotated[tuple[Actor, uuid.UUID], Depends(get_authenticated)]
