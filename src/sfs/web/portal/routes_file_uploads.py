"""Uploads from the Files page: a form of several files, or one file PUT by the page's script.

Thin, like the rest of the Files menu: names, quota and stale versions are the file services'.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
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
from sfs.protocol.limits import clamp_timestamp
from sfs.protocol.paths import join_path, split_path
from sfs.services.files.content_upload import ContentUpload, UploadTarget, pour
from sfs.services.files.nodes import FOLDER, NodeView
from sfs.services.identity.web_sessions import ActiveSession
from sfs.web.errors import headers_for, status_for
from sfs.web.portal.form_prefix import leading_field
from sfs.web.portal.guards import to_login
from sfs.web.portal.rendering import page_language
from sfs.web.portal.routes_files import (
    SHOWN,
    Place,
    child_path,
    clean_folder,
    clean_path,
    folder_page,
    place_of,
    to_folder,
)
from sfs.web.portal.session import client_of, current_session, services_of, tokens_match
from sfs.web.streamed_uploads import receive_into

router = APIRouter(include_in_schema=False)

MAX_FILES_PER_FORM = 100


def _target(
    services: Services,
    actor: Actor,
    space_id: uuid.UUID,
    path: str,
    *,
    modified_at: datetime | None,
    client_info: ClientInfo,
) -> tuple[UploadTarget, bool]:
    """Where one file goes; onto an existing file it becomes that file's next version."""
    try:
        existing: NodeView | None = services.file_tree.stat(actor, space_id=space_id, path=path)
    except NotFound:
        existing = None
    if existing is not None and existing.kind == FOLDER:
        raise Conflict(f"{existing.path} is a folder.")
    target = UploadTarget(
        space_id=space_id,
        path=path,
        modified_at=modified_at or services.clock.now(),
        base_version=existing.version if existing else None,
        client=client_info,
    )
    return target, existing is not None


@router.post("/file/upload")
@router.post("/file/upload/{folder:path}")
async def upload_form(request: Request, folder: str = "", space: str = "") -> Response:
    """The plain multipart form (no JavaScript): one or several files into a folder.

    The session, the CSRF token (the form's first field, read alone), the size cap (in
    `BodyGuard`) and the quota (against Content-Length) are all checked before any file is
    read; only then are the files spooled and stored.
    """
    active = await anyio.to_thread.run_sync(current_session, request)
    if active is None:
        return to_login()
    submitted, request = await leading_field(request, "csrf_token")
    if not tokens_match(active.csrf_token, submitted):
        raise PermissionDenied(N_("Your form expired. Please reload the page and try again."))
    place = await anyio.to_thread.run_sync(place_of, services_of(request), active.actor, space)
    if not place.may_write:
        # Refused before a byte of the files is read: the services would refuse each one.
        error = PermissionDenied(N_("You may only read this team folder."))
        return await anyio.to_thread.run_sync(_refused_form, request, active, place, folder, error)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit():
        try:
            await anyio.to_thread.run_sync(
                services_of(request).file_versions.check_room, active.actor, int(declared)
            )
        except QuotaExceeded as exc:
            return await anyio.to_thread.run_sync(
                _refused_form, request, active, place, folder, exc
            )
    with services_of(request).upload_slots.hold(active.actor, client_of(request)):
        async with request.form(max_files=MAX_FILES_PER_FORM, max_fields=10) as form:
            files = [
                part
                for part in form.getlist("files")
                if isinstance(part, UploadFile) and part.filename
            ]
            return await anyio.to_thread.run_sync(
                _store_form_files, request, active, place, folder, files
            )


def _refused_form(
    request: Request, active: ActiveSession, place: Place, folder: str, error: SfsError
) -> Response:
    response = folder_page(
        request,
        active,
        place,
        clean_path(folder),
        error=error.message,
        status_code=status_for(error),
    )
    response.headers["Connection"] = "close"  # the files were not read: nothing more to come
    return response


def _store_form_files(
    request: Request, active: ActiveSession, place: Place, folder: str, files: list[UploadFile]
) -> Response:
    services = services_of(request)
    folder = clean_path(folder)
    space_id = place.id
    uploaded: list[str] = []
    new_versions = 0
    try:
        if not files:
            raise InvalidInput(N_("Choose at least one file to upload."), field="files")
        services.file_tree.list_folder(active.actor, space_id=space_id, path=folder)
        for part in files:
            target, replaced = _target(
                services,
                active.actor,
                space_id,
                child_path(folder, part.filename or ""),
                modified_at=None,
                client_info=client_of(request),
            )
            upload = services.file_content.start_upload(
                active.actor, target, declared_size=part.size
            )
            pour(upload, part.file)
            uploaded.append(part.filename or "")
            new_versions += replaced
    except SHOWN as exc:
        return folder_page(
            request,
            active,
            place,
            folder,
            error=exc.message,
            uploaded=uploaded,
            status_code=status_for(exc),
        )
    return to_folder(folder, "uploaded", place.ref, n=len(uploaded), versions=new_versions)


@router.put("/file/upload/{path:path}")
async def upload_one(request: Request, path: str, space: str = "") -> Response:
    """One file as the raw request body, from files.js (streamed, with flat memory; the body
    is read on the event loop, so a slow one holds no worker thread).

    The CSRF token comes in the `X-CSRF-Token` header; the answer is JSON with a message in the
    reader's language, for the page to show. With `X-Make-Folders: 1` the file's folders are
    made first when missing (a dropped folder arrives as its files, with their paths).
    """
    active = await anyio.to_thread.run_sync(current_session, request)
    if active is None:
        return _json_error(request, None, NotAuthenticated())
    if not tokens_match(active.csrf_token, request.headers.get("x-csrf-token")):
        error = PermissionDenied(N_("Your form expired. Please reload the page and try again."))
        return _json_error(request, active, error)
    services = services_of(request)
    client_info = client_of(request)
    declared = request.headers.get("content-length")

    make_folders = request.headers.get("x-make-folders") == "1"

    def start() -> tuple[ContentUpload, bool]:
        space_id = place_of(services, active.actor, space).id
        folder, _, name = path.rpartition("/")
        target_path = child_path(clean_folder(folder), name)
        if make_folders and clean_folder(folder) != "/":
            parts = split_path(clean_folder(folder))
            levels = [join_path(parts[: depth + 1]) for depth in range(len(parts))]
            made = services.file_tree.create_folders(
                active.actor, space_id=space_id, paths=levels, client=client_info
            )
            for outcome in made:
                if isinstance(outcome, SfsError):
                    raise outcome
        target, replaced = _target(
            services,
            active.actor,
            space_id,
            target_path,
            modified_at=_modified_at(request.headers.get("x-modified-at")),
            client_info=client_info,
        )
        size = int(declared) if declared and declared.isdigit() else None
        return services.file_content.start_upload(active.actor, target, declared_size=size), (
            replaced
        )

    try:
        with services.upload_slots.hold(active.actor, client_info):
            upload, replaced = await anyio.to_thread.run_sync(start)
            node = await receive_into(request, upload)
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
    """The file's own modification time, in milliseconds since 1970, as browsers report it;
    brought into the plausible window as the sync client does with a local file's mtime."""
    if not header or not header.isdigit() or len(header) > 15:
        return None
    return datetime.fromtimestamp(clamp_timestamp(int(header) / 1000), tz=UTC)


def _json_error(request: Request, active: ActiveSession | None, error: SfsError) -> JSONResponse:
    gettext = translations(page_language(request, {"session": active})).gettext
    return JSONResponse(
        {"code": error.code, "message": gettext(error.message)},
        status_code=status_for(error),
        headers=headers_for(error),
    )


# -- versions ----------------------------------------------------------------------------------
