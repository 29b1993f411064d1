"""Shares of a file or folder with colleagues and groups over REST: the owner (or a Manager of
a team folder) shares, lists, changes and removes; the recipient lists what is shared with
them and reaches each share as a space, `/spaces/{share id}/...`, through the files routes.
The rules are `services/sharing/shares.py` and `share_grants.py`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from sfs.services.sharing.shares import SharedWithMe, ShareView
from sfs.web.api.deps import ActorDep, ClientDep, ServicesDep
from sfs.web.api.params import SpaceRef
from sfs.web.api.responses import problems
from sfs.web.api.schemas_files import PATH

router = APIRouter(tags=["shares"])

PathQuery = Annotated[str, Query(max_length=4096, description="'/' separated path")]


class ShareBody(BaseModel):
    """Name either a colleague (by email) or a group (by name)."""

    model_config = ConfigDict(extra="forbid")
    path: str = PATH
    with_user: str | None = Field(default=None, max_length=254, description="a colleague's email")
    with_group: str | None = Field(default=None, max_length=100, description="a group's name")
    role: Literal["viewer", "editor"] = "viewer"


class RoleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["viewer", "editor"]


class ShareOut(BaseModel):
    id: uuid.UUID
    space_id: uuid.UUID
    path: str = Field(description="the shared file or folder, in its owner's space")
    kind: str = Field(description="file or folder")
    role: str = Field(description="viewer or editor")
    user_id: uuid.UUID | None
    group_id: uuid.UUID | None
    recipient: str = Field(description="the colleague's email, or the group's name")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: ShareView) -> ShareOut:
        return cls(
            id=view.id,
            space_id=view.space_id,
            path=view.path,
            kind=view.kind,
            role=view.role.value,
            user_id=view.user_id,
            group_id=view.group_id,
            recipient=view.recipient,
            created_at=view.created_at,
            updated_at=view.updated_at,
        )


class SharedWithMeOut(BaseModel):
    id: uuid.UUID = Field(description="the space id for /spaces/{space}/... (path '/' is it)")
    name: str
    kind: str = Field(description="file or folder")
    role: str = Field(description="viewer or editor")
    shared_by: str
    created_at: datetime

    @classmethod
    def of(cls, view: SharedWithMe) -> SharedWithMeOut:
        return cls(
            id=view.id,
            name=view.name,
            kind=view.kind,
            role=view.role.value,
            shared_by=view.shared_by,
            created_at=view.created_at,
        )


@router.post(
    "/spaces/{space}/shares",
    response_model=ShareOut,
    status_code=201,
    responses=problems(403, 404, 409, 422),
)
def create_share(
    space: SpaceRef, body: ShareBody, actor: ActorDep, services: ServicesDep, client: ClientDep
) -> ShareOut:
    """Share a file or folder of My Files (or of a team folder one manages)."""
    view = services.shares.create(
        actor,
        space_id=services.spaces.resolve_reference(actor, space),
        path=body.path,
        role=body.role,
        client=client,
        user_email=body.with_user,
        group_name=body.with_group,
    )
    return ShareOut.of(view)


@router.get(
    "/spaces/{space}/shares", response_model=list[ShareOut], responses=problems(403, 404, 422)
)
def list_shares_of(
    space: SpaceRef, path: PathQuery, actor: ActorDep, services: ServicesDep
) -> list[ShareOut]:
    """Who a file or folder is shared with."""
    space_id = services.spaces.resolve_reference(actor, space)
    return [ShareOut.of(v) for v in services.shares.shares_of(actor, space_id=space_id, path=path)]


@router.get("/shares", response_model=list[ShareOut], responses=problems(403))
def list_my_shares(actor: ActorDep, services: ServicesDep) -> list[ShareOut]:
    """Every share one may manage: of My Files, and of the team folders one manages."""
    return [ShareOut.of(view) for view in services.shares.shares_by(actor)]


@router.get("/shares/{share_id}", response_model=ShareOut, responses=problems(403, 404))
def get_share(share_id: uuid.UUID, actor: ActorDep, services: ServicesDep) -> ShareOut:
    return ShareOut.of(services.shares.share(actor, share_id))


@router.patch("/shares/{share_id}", response_model=ShareOut, responses=problems(403, 404, 422))
def change_share(
    share_id: uuid.UUID, body: RoleBody, actor: ActorDep, services: ServicesDep, client: ClientDep
) -> ShareOut:
    return ShareOut.of(services.shares.update(actor, share_id, role=body.role, client=client))


@router.delete("/shares/{share_id}", status_code=204, responses=problems(403, 404))
def remove_share(
    share_id: uuid.UUID, actor: ActorDep, services: ServicesDep, client: ClientDep
) -> Response:
    services.shares.delete(actor, share_id, client=client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/shared-with-me", response_model=list[SharedWithMeOut], responses=problems(403))
def shared_with_me(actor: ActorDep, services: ServicesDep) -> list[SharedWithMeOut]:
    """What colleagues share with me; reach each as /spaces/{id}/..."""
    return [SharedWithMeOut.of(view) for view in services.shares.shared_with_me(actor)]
