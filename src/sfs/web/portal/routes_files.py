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

import anyio.from_thread
import anyio.to_thread
from babel.numbers import format_decimal
from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.datastructures import UploadFile

from sfs.app import Services
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    SfsError,
)
from sfs.i18n import N_, translations
from sfs.protocol.chunking import SupportsRead
from sfs.protocol.paths import BadName, clean_name, join_path, split_path
from sfs.services.files.nodes import FILE, FOLDER, NodeView
from sfs.services.identity.web_sessions import ActiveSession
from sfs.web.errors import status_for
from sfs.web.portal.guards import require_fresh_form, to_login
from sfs.web.portal.rendering import page_language, render, templates
from sfs.web.portal.session import client_of, current_session, services_of, tokens_match

router = APIRouter(include_in_schema=False)

PATH_LIMIT = 4096
NAME_LIMIT = 1024
MAX_FILES_PER_FORM = 100
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
    """1536 → '1.5 KB' (or '1,5 KB' in Dutch); sizes under 1 KB in bytes."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            break
    return f"{format_decimal(round(value, 1), locale=language)} {unit}"


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


def _parent(path: str) -> str:
    return join_path(split_path(path)[:-1])


def _child(folder: str, name: str) -> str:
    """`folder/name`, the name checked on its own so that a '/' in it cannot move anything."""
    try:
        return join_path([*split_path(folder), clean_name(name.strip())])
    except BadName as exc:
        raise InvalidInput(str(exc), field="name") from None


def _clean_path(path: str) -> str:
    try:
        return join_path(split_path(path))
    except BadName:
        raise NotFound(f"{path[:200]} does not exist.") from None


def _crumbs(path: str) -> list[Crumb]:
    parts = split_path(path)
    return [Crumb(name, files_url(join_path(parts[: i + 1]))) for i, name in enumerate(parts)]


def _my_space(services: Services, actor: Actor) -> uuid.UUID:
    return services.spaces.my_files(actor).id


def _to_folder(folder: str, done: str, **extra: str | int) -> RedirectResponse:
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
    space_id = _my_space(services, active.actor)
    path = _clean_path(path)
    node = services.file_tree.stat(active.actor, space_id=space_id, path=path)
    if node.kind == FILE:
        return _download(services, active.actor, space_id, node, version)
    notice = {
        "done": done if done in DONE else "",
        "name": name[:NAME_LIMIT],
        "count": max(n, 0),
        "versions": max(versions, 0),
    }
    return _folder_page(request, active, path, notice=notice)


def _folder_page(
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
    space_id = _my_space(services, active.actor)
    children = services.file_tree.list_folder(active.actor, space_id=space_id, path=path)
    context: dict[str, Any] = {
        "session": active,
        "path": path,
        "crumbs": _crumbs(path),
        "children": children,
        "notice": notice or {},
        "error": error,
        "uploaded": uploaded or [],
        "form": form or {},
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
    folder = _clean_path(folder)
    try:
        services.file_tree.create_folder(
            active.actor,
            space_id=_my_space(services, active.actor),
            path=_child(folder, name),
            client=client_of(request),
        )
    except SHOWN as exc:
        return _folder_page(
            request,
            active,
            folder,
            error=exc.message,
            form={"name": name},
            status_code=status_for(exc),
        )
    return _to_folder(folder, "folder")


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
        active.actor, space_id=_my_space(services, active.actor), path=_clean_path(path)
    )
    if not split_path(node.path):
        raise NotFound("The top folder cannot be renamed or moved.")
    context = {
        "session": active,
        "node": node,
        "parent": _parent(node.path),
        "crumbs": _crumbs(_parent(node.path)),
        "form": form or {"name": node.name, "folder": _parent(node.path)},
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
    space_id = _my_space(services, active.actor)
    node = services.file_tree.stat(active.actor, space_id=space_id, path=_clean_path(path))
    parent = _parent(node.path)
    try:
        if folder is not None:
            destination = _clean_folder(folder)
            target = _child(destination, node.name)
        else:
            destination = parent
            target = _child(parent, name or "")
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
        return _to_folder(destination, "moved", name=node.name)
    return _to_folder(parent, "renamed", name=split_path(target)[-1])


def _clean_folder(folder: str) -> str:
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
    path = _clean_path(path)
    parent = _parent(path)
    try:
        services.file_tree.delete(
            active.actor,
            space_id=_my_space(services, active.actor),
            path=path,
            client=client_of(request),
        )
    except SHOWN as exc:
        return _folder_page(request, active, parent, error=exc.message, status_code=status_for(exc))
    return _to_folder(parent, "deleted", name=split_path(path)[-1] if split_path(path) else "")


# -- uploads -----------------------------------------------------------------------------------


def _store(
    services: Services,
    actor: Actor,
    space_id: uuid.UUID,
    path: str,
    source: SupportsRead | Iterator[bytes],
    *,
    size: int | None,
    modified_at: datetime | None,
    client_info: ClientInfo,
) -> tuple[NodeView, bool]:
    """Upload one file; onto an existing file it becomes that file's next version."""
    try:
        existing: NodeView | None = services.file_tree.stat(actor, space_id=space_id, path=path)
    except NotFound:
        existing = None
    if existing is not None and existing.kind == FOLDER:
        raise Conflict(f"{existing.path} is a folder.")
    node = services.file_content.upload(
        actor,
        space_id=space_id,
        path=path,
        source=source,
        modified_at=modified_at or services.clock.now(),
        base_version=existing.version if existing else None,
        client=client_info,
        declared_size=size,
    )
    return node, existing is not None


@router.post("/file/upload")
@router.post("/file/upload/{folder:path}")
async def upload_form(request: Request, folder: str = "") -> Response:
    """The plain multipart form (no JavaScript): one or several files into a folder."""
    active = await anyio.to_thread.run_sync(current_session, request)
    if active is None:
        return to_login()
    async with request.form(max_files=MAX_FILES_PER_FORM, max_fields=10) as form:
        submitted = form.get("csrf_token")
        require_fresh_form(active, submitted if isinstance(submitted, str) else "")
        files = [
            part for part in form.getlist("files") if isinstance(part, UploadFile) and part.filename
        ]
        return await anyio.to_thread.run_sync(_store_form_files, request, active, folder, files)


def _store_form_files(
    request: Request, active: ActiveSession, folder: str, files: list[UploadFile]
) -> Response:
    services = services_of(request)
    folder = _clean_path(folder)
    space_id = _my_space(services, active.actor)
    uploaded: list[str] = []
    new_versions = 0
    try:
        if not files:
            raise InvalidInput(N_("Choose at least one file to upload."), field="files")
        services.file_tree.list_folder(active.actor, space_id=space_id, path=folder)
        for part in files:
            _, replaced = _store(
                services,
                active.actor,
                space_id,
                _child(folder, part.filename or ""),
                part.file,
                size=part.size,
                modified_at=None,
                client_info=client_of(request),
            )
            uploaded.append(part.filename or "")
            new_versions += replaced
    except SHOWN as exc:
        return _folder_page(
            request,
            active,
            folder,
            error=exc.message,
            uploaded=uploaded,
            status_code=status_for(exc),
        )
    return _to_folder(folder, "uploaded", n=len(uploaded), versions=new_versions)


@router.put("/file/upload/{path:path}")
async def upload_one(request: Request, path: str) -> Response:
    """One file as the raw request body, from files.js (streamed, with flat memory).

    The CSRF token comes in the `X-CSRF-Token` header; the answer is JSON with a message in the
    reader's language, for the page to show.
    """
    active = await anyio.to_thread.run_sync(current_session, request)
    if active is None:
        return _json_error(request, None, NotAuthenticated())
    if not tokens_match(active.csrf_token, request.headers.get("x-csrf-token")):
        error = PermissionDenied(N_("Your form expired. Please reload the page and try again."))
        return _json_error(request, active, error)
    services = services_of(request)
    declared = request.headers.get("content-length")
    stream = request.stream().__aiter__()

    async def next_block() -> bytes | None:
        try:
            return await stream.__anext__()
        except StopAsyncIteration:
            return None

    def blocks() -> Iterator[bytes]:
        # Runs in the worker thread; each block is awaited on the event loop.
        while (block := anyio.from_thread.run(next_block)) is not None:
            if block:
                yield block

    def store() -> tuple[NodeView, bool]:
        folder, _, name = path.rpartition("/")
        return _store(
            services,
            active.actor,
            _my_space(services, active.actor),
            _child(_clean_folder(folder), name),
            blocks(),
            size=int(declared) if declared and declared.isdigit() else None,
            modified_at=_modified_at(request.headers.get("x-modified-at")),
            client_info=client_of(request),
        )

    try:
        node, replaced = await anyio.to_thread.run_sync(store)
    except SfsError as exc:
        return _json_error(request, active, exc)
    gettext = translations(page_language(request, {"session": active})).gettext
    if replaced:
        message = gettext("%(name)s: saved as version %(version)s of the existing file.")
    else:
        message = gettext("%(name)s: uploaded.")
    return JSONResponse(
        {
            "message": message % {"name": node.name, "version": node.version},
            "version": node.version,
            "replaced": replaced,
        }
    )


def _modified_at(header: str | None) -> datetime | None:
    """The file's own modification time, in milliseconds since 1970, as browsers report it."""
    if not header or not header.isdigit() or len(header) > 15:
        return None
    return datetime.fromtimestamp(int(header) / 1000, tz=UTC)


def _json_error(request: Request, active: ActiveSession | None, error: SfsError) -> JSONResponse:
    gettext = translations(page_language(request, {"session": active})).gettext
    return JSONResponse(
        {"code": error.code, "message": gettext(error.message)}, status_code=status_for(error)
    )


# -- versions ----------------------------------------------------------------------------------


@router.get("/file/versions/{path:path}")
def versions_page(request: Request, path: str, done: str = "", number: int = 0) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    restored = number if done == "restored" and number > 0 else None
    return _versions_page(request, active, _clean_path(path), restored=restored)


@router.post("/file/versions/{path:path}")
def restore_version(
    request: Request,
    path: str,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    number: Annotated[int, Form(ge=1)] = 1,
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    services = services_of(request)
    path = _clean_path(path)
    try:
        services.file_versions.restore_version(
            active.actor,
            space_id=_my_space(services, active.actor),
            path=path,
            number=number,
            client=client_of(request),
        )
    except SHOWN as exc:
        return _versions_page(request, active, path, error=exc.message, status_code=status_for(exc))
    return RedirectResponse(
        f"{action_url('versions', path)}?done=restored&number={number}", status_code=303
    )


def _versions_page(
    request: Request,
    active: ActiveSession,
    path: str,
    *,
    restored: int | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    services = services_of(request)
    space_id = _my_space(services, active.actor)
    node = services.file_tree.stat(active.actor, space_id=space_id, path=path)
    listed = services.file_versions.list_versions(active.actor, space_id=space_id, path=path)
    context = {
        "session": active,
        "node": node,
        "crumbs": _crumbs(_parent(node.path)),
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
def trash(request: Request, done: str = "", name: str = "") -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    done = done if done in ("restored", "purged") else ""
    return _trash_page(request, active, done=done, name=name[:NAME_LIMIT] if done else "")


def _trash_page(
    request: Request,
    active: ActiveSession,
    *,
    done: str = "",
    name: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    services = services_of(request)
    items = services.file_tree.trash(active.actor, space_id=_my_space(services, active.actor))
    context = {"session": active, "items": items, "done": done, "name": name, "error": error}
    return render(request, "files_trash.html", context, status_code=status_code)


@router.post("/file/trash/{node_id}/restore")
def restore_from_trash(
    request: Request, node_id: str, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    services = services_of(request)
    try:
        node = services.file_tree.restore(
            active.actor,
            space_id=_my_space(services, active.actor),
            node_id=_node_id(node_id),
            client=client_of(request),
        )
    except (Conflict, InvalidInput) as exc:
        return _trash_page(request, active, error=exc.message, status_code=status_for(exc))
    return RedirectResponse(
        f"/file/trash?{urlencode({'done': 'restored', 'name': node.path})}", status_code=303
    )


@router.get("/file/trash/{node_id}/purge")
def purge_form(request: Request, node_id: str) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    services = services_of(request)
    wanted = _node_id(node_id)
    items = services.file_tree.trash(active.actor, space_id=_my_space(services, active.actor))
    item = next((item for item in items if item.id == wanted), None)
    if item is None:
        raise NotFound("No such item in the trash.")
    return render(request, "files_purge.html", {"session": active, "item": item})


@router.post("/file/trash/{node_id}/purge")
def purge(
    request: Request, node_id: str, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    services = services_of(request)
    space_id = _my_space(services, active.actor)
    wanted = _node_id(node_id)
    items = services.file_tree.trash(active.actor, space_id=space_id)
    item = next((item for item in items if item.id == wanted), None)
    services.file_tree.purge(
        active.actor, space_id=space_id, node_id=wanted, client=client_of(request)
    )
    name = item.path if item else ""
    return RedirectResponse(
        f"/file/trash?{urlencode({'done': 'purged', 'name': name})}", status_code=303
    )
