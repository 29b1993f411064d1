"""The Files menu: browse a space (My Files or a team folder), download, folders, rename, move,
trash; uploads, history, selections and thumbnails live in the sibling `routes_file_*` modules.

Thin: every rule (names, clashes, quota, stale versions, tenants, roles) is in the file
services; these handlers parse forms, call them, and render the answer. Paths are the URL:
`/files/<path>` is a folder's page or, for a file, its content, and `?space=` names a team
folder (absent: My Files). Actions live under `/file/` so that no name a user gives a file can
shadow them.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from babel.numbers import format_decimal
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from sfs.app import Services
from sfs.domain.actor import Actor
from sfs.domain.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
)
from sfs.domain.space_roles import TEAM
from sfs.protocol.paths import split_path
from sfs.protocol.sizes import scaled
from sfs.services.files.browsing import PAGE_SIZE, SEARCH_LIMIT, SORTS
from sfs.services.files.nodes import FILE, NodeView
from sfs.services.files.thumbnails import may_have_thumbnail
from sfs.services.identity.web_sessions import ActiveSession
from sfs.web.errors import status_for
from sfs.web.portal.file_kinds import file_kind
from sfs.web.portal.file_places import (
    Place,
    action_url,
    child_path,
    clean_folder,
    clean_path,
    crumbs,
    files_url,
    parent_path,
    place_of,
    with_query,
)
from sfs.web.portal.guards import require_fresh_form, to_login
from sfs.web.portal.rendering import render, templates
from sfs.web.portal.session import client_of, current_session, services_of

__all__ = [
    "NAME_LIMIT",
    "SHOWN",
    "Place",
    "action_url",
    "child_path",
    "clean_folder",
    "clean_path",
    "crumbs",
    "folder_page",
    "my_space",
    "parent_path",
    "place_of",
    "to_folder",
]

router = APIRouter(include_in_schema=False)

PATH_LIMIT = 4096
NAME_LIMIT = 1024
# What a redirect after a successful action may announce on a folder's page.
DONE = ("uploaded", "folder", "renamed", "moved", "deleted", "moved-several", "deleted-several")
# The errors a user can act on: shown on the page they came from, with nothing changed.
SHOWN = (InvalidInput, Conflict, NotFound, QuotaExceeded, PermissionDenied)


def file_size(size: int, language: str = "en") -> str:
    """3,000,000 → '3.0 MB' (or '3,0 MB' in Dutch): SI units, as the command line shows them
    (`sfs.protocol.sizes`); sizes under 1 kB in bytes."""
    value, unit = scaled(size)
    if unit == "B":
        return f"{size} B"
    return f"{format_decimal(round(value, 1), format='#,##0.0', locale=language)} {unit}"


def when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


templates.env.filters["file_size"] = file_size
templates.env.filters["when"] = when
templates.env.filters["file_kind"] = file_kind
templates.env.globals["files_url"] = files_url
templates.env.globals["file_action_url"] = action_url
templates.env.globals["with_query"] = with_query
templates.env.globals["may_have_thumbnail"] = may_have_thumbnail


def my_space(services: Services, actor: Actor) -> uuid.UUID:
    """The actor's My Files (pages that work on My Files alone, such as Share with people)."""
    return services.spaces.my_files(actor).id


def to_folder(folder: str, done: str, space: str = "", **extra: str | int) -> RedirectResponse:
    return RedirectResponse(files_url(folder, space, done=done, **extra), status_code=303)


# -- browsing and downloading ------------------------------------------------------------------


@router.get("/files")
@router.get("/files/{path:path}")
def browse(
    request: Request,
    path: str = "",
    space: str = "",
    version: int | None = None,
    done: str = "",
    name: str = "",
    n: int = 0,
    versions: int = 0,
    sort: str = "name",
    order: str = "asc",
    page: int = 1,
    q: str = "",
) -> Response:
    """A folder's page (sorted, paged, or a search of its space), or a file's content."""
    active = current_session(request)
    if active is None:
        return to_login()
    services = services_of(request)
    place = place_of(services, active.actor, space)
    path = clean_path(path)
    node = services.file_tree.stat(active.actor, space_id=place.id, path=path)
    if node.kind == FILE:
        return _download(services, active.actor, place, node, version)
    notice = {
        "done": done if done in DONE else "",
        "name": name[:NAME_LIMIT],
        "count": max(n, 0),
        "versions": max(versions, 0),
    }
    view = {
        "sort": sort if sort in SORTS else "name",
        "order": "desc" if order == "desc" else "asc",
        "page": min(max(page, 1), 100_000),
        "q": q.strip()[:255],
    }
    return folder_page(request, active, place, path, notice=notice, view=view)


def folder_page(
    request: Request,
    active: ActiveSession,
    place: Place,
    path: str,
    *,
    notice: dict[str, Any] | None = None,
    view: dict[str, Any] | None = None,
    error: str | None = None,
    uploaded: list[str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    services = services_of(request)
    view = view or {"sort": "name", "order": "asc", "page": 1, "q": ""}
    page_number = view["page"]
    context: dict[str, Any] = {
        "session": active,
        "place": place,
        "path": path,
        "crumbs": crumbs(path, place.ref),
        "view": view,
        "notice": notice or {},
        "error": error,
        "uploaded": uploaded or [],
        "form": form or {},
        "storage": services.browsing.storage(active.actor),
        "spaces": services.spaces.list_spaces(active.actor),
        "dav_spaces": services.notifier.link("/remote.php/dav/spaces/"),
        "TEAM": TEAM,
    }
    if view["q"]:
        found = services.browsing.search(
            active.actor,
            space_id=place.id,
            query=view["q"],
            offset=(page_number - 1) * SEARCH_LIMIT,
            limit=SEARCH_LIMIT,
        )
        context.update(entries=found.entries, has_more=found.has_more, total=None, pages=None)
    else:
        listed = services.browsing.folder_page(
            active.actor,
            space_id=place.id,
            path=path,
            sort=view["sort"],
            descending=view["order"] == "desc",
            offset=(page_number - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
        context.update(
            entries=listed.entries,
            has_more=listed.has_more,
            total=listed.total,
            pages=max(1, math.ceil(listed.total / PAGE_SIZE)),
            first=listed.offset + 1,
            last=listed.offset + len(listed.entries),
        )
    return render(request, "files.html", context, status_code=status_code)


def _download(
    services: Services, actor: Actor, place: Place, node: NodeView, version: int | None
) -> Response:
    download = services.file_content.download(
        actor, space_id=place.id, path=node.path, version=version
    )
    body = download.body
    # Read the first piece now, so damage found at once becomes an error page, not a torn file.
    first = next(body, b"")

    def chained() -> Iterator[bytes]:
        yield first
        yield from body

    headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(node.name)}"}
    if version is None:
        headers["Content-Length"] = str(download.node.size)
    return StreamingResponse(chained(), headers=headers, media_type="application/octet-stream")


# -- new folder, rename, move, delete ----------------------------------------------------------


@router.post("/file/new-folder")
@router.post("/file/new-folder/{folder:path}")
def new_folder(
    request: Request,
    folder: str = "",
    space: str = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    name: Annotated[str, Form(max_length=NAME_LIMIT)] = "",
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    services = services_of(request)
    place = place_of(services, active.actor, space)
    folder = clean_path(folder)
    try:
        services.file_tree.create_folder(
            active.actor,
            space_id=place.id,
            path=child_path(folder, name),
            client=client_of(request),
        )
    except SHOWN as exc:
        return folder_page(
            request,
            active,
            place,
            folder,
            error=exc.message,
            form={"name": name},
            status_code=status_for(exc),
        )
    return to_folder(folder, "folder", place.ref)


@router.get("/file/rename/{path:path}")
def rename_form(request: Request, path: str, space: str = "") -> Response:
    return _item_form(request, path, space, "files_rename.html")


@router.post("/file/rename/{path:path}")
def rename(
    request: Request,
    path: str,
    space: str = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    name: Annotated[str, Form(max_length=NAME_LIMIT)] = "",
) -> Response:
    return _relocate(request, path, space, csrf_token, name=name)


@router.get("/file/move/{path:path}")
def move_form(request: Request, path: str, space: str = "") -> Response:
    return _item_form(request, path, space, "files_move.html")


@router.post("/file/move/{path:path}")
def move(
    request: Request,
    path: str,
    space: str = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    folder: Annotated[str, Form(max_length=PATH_LIMIT)] = "",
) -> Response:
    return _relocate(request, path, space, csrf_token, folder=folder)


def _item_form(
    request: Request,
    path: str,
    space: str,
    template: str,
    *,
    form: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    services = services_of(request)
    place = place_of(services, active.actor, space)
    node = services.file_tree.stat(active.actor, space_id=place.id, path=clean_path(path))
    if not split_path(node.path):
        raise NotFound("The top folder cannot be renamed or moved.")
    context = {
        "session": active,
        "place": place,
        "node": node,
        "parent": parent_path(node.path),
        "crumbs": crumbs(parent_path(node.path), place.ref),
        "form": form or {"name": node.name, "folder": parent_path(node.path)},
        "error": error,
    }
    return render(request, template, context, status_code=status_code)


def _relocate(
    request: Request,
    path: str,
    space: str,
    csrf_token: str,
    *,
    name: str | None = None,
    folder: str | None = None,
) -> Response:
    """Rename (a new name, same folder) or move (same name, another folder)."""
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    services = services_of(request)
    place = place_of(services, active.actor, space)
    node = services.file_tree.stat(active.actor, space_id=place.id, path=clean_path(path))
    parent = parent_path(node.path)
    try:
        if folder is not None:
            destination = clean_folder(folder)
            target = child_path(destination, node.name)
        else:
            destination = parent
            target = child_path(parent, name or "")
        services.file_tree.move(
            active.actor,
            space_id=place.id,
            source=node.path,
            target=target,
            client=client_of(request),
        )
    except SHOWN as exc:
        template = "files_move.html" if folder is not None else "files_rename.html"
        form = {"folder": folder or ""} if folder is not None else {"name": name or ""}
        return _item_form(
            request,
            path,
            space,
            template,
            form=form,
            error=exc.message,
            status_code=status_for(exc),
        )
    if folder is not None:
        return to_folder(destination, "moved", place.ref, name=node.name)
    return to_folder(parent, "renamed", place.ref, name=split_path(target)[-1])


@router.post("/file/delete/{path:path}")
def delete(
    request: Request,
    path: str,
    space: str = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    services = services_of(request)
    place = place_of(services, active.actor, space)
    path = clean_path(path)
    parent = parent_path(path)
    try:
        services.file_tree.delete(
            active.actor, space_id=place.id, path=path, client=client_of(request)
        )
    except SHOWN as exc:
        return folder_page(
            request, active, place, parent, error=exc.message, status_code=status_for(exc)
        )
    name = split_path(path)[-1] if split_path(path) else ""
    return to_folder(parent, "deleted", place.ref, name=name)
