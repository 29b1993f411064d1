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
from fastapi.security.utils import get_authorization_scheme_param

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


def presented_by(request: Request) -> tuple[ClientInfo, str]:
    """Who presents a credential: the client, and the space it says it keeps in sync."""
    return _client_of(request), unquote(request.headers.get(SYNCED_SPACE_HEADER, "")[:400])


def remembered_caller(request: Request, services: Services) -> tuple[Actor, uuid.UUID] | None:
    """The caller as `get_authenticated` found them moments ago, read as `_bearer` reads the
    Authorization header; None when that takes a query (or fails): for a door that answers
    without FastAPI's dependencies (web/api/listing_shortcut.py) and leaves the rest to them."""
    scheme, secret = get_authorization_scheme_param(request.headers.get("authorization"))
    if not secret or scheme.lower() != "bearer":
        return None
    client, space = presented_by(request)
    return services.device_tokens.remembered(secret, client=client, space=space)


async def get_authenticated(
    request: Request,
    services: Annotated[Services, Depends(get_services)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> tuple[Actor, uuid.UUID]:
    if credentials is None:
        raise NotAuthenticated("Send a device token: Authorization: Bearer <token>.")
    secret, (client, space) = credentials.credentials, presented_by(request)
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
