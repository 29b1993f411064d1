"""Team folders and groups in the portal, under Organisation settings: the organisation admin
creates, renames and deletes both; the admin or a folder's Manager sets its members."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from sfs.domain.errors import AlreadyExists, InvalidInput, NotFound, SfsError
from sfs.domain.space_roles import MEMBER_ROLES
from sfs.i18n import N_
from sfs.services.identity.web_sessions import ActiveSession
from sfs.web.errors import status_for
from sfs.web.portal.guards import require_fresh_form, to_login
from sfs.web.portal.rendering import render
from sfs.web.portal.session import client_of, current_session, services_of

router = APIRouter(include_in_schema=False)

Csrf = Annotated[str, Form(max_length=128)]
Name = Annotated[str, Form(max_length=1000)]
# What a form may be refused for and shown again with the reason; the rest is an error page.
_SHOWN = (InvalidInput, AlreadyExists, NotFound)


def _id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(N_("No such team folder.")) from None


def _signed_in(request: Request, csrf_token: str | None = None) -> ActiveSession | None:
    active = current_session(request)
    if active is not None and csrf_token is not None:
        require_fresh_form(active, csrf_token)
    return active


# -- the list ----------------------------------------------------------------------------------


@router.get("/organisation/team-folders")
def team_folders_page(request: Request) -> Response:
    active = _signed_in(request)
    if active is None:
        return to_login()
    return _list_page(request, active)


def _list_page(
    request: Request, active: ActiveSession, error: SfsError | None = None, form: str = ""
) -> Response:
    services = services_of(request)
    context = {
        "session": active,
        "folders": services.team_folders.list_all(active.actor),
        "groups": services.groups.list_groups(active.actor),
        "error": error,
        "form": form,
    }
    status_code = status_for(error) if error else 200
    return render(request, "team_folders.html", context, status_code=status_code)


@router.post("/organisation/team-folders")
def create_team_folder(request: Request, csrf_token: Csrf = "", name: Name = "") -> Response:
    active = _signed_in(request, csrf_token)
    if active is None:
        return to_login()
    try:
        folder = services_of(request).team_folders.create(
            active.actor, name, client=client_of(request)
        )
    except _SHOWN as exc:
        return _list_page(request, active, exc, form="folder")
    return RedirectResponse(f"/organisation/team-folders/{folder.id}", status_code=303)


@router.post("/organisation/groups")
def create_group(request: Request, csrf_token: Csrf = "", name: Name = "") -> Response:
    active = _signed_in(request, csrf_token)
    if active is None:
        return to_login()
    try:
        group = services_of(request).groups.create(active.actor, name, client=client_of(request))
    except _SHOWN as exc:
        return _list_page(request, active, exc, form="group")
    return RedirectResponse(f"/organisation/groups/{group.id}", status_code=303)


# -- one team folder -----------------------------------------------------------------------------


@router.get("/organisation/team-folders/{folder_id}")
def team_folder_page(request: Request, folder_id: str, done: str = "") -> Response:
    active = _signed_in(request)
    if active is None:
        return to_login()
    return _folder_page(request, active, _id(folder_id), saved=done == "saved")


def _folder_page(
    request: Request,
    active: ActiveSession,
    folder_id: uuid.UUID,
    error: SfsError | None = None,
    saved: bool = False,
) -> Response:
    services = services_of(request)
    context = {
        "session": active,
        "folder": services.team_folders.folder(active.actor, folder_id),
        "groups": services.groups.list_groups(active.actor),
        "roles": MEMBER_ROLES,
        "error": error,
        "saved": saved,
    }
    status_code = status_for(error) if error else 200
    return render(request, "team_folder.html", context, status_code=status_code)


@router.post("/organisation/team-folders/{folder_id}/rename")
def rename_team_folder(
    request: Request, folder_id: str, csrf_token: Csrf = "", name: Name = ""
) -> Response:
    active = _signed_in(request, csrf_token)
    if active is None:
        return to_login()
    space_id = _id(folder_id)
    try:
        services_of(request).team_folders.rename(
            active.actor, space_id, name, client=client_of(request)
        )
    except (InvalidInput, AlreadyExists) as exc:
        return _folder_page(request, active, space_id, exc)
    return RedirectResponse(f"/organisation/team-folders/{space_id}?done=saved", status_code=303)


@router.post("/organisation/team-folders/{folder_id}/delete")
def delete_team_folder(request: Request, folder_id: str, csrf_token: Csrf = "") -> Response:
    active = _signed_in(request, csrf_token)
    if active is None:
        return to_login()
    services_of(request).team_folders.delete(
        active.actor, _id(folder_id), client=client_of(request)
    )
    return RedirectResponse("/organisation/team-folders", status_code=303)


@router.post("/organisation/team-folders/{folder_id}/members")
def set_member(
    request: Request,
    folder_id: str,
    csrf_token: Csrf = "",
    member: Annotated[str, Form(max_length=254)] = "",
    role: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """`member` is a colleague's email, or `group:<id>` from the list of groups."""
    active = _signed_in(request, csrf_token)
    if active is None:
        return to_login()
    space_id = _id(folder_id)
    folders, client = services_of(request).team_folders, client_of(request)
    try:
        if member.startswith("group:"):
            group_id = _group_id(member.removeprefix("group:"))
            folders.set_group_role(active.actor, space_id, group_id, role, client=client)
        else:
            folders.set_user_role(active.actor, space_id, member, role, client=client)
    except _SHOWN as exc:
        if isinstance(exc, NotFound) and "team folder" in exc.message:
            raise
        return _folder_page(request, active, space_id, exc)
    return RedirectResponse(f"/organisation/team-folders/{space_id}?done=saved", status_code=303)


@router.post("/organisation/team-folders/{folder_id}/members/{member_id}/remove")
def remove_member(
    request: Request, folder_id: str, member_id: str, csrf_token: Csrf = ""
) -> Response:
    active = _signed_in(request, csrf_token)
    if active is None:
        return to_login()
    space_id = _id(folder_id)
    services_of(request).team_folders.remove_member(
        active.actor, space_id, _id(member_id), client=client_of(request)
    )
    return RedirectResponse(f"/organisation/team-folders/{space_id}?done=saved", status_code=303)


# -- one group ---------------------------------------------------------------------------------


def _group_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(N_("No such group.")) from None


@router.get("/organisation/groups/{group_id}")
def group_page(request: Request, group_id: str, done: str = "") -> Response:
    active = _signed_in(request)
    if active is None:
        return to_login()
    return _group_page(request, active, _group_id(group_id), saved=done == "saved")


def _group_page(
    request: Request,
    active: ActiveSession,
    group_id: uuid.UUID,
    error: SfsError | None = None,
    saved: bool = False,
) -> Response:
    if not active.actor.is_org_admin:  # members may list groups through the API, not manage
        services_of(request).team_folders.list_all(active.actor)  # raises PermissionDenied
    context = {
        "session": active,
        "group": services_of(request).groups.group(active.actor, group_id),
        "error": error,
        "saved": saved,
    }
    status_code = status_for(error) if error else 200
    return render(request, "group.html", context, status_code=status_code)


@router.post("/organisation/groups/{group_id}/rename")
def rename_group(
    request: Request, group_id: str, csrf_token: Csrf = "", name: Name = ""
) -> Response:
    active = _signed_in(request, csrf_token)
    if active is None:
        return to_login()
    gid = _group_id(group_id)
    try:
        services_of(request).groups.rename(active.actor, gid, name, client=client_of(request))
    except (InvalidInput, AlreadyExists) as exc:
        return _group_page(request, active, gid, exc)
    return RedirectResponse(f"/organisation/groups/{gid}?done=saved", status_code=303)


@router.post("/organisation/groups/{group_id}/delete")
def delete_group(request: Request, group_id: str, csrf_token: Csrf = "") -> Response:
    active = _signed_in(request, csrf_token)
    if active is None:
        return to_login()
    services_of(request).groups.delete(active.actor, _group_id(group_id), client=client_of(request))
    return RedirectResponse("/organisation/team-folders", status_code=303)


@router.post("/organisation/groups/{group_id}/members")
def add_group_member(
    request: Request,
    group_id: str,
    csrf_token: Csrf = "",
    email: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    active = _signed_in(request, csrf_token)
    if active is None:
        return to_login()
    gid = _group_id(group_id)
    try:
        services_of(request).groups.add_member(active.actor, gid, email, client=client_of(request))
    except NotFound as exc:
        # An unknown colleague: the form again. A group out of reach: the page's own 404.
        return _group_page(request, active, gid, exc)
    return RedirectResponse(f"/organisation/groups/{gid}?done=saved", status_code=303)


@router.post("/organisation/groups/{group_id}/members/{user_id}/remove")
def remove_group_member(
    request: Request, group_id: str, user_id: str, csrf_token: Csrf = ""
) -> Response:
    active = _signed_in(request, csrf_token)
    if active is None:
        return to_login()
    gid = _group_id(group_id)
    services_of(request).groups.remove_member(
        active.actor, gid, _group_id(user_id), client=client_of(request)
    )
    return RedirectResponse(f"/organisation/groups/{gid}?done=saved", status_code=303)
