"""Account administration for Organization Admins (their own organisation only)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from sfs.domain.errors import InvalidInput
from sfs.protocol.limits import MAX_SEQUENCE
from sfs.services.identity.accounts import MAX_PAGE_SIZE
from sfs.web.api.deps import ActorDep, ClientDep, ServicesDep
from sfs.web.api.responses import ADMIN, problems
from sfs.web.api.schemas import CreateUserRequest, UserOut

router = APIRouter(prefix="/users", tags=["accounts"])

_ERRORS = ADMIN


@router.get("", response_model=list[UserOut], responses=_ERRORS)
def list_users(
    actor: ActorDep,
    services: ServicesDep,
    search: Annotated[str, Query(max_length=254)] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_SEQUENCE)] = 0,
) -> list[UserOut]:
    users = services.accounts.list_users(actor, search=search, limit=limit, offset=offset)
    return [UserOut.of(user) for user in users]


@router.post(
    "",
    response_model=UserOut,
    status_code=status.HTTP_201_CREATED,
    responses={**_ERRORS, **problems(409)},
)
def create_user(
    body: CreateUserRequest, actor: ActorDep, services: ServicesDep, client: ClientDep
) -> UserOut:
    """Create an account in the caller's organisation."""
    if actor.organization_id is None:
        raise InvalidInput("Provider admins create accounts per organisation with `sfs admin`.")
    user = services.accounts.create_user(
        actor,
        organization_id=actor.organization_id,
        email=body.email,
        display_name=body.display_name,
        password=body.password,
        role=body.role,
        client=client,
    )
    return UserOut.of(user)


@router.get("/{user_id}", response_model=UserOut, responses=_ERRORS)
def get_user(user_id: uuid.UUID, actor: ActorDep, services: ServicesDep) -> UserOut:
    return UserOut.of(services.accounts.get_user(actor, user_id))
