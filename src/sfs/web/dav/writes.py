"""PUT (streamed in, any size, chunked transfer encoding too), MKCOL and DELETE (to the trash).

Every write goes through the file services: a new version in the same journal the sync clients
follow, with the same name rules and quotas. A write first checks the If header, then that the
caller holds every lock on what it touches.
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.responses import Response

from sfs.domain.errors import Conflict, PreconditionFailed
from sfs.services.files.checksums import Checksum
from sfs.services.files.content_upload import UploadTarget
from sfs.services.files.locks import LockTarget
from sfs.services.files.nodes import FOLDER, NodeView
from sfs.services.files.write_checks import WriteState
from sfs.web.dav.conditions import etag_matches
from sfs.web.dav.context import DavContext, DavError
from sfs.web.streamed_uploads import receive_into

DEVICE = "WebDAV"


async def put(context: DavContext) -> Response:
    request = context.request
    if not context.where.parts:
        raise DavError(405, "The top folder is a folder: put files inside it.")
    if request.headers.get("content-range"):
        raise DavError(400, "A PUT of part of a file (Content-Range) is not supported.")
    mtime = client_mtime(request.headers.get("x-oc-mtime"))
    claimed = request.headers.get("oc-checksum")
    checksum = Checksum.parse(claimed) if claimed else None  # checked once the body is in
    state = await context.read(checked_before_put, context)
    existing = state.existing
    declared = request.headers.get("content-length")
    declared_size = int(declared) if declared and declared.isdigit() else None
    target = UploadTarget(
        space_id=context.space_id,
        path=context.where.path,
        modified_at=mtime or context.services.clock.now(),
        base_version=existing.version if existing is not None else None,
        client=context.client,
        device_name=DEVICE,
        checksum=checksum,
        size=declared_size,
    )
    services = context.services
    # Room counted before the body only under a quota (the commit counts again): a sum over
    # the account's files, for a worker thread; without one, starting takes no query.
    start = context.call if state.quota_applies else context.read
    with services.upload_slots.hold(context.actor, context.client):
        upload = await start(
            services.file_content.start_upload,
            context.actor,
            target,
            declared_size=declared_size if state.quota_applies else None,
        )
        node = await receive_into(request, upload)
    etag = f'"{node.etag}"'
    headers = {"ETag": etag, "OC-ETag": etag, "OC-FileId": node.id.hex}
    if mtime is not None:
        headers["X-OC-MTime"] = "accepted"
    return Response(status_code=201 if existing is None else 204, headers=headers)


def before_put(context: DavContext) -> NodeView | None:
    """What a write of a whole file to `context.where` must pass first (the If header,
    If-Match, If-None-Match, a parent folder, locks); the file there now, if any. A chunked
    upload's final MOVE passes the same (uploads.py)."""
    return checked_before_put(context).existing


def checked_before_put(context: DavContext) -> WriteState:
    """`before_put`, answering all the write checks saw (blocking)."""
    where = context.where
    if not where.parts:
        raise DavError(405, "The top folder is a folder: put files inside it.")
    # One transaction for the space (a Viewer is refused before the body is read, not at the
    # commit), the file, its folder and the locks.
    state = context.services.write_checks.before_whole_file(
        context.actor,
        space_id=context.space_id,
        path=where.path,
        tokens=context.conditions.lock_tokens,
    )
    context.require_conditions()
    existing = state.existing
    if existing is not None and existing.kind == FOLDER:
        raise DavError(405, f"{where.path} is a folder.")
    etag = f'"{existing.etag}"' if existing is not None else None
    if_match = context.request.headers.get("if-match")
    if if_match is not None and not etag_matches(if_match, etag):
        raise PreconditionFailed(f"{where.path} changed: its ETag is not {if_match}.")
    if etag_matches(context.request.headers.get("if-none-match"), etag):
        raise PreconditionFailed(f"{where.path} exists already.")
    if existing is None and (state.parent is None or state.parent.kind != FOLDER):
        raise Conflict(f"{where.parent} is not a folder that exists.")
    if state.locked is not None:
        raise state.locked
    return state


async def mkcol(context: DavContext) -> Response:
    if await context.request.body():
        raise DavError(415, "MKCOL takes no body.")
    if not context.where.parts:
        raise DavError(405, "The top folder exists.")
    if context.reads_on_loop():  # the 405 rclone meets before every file it puts, no thread
        _refuse_existing(context)
    await context.call(_mkcol, context)
    return Response(status_code=201)


def _refuse_existing(context: DavContext) -> None:
    """412 unless the If header holds, then 405 when something is there already."""
    context.require_conditions()
    if _kind_at(context) is not None:
        raise DavError(405, f"{context.where.path} exists already.")


def _mkcol(context: DavContext) -> None:
    _refuse_existing(context)  # again: the folder may have come since
    where = context.where
    _require_parent_folder(context)
    context.require_unlocked(LockTarget(where.path), LockTarget(where.parent))
    try:
        context.services.file_tree.create_folder(
            context.actor, space_id=context.space_id, path=where.path, client=context.client
        )
    except Conflict:
        # Another request made it in between (rclone sends a MKCOL of the folder from each of
        # its transfers at once): it exists, answered as above, not as a missing parent.
        if _kind_at(context) is None:
            raise
        raise DavError(405, f"{where.path} exists already.") from None


def _kind_at(context: DavContext) -> str | None:
    return context.services.dav_listings.kind_at(
        context.actor, space_id=context.space_id, path=context.where.path
    )


async def delete(context: DavContext) -> Response:
    if not context.where.parts:
        raise DavError(403, "The top folder cannot be deleted.")
    await context.call(_delete, context)
    return Response(status_code=204)


def _delete(context: DavContext) -> None:
    context.require_conditions()
    where = context.where
    node = context.listing(where.path, with_children=False).node  # NotFound: 404
    context.require_unlocked(LockTarget(node.path, deep=True), LockTarget(where.parent))
    context.services.file_tree.delete(
        context.actor, space_id=context.space_id, path=node.path, client=context.client
    )
    context.services.locks.release(context.actor, space_id=context.space_id, path=node.path)


def _require_parent_folder(context: DavContext) -> None:
    parent = context.stat(context.where.parent)
    if parent is None or parent.kind != FOLDER:
        raise Conflict(f"{context.where.parent} is not a folder that exists.")


def client_mtime(header: str | None) -> datetime | None:
    """X-OC-Mtime: the file's modification time in Unix seconds (Nextcloud clients, rclone)."""
    if header is None:
        return None
    try:
        moment = datetime.fromtimestamp(float(header.strip()), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise DavError(400, "X-OC-Mtime must be Unix seconds.") from None
    return moment
