"""The portal's shares with colleagues: on a file or folder of My Files, "Share with people"
(who has access, share with a colleague or a group, change a role, remove); and "Shared with
me", what colleagues share with the signed-in member, browsed and downloaded by share id.
The rules are `services/sharing/shares.py`."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from sfs.domain.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from sfs.i18n import N_
from sfs.protocol.paths import join_path, split_path
from sfs.services.identity.web_sessions import ActiveSession
from sfs.services.sharing.shares import NO_RECIPIENT
from sfs.web.errors import status_for
from sfs.web.portal.guards import require_fresh_form, to_login
from sfs.web.portal.rendering import render
from sfs.web.portal.routes_files import action_url, clean_path, crumbs, my_space, parent_path
from sfs.web.portal.session import client_of, current_session, services_of

router = APIRouter(include_in_schema=False)

Role = Annotated[str, Form(max_length=16)]
Csrf = Annotated[str, Form(max_length=128)]


# -- the owner's side: Share with people ---------------------------------------------------------


@router.get("/file/people/{path:path}")
def people_page(request: Request, path: str, done: str = "") -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    return _people_page(request, active, clean_path(path), done=done)


@router.post("/file/people/{path:path}")
def share_with(
    request: Request,
    path: str,
    csrf_token: Csrf = "",
    recipient: Annotated[str, Form(max_length=254)] = "",
    role: Role = "viewer",
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    services = services_of(request)
    path = clean_path(path)
    who = recipient.strip()
    try:
        if not who:
            raise InvalidInput(N_("Name a colleague's email address or a group."), field="with")
        services.shares.create(
            active.actor,
            space_id=my_space(services, active.actor),
            path=path,
            role=role,
            client=client_of(request),
            **({"user_email": who} if "@" in who else {"group_name": who}),
        )
    except (InvalidInput, NotFound, AlreadyExists, PermissionDenied) as exc:
        if isinstance(exc, NotFound) and exc.message != NO_RECIPIENT:
            raise  # the file itself is gone: the page's 404
        return _people_page(request, active, path, error=exc.message, status_code=status_for(exc))
    return RedirectResponse(action_url("people", path) + "?done=shared", status_code=303)


@router.post("/file/people-role/{share_id}")
def change_role(
    request: Request, share_id: str, csrf_token: Csrf = "", role: Role = ""
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    shares = services_of(request).shares
    changed = shares.update(active.actor, _share_id(share_id), role=role, client=client_of(request))
    return RedirectResponse(action_url("people", changed.path) + "?done=changed", status_code=303)


@router.post("/file/people-remove/{share_id}")
def remove(request: Request, share_id: str, csrf_token: Csrf = "") -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    shares = services_of(request).shares
    gone = shares.share(active.actor, _share_id(share_id))
    shares.delete(active.actor, gone.id, client=client_of(request))
    return RedirectResponse(action_url("people", gone.path) + "?done=removed", status_code=303)


# -- the recipient's side: Shared with me --------------------------------------------------------


@router.get("/shared")
def shared_with_me(request: Request) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    services = services_of(request)
    context = {
        "session": active,
        "shares": services.shares.shared_with_me(active.actor),
        "dav_spaces": services.notifier.link("/remote.php/dav/spaces/"),
    }
    return render(request, "shared_with_me.html", context)


@router.get("/shared/{share_id}")
@router.get("/shared/{share_id}/{path:path}")
def browse_share(request: Request, share_id: str, path: str = "") -> Response:
    """A folder shared with me, listed; a file, downloaded (as an attachment: never rendered on
    the portal's origin)."""
    active = current_session(request)
    if active is None:
        return to_login()
    services = services_of(request)
    space_id, path = _share_id(share_id), clean_path(path)
    node = services.file_tree.stat(active.actor, space_id=space_id, path=path)
    if node.kind == "file":
        download = services.file_content.download(active.actor, space_id=space_id, path=path)
        return StreamingResponse(
            download.body,
            media_type="application/octet-stream",
            headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(node.name)}",
                "Content-Length": str(node.size),
                "X-Content-Type-Options": "nosniff",
            },
        )
    mine = services.shares.shared_with_me(active.actor)
    share = next((item for item in mine if item.id == space_id), None)
    children = services.file_tree.list_folder(active.actor, space_id=space_id, path=path)
    parts = split_path(path)
    context = {
        "session": active,
        "share_id": space_id,
        "share": share,
        "path": path,
        "trail": [
            (name, _share_url(space_id, join_path(parts[: i + 1]))) for i, name in enumerate(parts)
        ],
        "children": [(child, _share_url(space_id, child.path)) for child in children],
        "dav_url": services.notifier.link(f"/remote.php/dav/spaces/{space_id}/"),
    }
    return render(request, "shared_folder.html", context)


def _people_page(
    request: Request,
    active: ActiveSession,
    path: str,
    *,
    done: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    services = services_of(request)
    space_id = my_space(services, active.actor)
    node = services.file_tree.stat(active.actor, space_id=space_id, path=path)
    context = {
        "session": active,
        "node": node,
        "crumbs": crumbs(parent_path(node.path)),
        "shares": services.shares.shares_of(active.actor, space_id=space_id, path=path),
        "done": done if done in ("shared", "changed", "removed") else "",
        "error": error,
    }
    return render(request, "files_people.html", context, status_code=status_code)


def _share_url(share_id: uuid.UUID, path: str) -> str:
    return f"/shared/{share_id}" + quote(join_path(split_path(path)), safe="/")


def _share_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotFound(N_("No such share.")) from None
