"""Share links over REST: create one for a file or folder, list one's own (or, for an
administrator, the organisation's live ones), change one's own, revoke. The rules are
`services/sharing/links.py`.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from sfs.auth.password_policy import MAX_LENGTH
from sfs.services.sharing.links import (
    MAX_DOWNLOADS,
    MIN_PASSWORD_LENGTH,
    UNCHANGED,
    LinkChanges,
    LinkOptions,
    LinkView,
)
from sfs.web.api.deps import ActorDep, ClientDep, ServicesDep
from sfs.web.api.params import SpaceRef
from sfs.web.api.responses import problems
from sfs.web.api.schemas_files import PATH

router = APIRouter(tags=["links"])


class LinkBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = PATH
    password: str | None = Field(
        default=None, min_length=MIN_PASSWORD_LENGTH, max_length=MAX_LENGTH
    )
    expires: date | None = Field(
        default=None, description="the last day (UTC) the link works; default: the policy's"
    )
    max_downloads: int | None = Field(default=None, ge=1, le=MAX_DOWNLOADS)
    upload_only: bool = Field(default=False, description="a file drop: visitors add, see nothing")
    can_edit: bool = Field(default=False, description="visitors may also add files (folders)")
    notify_owner: bool = Field(default=False, description="email me on each download or upload")


class LinkPatch(BaseModel):
    """Only the fields sent change; `null` removes a password, an expiry or a limit."""

    model_config = ConfigDict(extra="forbid")
    password: str | None = Field(
        default=None, min_length=MIN_PASSWORD_LENGTH, max_length=MAX_LENGTH
    )
    expires: date | None = Field(default=None, description="the last day (UTC) the link works")
    max_downloads: int | None = Field(default=None, ge=1, le=MAX_DOWNLOADS)
    upload_only: bool = False
    can_edit: bool = False
    notify_owner: bool = False

    def changes(self) -> LinkChanges:
        sent = self.model_fields_set
        return LinkChanges(
            password=self.password if "password" in sent else UNCHANGED,
            expires_on=self.expires if "expires" in sent else UNCHANGED,
            max_downloads=self.max_downloads if "max_downloads" in sent else UNCHANGED,
            upload_only=self.upload_only if "upload_only" in sent else UNCHANGED,
            can_edit=self.can_edit if "can_edit" in sent else UNCHANGED,
            notify_owner=self.notify_owner if "notify_owner" in sent else UNCHANGED,
        )


class LinkOut(BaseModel):
    id: uuid.UUID
    space_id: uuid.UUID
    path: str
    kind: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    max_downloads: int | None
    download_count: int
    upload_only: bool
    can_edit: bool
    has_password: bool
    notify_owner: bool
    state: str = Field(description="live, revoked, expired, exhausted or gone")

    @classmethod
    def of(cls, view: LinkView) -> LinkOut:
        return cls(
            id=view.id,
            space_id=view.space_id,
            path=view.path,
            kind=view.kind,
            created_by=view.created_by,
            created_at=view.created_at,
            expires_at=view.expires_at,
            max_downloads=view.max_downloads,
            download_count=view.download_count,
            upload_only=view.upload_only,
            can_edit=view.can_edit,
            has_password=view.has_password,
            notify_owner=view.notify_owner,
            state=view.state,
        )


class CreatedLinkOut(BaseModel):
    link: LinkOut
    url: str = Field(description="the address to hand out; shown once, never stored")


@router.post(
    "/spaces/{space}/links",
    response_model=CreatedLinkOut,
    status_code=201,
    responses=problems(403, 404, 422),
)
def create_link(
    space: SpaceRef, body: LinkBody, actor: ActorDep, services: ServicesDep, client: ClientDep
) -> CreatedLinkOut:
    space_id = services.spaces.resolve_reference(actor, space)
    created = services.share_links.create(
        actor,
        space_id=space_id,
        path=body.path,
        options=LinkOptions(
            password=body.password,
            expires_on=body.expires,
            max_downloads=body.max_downloads,
            upload_only=body.upload_only,
            can_edit=body.can_edit,
            notify_owner=body.notify_owner,
        ),
        client=client,
    )
    return CreatedLinkOut(link=LinkOut.of(created.link), url=services.notifier.link(created.path))


@router.get("/links", response_model=list[LinkOut], responses=problems(403))
def list_my_links(actor: ActorDep, services: ServicesDep) -> list[LinkOut]:
    return [LinkOut.of(view) for view in services.share_links.mine(actor)]


@router.get("/organisation/links", response_model=list[LinkOut], responses=problems(403))
def list_organisation_links(actor: ActorDep, services: ServicesDep) -> list[LinkOut]:
    """Every live link of the organisation: Organization Admins only."""
    return [LinkOut.of(view) for view in services.share_links.organisation_links(actor)]


@router.patch("/links/{link_id}", response_model=LinkOut, responses=problems(403, 404, 422))
def change_link(
    link_id: uuid.UUID, body: LinkPatch, actor: ActorDep, services: ServicesDep, client: ClientDep
) -> LinkOut:
    """Change one's own live link under the organisation's current policy."""
    return LinkOut.of(services.share_links.update(actor, link_id, body.changes(), client=client))


@router.delete("/links/{link_id}", response_model=LinkOut, responses=problems(403, 404))
def revoke_link(
    link_id: uuid.UUID, actor: ActorDep, services: ServicesDep, client: ClientDep
) -> LinkOut:
    return LinkOut.of(services.share_links.revoke(actor, link_id, client=client))
