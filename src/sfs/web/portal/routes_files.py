"""The Files menu: browse My Files, upload and download, folders, rename, move, trash, versions.

Thin: every rule (names, clashes, quota, stale versions, tenants) is in the file services; these
handlers parse forms, call them, and render the answer. Paths are the URL: `/files/<path>` is a
folder's page or, for a file, its content. Actions live under `/file/` so that no name a user
gives a file can shadow them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from babel.numbers import format_decimal
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from sfs.app import Services
from sfs.domain.actor import Actor
from sfs.domain.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    QuotaExceeded,
)
from sfs.domain.space_roles import TEAM
from sfs.protocol.paths import BadName, clean_name, join_path, split_path
from sfs.protocol.sizes import scaled
from sfs.services.files.nodes import FILE, NodeView
from sfs.services.identity.web_sessions import ActiveSession
from sfs.web.errors import status_for
from sfs.web.portal.guards import require_fresh_form, to_login
from sfs.web.portal.rendering import render, templates
from sfs.web.portal.session import client_of, current_session, services_of

router = APIRouter(include_in_schema=False)

PATH_LIMIT = 4096
NAME_LIMIT = 1024
# What a redirect after a successful action may announce on a folder's page.
DONE = ("uploaded", "folder", "renamed", "moved", "deleted")
# The errors a user can act on: shown on the page they came from, with nothing changed.
SHOWN = (InvalidInput, Conflict, NotFound, QuotaExceeded)


@dataclass(frozen=True)
class Crumb:
    name: str
    url: str


def files_url(path: str) -> str:
    """The page of a folder, or the content of a file: `/files/<path>`, quoted."""
    return "/files" + quote(join_path(split_path(path)), safe="/")


def action_url(action: str, path: str) -> str:
    return f"/file/{action}" + quote(join_path(split_path(path)), safe="/")


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
templates.env.globals["files_url"] = files_url
templates.env.globals["file_action_url"] = action_url


def parent_path(path: str) -> str:
    return join_path(split_path(path)[:-1])


def child_path(folder: str, name: str) -> str:
    """`folder/name`, the name checked on its own so that a '/' in it cannot move anything."""
    try:
        return join_path([*split_path(folder), clean_name(name.strip())])
    except BadName as exc:
        raise InvalidInput(str(exc), field="name") from None


def clean_path(path: str) -> str:
    try:
        return join_path(split_path(path))
    except BadName:
        raise NotFound(f"{path[:200]} does not exist.") from None


def crumbs(path: str) -> list[Crumb]:
    parts = split_path(path)
    return [Crumb(name, files_url(join_path(parts[: i + 1]))) for i, name in enumerate(parts)]


def my_space(services: Services, actor: Actor) -> uuid.UUID:
    return services.spaces.my_files(actor).id


def to_folder(folder: str, done: str, **extra: str | int) -> RedirectResponse:
    query = urlencode({"done": done, **extra})
    return RedirectResponse(f"{files_url(folder)}?{query}", status_code=303)


# -- browsing and downloading ------------------------------------------------------------------


@router.get("/files")
@router.get("/files/{path:path}")
def browse(
    request: Request,
    path: str = "",
    version: int | None = None,
    done: str = "",
    name: str = "",
    n: int = 0,
    versions: int = 0,
) -> Response:
    """A folder's page, or a file's content (the current version, or `?version=`)."""
    active = current_session(request)
    if active is None:
        return to_login()
    services = services_of(request)
    space_id = my_space(services, active.actor)
    path = clean_path(path)
    node = services.file_tree.stat(active.actor, space_id=space_id, path=path)
    if node.kind == FILE:
        return _download(services, active.actor, space_id, node, version)
    notice = {
        "done": done if done in DONE else "",
        "name": name[:NAME_LIMIT],
        "count": max(n, 0),
        "versions": max(versions, 0),
    }
    return folder_page(request, active, path, notice=notice)


def folder_page(
    request: Request,
    active: ActiveSession,
    path: str,
    *,
    notice: dict[str, Any] | None = None,
    error: str | None = None,
    uploaded: list[str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    services = services_of(request)
    space_id = my_space(services, active.actor)
    children = services.file_tree.list_folder(active.actor, space_id=space_id, path=path)
    context: dict[str, Any] = {
        "session": active,
        "path": path,
        "crumbs": crumbs(path),
        "children": children,
        "notice": notice or {},
        "error": error,
        "uploaded": uploaded or [],
        "form": form or {},
        # Team folders are synced and reached over WebDAV; here they are listed with the way in.
        "team_folders": [
            space for space in services.spaces.list_spaces(active.actor) if space.kind == TEAM
        ],
        "dav_spaces": services.notifier.link("/remote.php/dav/spaces/"),
    }
    return render(request, "files.html", context, status_code=status_code)


def _download(
    services: Services, actor: Actor, space_id: uuid.UUID, node: NodeView, version: int | None
) -> Response:
    download = services.file_content.download(
        actor, space_id=space_id, path=node.path, version=version
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
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    name: Annotated[str, Form(max_length=NAME_LIMIT)] = "",
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    services = services_of(request)
    folder = clean_path(folder)
    try:
        services.file_tree.create_folder(
            active.actor,
            space_id=my_space(services, active.actor),
            path=child_path(folder, name),
            client=client_of(request),
        )
    except SHOWN as exc:
        return folder_page(
            request,
            active,
            folder,
            error=exc.message,
            form={"name": name},
            status_code=status_for(exc),
        )
    return to_folder(folder, "folder")


@router.get("/file/rename/{path:path}")
def rename_form(request: Request, path: str) -> Response:
    return _item_form(request, path, "files_rename.html")


@router.post("/file/rename/{path:path}")
def rename(
    request: Request,
    path: str,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    name: Annotated[str, Form(max_length=NAME_LIMIT)] = "",
) -> Response:
    return _relocate(request, path, csrf_token, name=name)


@router.get("/file/move/{path:path}")
def move_form(request: Request, path: str) -> Response:
    return _item_form(request, path, "files_move.html")


@router.post("/file/move/{path:path}")
def move(
    request: Request,
    path: str,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    folder: Annotated[str, Form(max_length=PATH_LIMIT)] = "",
) -> Response:
    return _relocate(request, path, csrf_token, folder=folder)


def _item_form(
    request: Request,
    path: str,
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
    node = services.file_tree.stat(
        active.actor, space_id=my_space(services, active.actor), path=clean_path(path)
    )
    if not split_path(node.path):
        raise NotFound("The top folder cannot be renamed or moved.")
    context = {
        "session": active,
        "node": node,
        "parent": parent_path(node.path),
        "crumbs": crumbs(parent_path(node.path)),
        "form": form or {"name": node.name, "folder": parent_path(node.path)},
        "error": error,
    }
    return render(request, template, context, status_code=status_code)


def _relocate(
    request: Request,
    path: str,
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
    space_id = my_space(services, active.actor)
    node = services.file_tree.stat(active.actor, space_id=space_id, path=clean_path(path))
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
            space_id=space_id,
            source=node.path,
            target=target,
            client=client_of(request),
        )
    except SHOWN as exc:
        template = "files_move.html" if folder is not None else "files_rename.html"
        form = {"folder": folder or ""} if folder is not None else {"name": name or ""}
        return _item_form(
            request, path, template, form=form, error=exc.message, status_code=status_for(exc)
        )
    if folder is not None:
        return to_folder(destination, "moved", name=node.name)
    return to_folder(parent, "renamed", name=split_path(target)[-1])


def clean_folder(folder: str) -> str:
    try:
        return join_path(split_path(folder.strip()))
    except BadName as exc:
        raise InvalidInput(str(exc), field="folder") from None


@router.post("/file/delete/{path:path}")
def delete(
    request: Request, path: str, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    services = services_of(request)
    path = clean_path(path)
    parent = parent_path(path)
    try:
        services.file_tree.delete(
            active.actor,
            space_id=my_space(services, active.actor),
            path=path,
            client=client_of(request),
        )
    except SHOWN as exc:
        return folder_page(request, active, parent, error=exc.message, status_code=status_for(exc))
    return to_folder(parent, "deleted", name=split_path(path)[-1] if split_path(path) else "")


# -- uploads -----------------------------------------------------------------------------------
