"""A file's versions and the trash, from the Files menu: list, restore, purge."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from sfs.domain.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from sfs.services.identity.web_sessions import ActiveSession
from sfs.web.errors import status_for
from sfs.web.portal.file_places import with_query
from sfs.web.portal.guards import require_fresh_form, to_login
from sfs.web.portal.rendering import render
from sfs.web.portal.routes_files import (
    NAME_LIMIT,
    SHOWN,
    Place,
    action_url,
    clean_path,
    crumbs,
    parent_path,
    place_of,
)
from sfs.web.portal.session import client_of, current_session, services_of

router = APIRouter(include_in_schema=False)


@router.get("/file/versions/{path:path}")
def versions_page(
    request: Request, path: str, space: str = "", done: str = "", number: int = 0
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    restored = number if done == "restored" and number > 0 else None
    place = place_of(services_of(request), active.actor, space)
    return _versions_page(request, active, place, clean_path(path), restored=restored)


@router.post("/file/versions/{path:path}")
def restore_version(
    request: Request,
    path: str,
    space: str = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    number: Annotated[int, Form(ge=1)] = 1,
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    services = services_of(request)
    place = place_of(services, active.actor, space)
    path = clean_path(path)
    try:
        services.file_versions.restore_version(
            active.actor,
            space_id=place.id,
            path=path,
            number=number,
            client=client_of(request),
        )
    except SHOWN as exc:
        return _versions_page(
            request, active, place, path, error=exc.message, status_code=status_for(exc)
        )
    return RedirectResponse(
        action_url("versions", path, place.ref, done="restored", number=number), status_code=303
    )


def _versions_page(
    request: Request,
    active: ActiveSession,
    place: Place,
    path: str,
    *,
    restored: int | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    services = services_of(request)
    node = services.file_tree.stat(active.actor, space_id=place.id, path=path)
    listed = services.file_versions.list_versions(active.actor, space_id=place.id, path=path)
    context = {
        "session": active,
        "place": place,
        "node": node,
        "crumbs": crumbs(parent_path(node.path), place.ref),
        "versions": listed,
        "restored": restored,
        "error": error,
    }
    return render(request, "files_versions.html", context, status_code=status_code)


# -- trash -------------------------------------------------------------------------------------


def _node_id(text: str) -> uuid.UUID:
    """A malformed id is answered like an unknown one."""
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotFound("No such item in the trash.") from None


@router.get("/file/trash")
def trash(request: Request, space: str = "", done: str = "", name: str = "") -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    place = place_of(services_of(request), active.actor, space)
    done = done if done in ("restored", "purged") else ""
    return _trash_page(request, active, place, done=done, name=name[:NAME_LIMIT] if done else "")


def _trash_page(
    request: Request,
    active: ActiveSession,
    place: Place,
    *,
    done: str = "",
    name: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    services = services_of(request)
    items = services.file_tree.trash(active.actor, space_id=place.id)
    context = {
        "session": active,
        "place": place,
        "items": items,
        "done": done,
        "name": name,
        "error": error,
    }
    return render(request, "files_trash.html", context, status_code=status_code)


@router.post("/file/trash/{node_id}/restore")
def restore_from_trash(
    request: Request,
    node_id: str,
    space: str = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    services = services_of(request)
    place = place_of(services, active.actor, space)
    try:
        node = services.file_tree.restore(
            active.actor,
            space_id=place.id,
            node_id=_node_id(node_id),
            client=client_of(request),
        )
    except (Conflict, InvalidInput, PermissionDenied) as exc:
        return _trash_page(request, active, place, error=exc.message, status_code=status_for(exc))
    return RedirectResponse(
        with_query("/file/trash", place.ref, done="restored", name=node.path), status_code=303
    )


@router.get("/file/trash/{node_id}/purge")
def purge_form(request: Request, node_id: str, space: str = "") -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    services = services_of(request)
    place = place_of(services, active.actor, space)
    wanted = _node_id(node_id)
    items = services.file_tree.trash(active.actor, space_id=place.id)
    item = next((item for item in items if item.id == wanted), None)
    if item is None:
        raise NotFound("No such item in the trash.")
    return render(request, "files_purge.html", {"session": active, "place": place, "item": item})


@router.post("/file/trash/{node_id}/purge")
def purge(
    request: Request,
    node_id: str,
    space: str = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    services = services_of(request)
    space_id = place_of(services, active.actor, space).id
    wanted = _node_id(node_id)
    items = services.file_tree.trash(active.actor, space_id=space_id)
    item = next((item for item in items if item.id == wanted), None)
    services.file_tree.purge(
        active.actor, space_id=space_id, node_id=wanted, client=client_of(request)
    )
    name = item.path if item else ""
    return RedirectResponse(
        with_query("/file/trash", space, done="purged", name=name), status_code=303
    )
