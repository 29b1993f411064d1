"""`GET /api/v1/spaces/{space}/children` answered before the FastAPI router, for the request a
sync client or a file browser sends many times a second: a device token checked moments ago,
`me` or a space id, at most a `path` parameter, no body.

Solving the route's dependencies, validating its parameters and hopping to the worker-thread
pool cost more than the listing itself. This door calls what the route calls (the remembered
credential check, `children_json`, the domain errors' answer), so its answers are the route's,
byte for byte (tests/integration/test_listing_shortcut.py holds them side by side). Anything
else, an unknown or failing credential, a malformed parameter, one more query parameter, goes
on to the route, which answers as documented (401, 422, ...). The middleware around both
(request id, metrics by route template, security headers) sees the same request either way.
"""

from __future__ import annotations

import re
from functools import partial
from urllib.parse import parse_qsl

import anyio.to_thread
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from sfs.app import Services
from sfs.domain.actor import Actor
from sfs.domain.errors import SfsError
from sfs.web.api import routes_files
from sfs.web.api.app import PREFIX
from sfs.web.api.deps import remembered_caller
from sfs.web.api.params import SPACE_REF_PATTERN
from sfs.web.api.routes_files import children_json
from sfs.web.errors import domain_error_answer
from sfs.web.loop_reads import LoopReads

_TEMPLATE = "/spaces/{space}/children"
_PATH = re.compile(re.escape(PREFIX) + r"/spaces/([^/]+)/children")
_MAX_PATH_CHARACTERS = 4096  # the route's PathQuery
_SPACE = re.compile(SPACE_REF_PATTERN)  # the route's own pattern for {space}


class FolderListingShortcut:
    def __init__(self, app: ASGIApp, *, services: Services) -> None:
        self.app = app
        self._services = services
        self._loop_reads = LoopReads(services.database)
        # Set on the scope as the router would, so the metrics count it under its template.
        (self._route,) = (
            r for r in routes_files.router.routes if isinstance(r, APIRoute) and r.path == _TEMPLATE
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        found = _PATH.fullmatch(scope["path"])
        space = found.group(1) if found else None
        path = _path_parameter(scope["query_string"]) if found else None
        if space is None or path is None or not _SPACE.fullmatch(space) or _has_body(scope):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        caller = remembered_caller(request, self._services)
        if caller is None:
            await self.app(scope, receive, send)
            return
        response: Response
        try:
            if self._on_event_loop(caller[0], space):
                body = children_json(self._services, caller[0], space, path)
            else:
                body = await anyio.to_thread.run_sync(
                    partial(children_json, self._services, caller[0], space, path)
                )
            response = Response(body, media_type="application/json")
        except SfsError as exc:
            response = domain_error_answer(exc)
        scope["route"], scope["root_path"] = self._route, PREFIX
        await response(scope, receive, send)

    def _on_event_loop(self, actor: Actor, space: str) -> bool:
        """Whether the listing may run on the event loop, which is cheaper than a worker thread
        by about as much as its queries cost (measured: 0.8 against 1.3 ms of CPU a listing):
        when reads fit there (web/loop_reads.py) and this one only reads (not a first "me",
        which creates My Files)."""
        return self._loop_reads.fit() and self._services.spaces.resolves_without_writing(
            actor, space
        )


def _path_parameter(query_string: bytes) -> str | None:
    """`path` as the route reads it ('/' when absent); None for a query the route should see
    (another parameter, `path` twice, a path over its limit)."""
    # As Starlette parses it for FastAPI: latin-1, then percent-decoding as UTF-8.
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    if not pairs:
        return "/"
    if len(pairs) > 1 or pairs[0][0] != "path" or len(pairs[0][1]) > _MAX_PATH_CHARACTERS:
        return None
    return pairs[0][1]


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            return True
    return False
