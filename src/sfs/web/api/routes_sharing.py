"""Groups and team folders: the organisation admin manages both; a team folder's Managers
manage its members. Files inside a team folder go through the /spaces/{id}/... routes."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field

from sfs.domain.errors import InvalidInput
from sfs.services.sharing.groups import MAX_GROUP_NAME, GroupView
from sfs.services.sharing.team_folders import MAX_TEAM_FOLDER_NAME, TeamFolderView
from sfs.web.api.deps import ActorDep, ClientDep, ServicesDep
from sfs.web.api.responses import problems

router = APIRouter(tags=["sharing"])

_READ = problems(403)
_CHANGE = problems(403, 409)


class NameRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=min(MAX_GROUP_NAME, MAX_TEAM_FOLDER_NAME))


class GroupMemberRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=254)


class TeamMemberRequest(BaseModel):
    """Name either a colleague (by email) or a group (by id)."""

    model_config = ConfigDict(extra="forbid")
    email: str | None = Field(default=None, max_length=254)
    group_id: uuid.UUID | None = None
    role: Literal["viewer", "editor", "manager"]


class GroupMemberOut(BaseModel):
    user_id: uuid.UUID
    email: str
    display_name: str


class GroupOut(BaseModel):
    id: uuid.UUID
    name: str
    members: list[GroupMemberOut]

    @classmethod
    def of(cls, view: GroupView) -> GroupOut:
        members = [GroupMemberOut(**vars(member)) for member in view.members]
        return cls(id=view.id, name=view.name, members=members)


class TeamMemberOut(BaseModel):
    id: uuid.UUID
    role: str
    user_id: uuid.UUID | None
    group_id: uuid.UUID | None
    label: str = Field(description="the member's email, or the group's name")


class TeamFolderOut(BaseModel):
    id: uuid.UUID = Field(description="also the space id for /spaces/{space}/...")
    name: str
    members: list[TeamMemberOut]

    @classmethod
    def of(cls, view: TeamFolderView) -> TeamFolderOut:
        members = [
            TeamMemberOut(
                id=m.id, role=m.role.value, user_id=m.user_id, group_id=m.group_id, label=m.label
            )
            for m in view.members
        ]
        return cls(id=view.id, name=view.name, members=members)


# -- groups ------------------------------------------------------------------------------------


@router.get("/groups", response_model=list[GroupOut], responses=_READ)
def list_groups(actor: ActorDep, services: ServicesDep) -> list[GroupOut]:
    return [GroupOut.of(group) for group in services.groups.list_groups(actor)]


@router.post("/groups", response_model=GroupOut, status_code=201, responses=_CHANGE)
def create_group(
    body: NameRequest, actor: ActorDep, services: ServicesDep, client: ClientDep
) -> GroupOut:
    return GroupOut.of(services.groups.create(actor, body.name, client=client))


@router.get("/groups/{group_id}", response_model=GroupOut, responses=_READ)
def get_group(group_id: uuid.UUID, actor: ActorDep, services: ServicesDep) -> GroupOut:
    return GroupOut.of(services.groups.group(actor, group_id))


@router.patch("/groups/{group_id}", response_model=GroupOut, responses=_CHANGE)
def rename_group(
    group_id: uuid.UUID,
    body: NameRequest,
    actor: ActorDep,
    services: ServicesDep,
    client: ClientDep,
) -> GroupOut:
    return GroupOut.of(services.groups.rename(actor, group_id, body.name, client=client))


@router.delete("/groups/{group_id}", status_code=204, responses=_READ)
def delete_group(
    group_id: uuid.UUID, actor: ActorDep, services: ServicesDep, client: ClientDep
) -> Response:
    services.groups.delete(actor, group_id, client=client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/groups/{group_id}/members", response_model=GroupOut, responses=_READ)
def add_group_member(
    group_id: uuid.UUID,
    body: GroupMemberRequest,
    actor: ActorDep,
    services: ServicesDep,
    client: ClientDep,
) -> GroupOut:
    return GroupOut.of(services.groups.add_member(actor, group_id, body.email, client=client))


@router.delete("/groups/{group_id}/members/{user_id}", response_model=GroupOut, responses=_READ)
def remove_group_member(
    group_id: uuid.UUID,
    user_id: uuid.UUID,
    actor: ActorDep,
    services: ServicesDep,
    client: ClientDep,
) -> GroupOut:
    return GroupOut.of(services.groups.remove_member(actor, group_id, user_id, client=client))


# -- team folders -------------------------------------------------------------------------------


@router.get("/team-folders", response_model=list[TeamFolderOut], responses=_READ)
def list_team_folders(actor: ActorDep, services: ServicesDep) -> list[TeamFolderOut]:
    """Every team folder of the organisation, with its members (organisation admins)."""
    return [TeamFolderOut.of(folder) for folder in services.team_folders.list_all(actor)]


@router.post("/team-folders", response_model=TeamFolderOut, status_code=201, responses=_CHANGE)
def create_team_folder(
    body: NameRequest, actor: ActorDep, services: ServicesDep, client: ClientDep
) -> TeamFolderOut:
    return TeamFolderOut.of(services.team_folders.create(actor, body.name, client=client))


@router.get("/team-folders/{space_id}", response_model=TeamFolderOut, responses=_READ)
def get_team_folder(space_id: uuid.UUID, actor: ActorDep, services: ServicesDep) -> TeamFolderOut:
    """The folder and its members, for the organisation admin and the folder's Managers."""
    return TeamFolderOut.of(services.team_folders.folder(actor, space_id))


@router.patch("/team-folders/{space_id}", response_model=TeamFolderOut, responses=_CHANGE)
def rename_team_folder(
    space_id: uuid.UUID,
    body: NameRequest,
    actor: ActorDep,
    services: ServicesDep,
    client: ClientDep,
) -> TeamFolderOut:
    return TeamFolderOut.of(services.team_folders.rename(actor, space_id, body.name, client=client))


@router.delete("/team-folders/{space_id}", status_code=204, responses=_READ)
def delete_team_folder(
    space_id: uuid.UUID, actor: ActorDep, services: ServicesDep, client: ClientDep
) -> Response:
    services.team_folders.delete(actor, space_id, client=client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/team-folders/{space_id}/members", response_model=TeamFolderOut, responses=_READ)
def set_team_member(
    space_id: uuid.UUID,
    body: TeamMemberRequest,
    actor: ActorDep,
    services: ServicesDep,
    client: ClientDep,
) -> TeamFolderOut:
    """Add a member (a colleague or a group) with a role, or change their role."""
    folders = services.team_folders
    if (body.email is None) == (body.group_id is None):
        raise InvalidInput("Name either an email or a group_id.", field="email")
    if body.group_id is not None:
        view = folders.set_group_role(actor, space_id, body.group_id, body.role, client=client)
    else:
        assert body.email is not None
        view = folders.set_user_role(actor, space_id, body.email, body.role, client=client)
    return TeamFolderOut.of(view)


@router.delete(
    "/team-folders/{space_id}/members/{member_id}", response_model=TeamFolderOut, responses=_READ
)
def remove_team_member(
    space_id: uuid.UUID,
    member_id: uuid.UUID,
    actor: ActorDep,
    services: ServicesDep,
    client: ClientDep,
) -> TeamFolderOut:
    return TeamFolderOut.of(
        services.team_folders.remove_member(actor, space_id, member_id, client=client)
    )
