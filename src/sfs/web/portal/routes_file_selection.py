"""Several entries of a folder at once (download as ZIP, move, delete), and image thumbnails.

Thin like the rest of the Files menu: the services decide who may read or change what; a
selection is the names of entries of one folder, as the page's checkboxes send them.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response, StreamingResponse

from sfs.domain.errors import InvalidInput, TooLarge
from sfs.i18n import N_
from sfs.services.files.selection_zip import MAX_SELECTED
from sfs.web.errors import status_for
from sfs.web.portal.guards import require_fresh_form, to_login
from sfs.web.portal.routes_files import (
    NAME_LIMIT,
    PATH_LIMIT,
    SHOWN,
    child_path,
    clean_folder,
    clean_path,
    folder_page,
    place_of,
    to_folder,
)
from sfs.web.portal.session import client_of, current_session, services_of

router = APIRouter(include_in_schema=False)

ACTIONS = ("zip", "move", "delete")
# A thumbnail URL carries its content's digest (`v=`), so a changed file gets a new URL and the
# browser may keep one for a day without asking again.
THUMBNAIL_CACHE = "private, max-age=86400"


@router.post("/file/selection")
@router.post("/file/selection/{folder:path}")
def act_on_selection(
    request: Request,
    folder: str = "",
    space: str = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    action: Annotated[str, Form(max_length=16)] = "",
    items: Annotated[list[str] | None, Form(max_length=NAME_LIMIT)] = None,
    destination: Annotated[str, Form(max_length=PATH_LIMIT)] = "",
) -> Response:
    active = current_session(request)
    if active is None:
        return to_login()
    require_fresh_form(active, csrf_token)
    services = services_of(request)
    place = place_of(services, active.actor, space)
    folder = clean_path(folder)
    names = list(dict.fromkeys(items or []))
    done = 0
    try:
        if action not in ACTIONS:
            raise InvalidInput(N_("Choose what to do with the selection."), field="action")
        if not names:
            raise InvalidInput(N_("Select at least one file or folder."), field="items")
        if len(names) > MAX_SELECTED:
            raise InvalidInput(f"Select at most {MAX_SELECTED} entries.", field="items")
        if action == "zip":
            archive, body = services.selection_zip.zip_selection(
                active.actor, space_id=place.id, folder=folder, names=names
            )
            headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(archive)}"}
            return StreamingResponse(body, headers=headers, media_type="application/zip")
        if action == "move":
            target = clean_folder(destination)
            if not destination.strip():
                raise InvalidInput(
                    N_("Type the folder to move the selection to."), field="destination"
                )
            for name in names:
                services.file_tree.move(
                    active.actor,
                    space_id=place.id,
                    source=child_path(folder, name),
                    target=child_path(target, name),
                    client=client_of(request),
                )
                done += 1
            return to_folder(target, "moved-several", place.ref, n=done)
        for name in names:
            services.file_tree.delete(
                active.actor,
                space_id=place.id,
                path=child_path(folder, name),
                client=client_of(request),
            )
            done += 1
        return to_folder(folder, "deleted-several", place.ref, n=done)
    except (*SHOWN, TooLarge) as exc:
        notice = {"done": f"{action}-partly", "count": done} if done else None
        return folder_page(
            request,
            active,
            place,
            folder,
            notice=notice,
            error=exc.message,
            status_code=status_for(exc),
        )


@router.get("/file/thumbnail/{path:path}")
def thumbnail(request: Request, path: str, space: str = "", size: int = 64) -> Response:
    """A small picture of an image file; 404 for anything that makes none (or is not the
    reader's to see)."""
    active = current_session(request)
    if active is None:
        return to_login()
    services = services_of(request)
    place = place_of(services, active.actor, space)
    image = services.thumbnails.thumbnail(
        active.actor, space_id=place.id, path=clean_path(path), edge=size
    )
    headers = {"Cache-Control": THUMBNAIL_CACHE, "ETag": f'"{image.etag}"'}
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    return Response(image.data, media_type=image.media_type, headers=headers)
