"""COPY and MOVE, within one space of the caller's (Destination as a full URL or an absolute
path); between My Files and a team folder shown at its top, or two of those, 502.

`Overwrite: F` onto something that exists is refused (412); otherwise what is there goes to the
trash first, in the same transaction as the copy or move. A MOVE leaves the locks on its source
behind (they end), as RFC 4918 says.
"""

from __future__ import annotations

from starlette.responses import Response

from sfs.domain.errors import Conflict, NotFound, PreconditionFailed
from sfs.protocol.paths import name_key
from sfs.services.files.locks import LockTarget
from sfs.services.files.nodes import FOLDER
from sfs.web.dav.context import DavContext, DavError, depth_of
from sfs.web.dav.paths import DavPath, parse_destination


async def copy(context: DavContext) -> Response:
    return await _transfer(context, moving=False)


async def move(context: DavContext) -> Response:
    return await _transfer(context, moving=True)


async def _transfer(context: DavContext, *, moving: bool) -> Response:
    request = context.request
    header = request.headers.get("destination")
    if header is None:
        raise DavError(400, "Say where to: a Destination header.")
    try:
        destination = context.relocated(parse_destination(header))
    except NotFound:
        raise DavError(502, "The Destination is not on this WebDAV server.") from None
    if not destination.in_same_space(context.where, context.actor):
        raise DavError(502, "The Destination is outside these files (another space or account).")
    overwrite = request.headers.get("overwrite", "T").strip().upper()
    if overwrite not in ("T", "F"):
        raise DavError(400, "Overwrite must be T or F.")
    allowed = ("infinity",) if moving else ("0", "infinity")
    depth = depth_of(request, default="infinity", allowed=allowed)
    created = await context.call(
        _transfer_now, context, destination, overwrite == "T", depth == "infinity", moving
    )
    return Response(status_code=201 if created else 204)


def _transfer_now(
    context: DavContext, destination: DavPath, overwrite: bool, deep: bool, moving: bool
) -> bool:
    context.require_conditions()
    source = context.listing(context.where.path, with_children=False).node  # NotFound: 404
    if not context.where.parts or not destination.parts:
        raise DavError(403, "The top folder cannot be copied or moved, nor replaced.")
    renaming_case = _same_key(context.where, destination)  # "a.txt" to "A.txt": a rename
    if context.where.parts == destination.parts or (renaming_case and not moving):
        raise DavError(403, "The source and the destination are the same.")
    parent = context.stat(destination.parent)
    if parent is None or parent.kind != FOLDER:
        raise Conflict(f"{destination.parent} is not a folder that exists.")
    existing = None if renaming_case else context.stat(destination.path)
    if existing is not None and not overwrite:
        raise PreconditionFailed(f"{destination.path} exists and Overwrite is F.")
    targets = [LockTarget(destination.path, deep=True), LockTarget(destination.parent)]
    if moving:
        targets += [LockTarget(source.path, deep=True), LockTarget(context.where.parent)]
    context.require_unlocked(*targets)
    services, actor = context.services, context.actor
    if moving:
        services.file_tree.move(
            actor,
            space_id=context.space_id,
            source=source.path,
            target=destination.path,
            client=context.client,
            replace=existing is not None,
        )
        services.locks.release(actor, space_id=context.space_id, path=source.path)
    else:
        services.file_tree.copy(
            actor,
            space_id=context.space_id,
            source=source.path,
            target=destination.path,
            client=context.client,
            replace=existing is not None,
            with_contents=deep or source.kind != FOLDER,
        )
    return existing is None


def _same_key(a: DavPath, b: DavPath) -> bool:
    return [name_key(part) for part in a.parts] == [name_key(part) for part in b.parts]
