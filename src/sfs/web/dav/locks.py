"""LOCK (new, or a refresh naming its token in the If header) and UNLOCK.

A lock on a name that does not exist yet makes an empty file there (RFC 4918, 7.3), so the
locking client's PUT that follows replaces a file it holds the lock of.
"""

from __future__ import annotations

import re

from starlette.responses import Response

from sfs.domain.errors import Conflict, InvalidInput
from sfs.services.files.locks import LockView
from sfs.services.files.nodes import FOLDER
from sfs.web.dav import xml
from sfs.web.dav.context import DavContext, DavError, depth_of, xml_response
from sfs.web.dav.properties import active_lock

_SECONDS = re.compile(r"^second-(\d{1,10})$", re.IGNORECASE)


async def lock(context: DavContext) -> Response:
    request = context.request
    root = xml.parse(await request.body())
    timeout = _timeout(request.headers.get("timeout"))
    if root is None:
        tokens = context.conditions.lock_tokens
        if not tokens:
            raise DavError(400, "To refresh a lock, name its token in the If header.")
        refreshed = await context.call(_refresh, context, tokens, timeout)
        return _answer(context, refreshed, status=200)
    if not xml.is_dav(root, "lockinfo"):
        raise InvalidInput("A LOCK body must be a DAV:lockinfo element.", field="body")
    exclusive: bool | None = None
    owner: str | None = None
    for child in root:
        if xml.is_dav(child, "lockscope"):
            scopes = {xml.name_of(element) for element in child}
            exclusive = (xml.DAV, "exclusive") in scopes
            if not exclusive and (xml.DAV, "shared") not in scopes:
                raise InvalidInput("The lock scope must be exclusive or shared.", field="body")
        elif xml.is_dav(child, "locktype"):
            if {xml.name_of(element) for element in child} != {(xml.DAV, "write")}:
                raise DavError(422, "Only write locks exist.")
        elif xml.is_dav(child, "owner"):
            owner = xml.inner_xml(child) or None
    if exclusive is None:
        raise InvalidInput("Say whether the lock is exclusive or shared.", field="body")
    deep = depth_of(request, default="infinity", allowed=("0", "infinity")) == "infinity"
    taken, created = await context.call(_lock, context, exclusive, deep, owner, timeout)
    return _answer(context, taken, status=201 if created else 200, token_header=True)


def _lock(
    context: DavContext, exclusive: bool, deep: bool, owner: str | None, timeout: int | None
) -> tuple[LockView, bool]:
    context.require_conditions()
    services, actor, where = context.services, context.actor, context.where
    node = context.stat(where.path)
    if node is None:
        parent = context.stat(where.parent)
        if parent is None or parent.kind != FOLDER:
            raise Conflict(f"{where.parent} is not a folder that exists.")
    taken = services.locks.lock(
        actor,
        space_id=context.space_id,
        path=where.path,
        exclusive=exclusive,
        deep=deep and (node is None or node.kind == FOLDER),
        owner_xml=owner,
        timeout_seconds=timeout,
    )
    if node is not None:
        return taken, False
    try:
        services.file_content.upload(
            actor,
            space_id=context.space_id,
            path=where.path,
            source=[],
            modified_at=services.clock.now(),
            base_version=None,
            client=context.client,
            device_name="WebDAV",
        )
    except BaseException:
        services.locks.unlock(actor, space_id=context.space_id, path=where.path, token=taken.token)
        raise
    return taken, True


def _refresh(context: DavContext, tokens: set[str], timeout: int | None) -> LockView:
    context.listing(context.where.path, with_children=False)  # NotFound: 404
    return context.services.locks.refresh(
        context.actor,
        space_id=context.space_id,
        path=context.where.path,
        tokens=tokens,
        timeout_seconds=timeout,
    )


async def unlock(context: DavContext) -> Response:
    header = context.request.headers.get("lock-token", "").strip()
    if not (header.startswith("<") and header.endswith(">")) or len(header) < 3:
        raise DavError(400, "Name the lock to release: Lock-Token: <token>.")
    await context.call(
        context.services.locks.unlock,
        context.actor,
        space_id=context.space_id,
        path=context.where.path,
        token=header[1:-1].strip(),
    )
    return Response(status_code=204)


def _answer(
    context: DavContext, taken: LockView, *, status: int, token_header: bool = False
) -> Response:
    body = (
        xml.DECLARATION
        + '<d:prop xmlns:d="DAV:"><d:lockdiscovery>'
        + active_lock(taken, context.where.href(taken.path, folder=False))
        + "</d:lockdiscovery></d:prop>"
    ).encode()
    headers = {"Lock-Token": f"<{taken.token}>"} if token_header else None
    return xml_response(body, status=status, headers=headers)


def _timeout(header: str | None) -> int | None:
    """The first usable value of `Timeout: Second-3600, Infinite`; None for the default."""
    if not header:
        return None
    for value in header.split(","):
        value = value.strip()
        if value.lower() == "infinite":
            return 2**31
        match = _SECONDS.match(value)
        if match:
            return int(match.group(1))
    return None
