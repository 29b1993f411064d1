"""The WebDAV door (RFC 4918 class 1 and 2), an ASGI app in front of the portal and the API.

Requests under `/remote.php/dav/files/{user}/` and `/dav/` are answered here; everything else
passes on. Bodies are read on the event loop and service calls run in a worker thread, so a
slow client holds a coroutine, never a thread; a caller remembered moments ago is known without
one, and a handler's short reads run on the loop when that is cheaper and cannot wait
(web/loop_reads.py): what a client such as rclone asks around every small file it puts.
Domain errors are answered with the status `sfs.web.errors` gives them (but 400 for bad input,
as WebDAV clients expect), in the XML error form Nextcloud clients show.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from sfs.app import Services
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.errors import (
    AuthenticationFailed,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    SfsError,
)
from sfs.services.sharing.files_root import FilesRoot
from sfs.web.dav import copymove, locks, propfind, reads, uploads, writes, xml
from sfs.web.dav.auth import CHALLENGE, authenticate, remembered
from sfs.web.dav.conditions import parse_if_header
from sfs.web.dav.context import DavContext, DavError
from sfs.web.dav.mounts import rerooted
from sfs.web.dav.paths import DavPath, is_dav_request, parse_dav_path
from sfs.web.errors import headers_for, status_for
from sfs.web.loop_reads import LoopReads

log = logging.getLogger(__name__)

Handler = Callable[[DavContext], Awaitable[Response]]
HANDLERS: dict[str, Handler] = {
    "GET": reads.get,
    "HEAD": reads.head,
    "PROPFIND": propfind.propfind,
    "PROPPATCH": propfind.proppatch,
    "PUT": writes.put,
    "MKCOL": writes.mkcol,
    "DELETE": writes.delete,
    "COPY": copymove.copy,
    "MOVE": copymove.move,
    "LOCK": locks.lock,
    "UNLOCK": locks.unlock,
}
ALLOWED = ", ".join(["OPTIONS", *HANDLERS])


class DavDoor:
    def __init__(self, app: ASGIApp, *, services: Services) -> None:
        self.app = app
        self.services = services
        self._loop_reads = LoopReads(services.database)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_dav_request(scope["path"]):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await self._answer(request)
        except DavError as refused:
            response = _error(refused.status, refused.message, condition=refused.condition)
        except SfsError as error:
            response = _domain_error(error)
        await response(scope, receive, send)

    async def _answer(self, request: Request) -> Response:
        method = request.method.upper()
        if method == "OPTIONS":
            return reads.options(ALLOWED)
        handler = HANDLERS.get(method)
        if handler is None:
            return _error(405, f"{method} is not supported here.", headers={"Allow": ALLOWED})
        raw_path = _raw_path(request)
        if uploads.is_upload_path(raw_path):  # chunked upload v2: parts, then one file
            return await uploads.answer(self.services, request, raw_path)
        where = parse_dav_path(raw_path)
        client = ClientInfo(
            address=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent"),
        )
        authorization = request.headers.get("authorization")
        caller = self._remembered_caller(authorization, client, where)
        if caller is None:
            caller = await anyio.to_thread.run_sync(self._caller, authorization, client, where)
        actor, space_id, where, root = caller
        context = DavContext(
            request=request,
            services=self.services,
            actor=actor,
            client=client,
            space_id=space_id,
            where=where,
            conditions=parse_if_header(request.headers.get("if")),
            files_root=root,
            loop_reads=self._loop_reads,
        )
        return await handler(context)

    def _remembered_caller(
        self, authorization: str | None, client: ClientInfo, where: DavPath
    ) -> tuple[Actor, uuid.UUID, DavPath, FilesRoot | None] | None:
        """As `_caller`, from what it found moments ago and without a query; None when it
        must look (a team folder's door, another account's path, anything not remembered)."""
        if where.space is not None:
            return None
        actor = remembered(self.services, authorization, client)
        if actor is None or not where.belongs_to(actor):
            return None
        root = self.services.files_root.remembered(actor)
        if root is None:
            return None
        inside, space_id = rerooted(root, where, actor)
        return actor, space_id, inside, root

    def _caller(
        self, authorization: str | None, client: ClientInfo, where: DavPath
    ) -> tuple[Actor, uuid.UUID, DavPath, FilesRoot | None]:
        actor = authenticate(self.services, authorization, client)
        if where.space is not None:  # a team folder: NotFound unless a member
            space_id = self.services.spaces.resolve_reference(actor, where.space)
            return actor, space_id, where, None
        if not where.belongs_to(actor):
            raise NotFound("No such user.")  # another account's files are not found, never refused
        root = self.services.files_root.root(actor)
        inside, space_id = rerooted(root, where, actor)
        return actor, space_id, inside, root


def _raw_path(request: Request) -> str:
    raw = request.scope.get("raw_path")
    if not isinstance(raw, bytes):
        return str(request.scope["path"])
    try:
        return raw.decode("utf-8").partition("?")[0]
    except UnicodeDecodeError:
        raise InvalidInput("The path is not valid UTF-8.", field="path") from None


def _domain_error(error: SfsError) -> Response:
    status = 400 if isinstance(error, InvalidInput) else status_for(error)
    headers = headers_for(error)
    if isinstance(error, NotAuthenticated | AuthenticationFailed):
        headers["WWW-Authenticate"] = CHALLENGE
    if status >= 500:
        log.error("WebDAV request failed: %s", error.message)
    return _error(status, error.message, headers=headers, exception=type(error).__name__)


def _error(
    status: int,
    message: str,
    *,
    condition: str | None = None,
    headers: dict[str, str] | None = None,
    exception: str = "DavError",
) -> Response:
    return Response(
        xml.error_document(condition, message, exception),
        status_code=status,
        media_type=xml.XML_CONTENT_TYPE,
        headers=headers,
    )
