"""What every WebDAV method handler works with: the caller, their files, the path, the answer
helpers, and the protocol errors that are not domain errors (a bad Depth, a missing header)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar
from urllib.parse import urlsplit

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response

from sfs.app import Services
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.errors import NotFound
from sfs.services.files.listing import Listing
from sfs.services.files.locks import LockTarget
from sfs.services.files.nodes import NodeView
from sfs.services.sharing.files_root import FilesRoot
from sfs.web.dav import xml
from sfs.web.dav.conditions import IfHeader, ResourceState
from sfs.web.dav.mounts import rerooted
from sfs.web.dav.paths import DavPath, parse_dav_path
from sfs.web.loop_reads import LoopReads

T = TypeVar("T")


class DavError(Exception):
    """A request the protocol refuses: `status`, a message, and maybe an RFC 4918 precondition
    (the element named in the error body, e.g. 'propfind-finite-depth')."""

    def __init__(self, status: int, message: str, *, condition: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.condition = condition


@dataclass(frozen=True)
class DavContext:
    request: Request
    services: Services
    actor: Actor
    client: ClientInfo
    space_id: uuid.UUID
    where: DavPath
    conditions: IfHeader
    files_root: FilesRoot | None = None  # at the caller's files door: its team folders
    loop_reads: LoopReads | None = None  # None: every call in a worker thread

    def relocated(self, other: DavPath) -> DavPath:
        """Another path of the request (a Destination, an If tag) re-rooted like `where`."""
        if self.files_root is None:
            return other
        return rerooted(self.files_root, other, self.actor)[0]

    async def call(self, function: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Run a (blocking) service call in a worker thread."""
        return await anyio.to_thread.run_sync(partial(function, *args, **kwargs))

    async def read(self, function: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Run a (blocking) call that only reads: on the event loop when `reads_on_loop`, else
        in a worker thread."""
        if self.reads_on_loop():
            return function(*args, **kwargs)
        return await self.call(function, *args, **kwargs)

    def reads_on_loop(self) -> bool:
        """Whether a read may run on the event loop now (web/loop_reads.py). Never with an If
        header: checking one asks for locks, and that deletes the expired ones."""
        return self.loop_reads is not None and not self.conditions.lists and self.loop_reads.fit()

    def href(self, node: NodeView) -> str:
        return self.where.href(node.path, folder=node.kind == "folder")

    def stat(self, path: str) -> NodeView | None:
        """The node at `path`, or None (blocking)."""
        try:
            return self.services.listing.listing(
                self.actor, space_id=self.space_id, path=path, with_children=False
            ).node
        except NotFound:
            return None

    def listing(self, path: str, *, with_children: bool) -> Listing:
        return self.services.listing.listing(
            self.actor, space_id=self.space_id, path=path, with_children=with_children
        )

    def require_conditions(self) -> None:
        """412 unless the If header holds (blocking: looks up ETags and locks)."""
        if not self.conditions.lists:
            return
        if not self.conditions.holds(self._state_of):
            raise DavError(412, "The If header's conditions do not hold.")

    def require_unlocked(self, *targets: LockTarget) -> None:
        """423 unless the caller submitted the token of every lock on what the write touches."""
        self.services.locks.require_unlocked(
            self.actor,
            space_id=self.space_id,
            targets=targets,
            tokens=self.conditions.lock_tokens,
        )

    def _state_of(self, resource: str | None) -> ResourceState:
        path = self.where.path
        if resource is not None:
            try:
                tagged = self.relocated(parse_dav_path(_path_of(resource)))
            except Exception:  # a tag naming another server or nothing we serve matches nothing
                return ResourceState(etag=None, lock_tokens=frozenset())
            if not tagged.in_same_space(self.where, self.actor):
                return ResourceState(etag=None, lock_tokens=frozenset())
            path = tagged.path
        node = self.stat(path)
        locks = self.services.locks.locks_on(self.actor, space_id=self.space_id, path=path)
        return ResourceState(
            etag=f'"{node.etag}"' if node is not None else None,
            lock_tokens=frozenset(lock.token for lock in locks),
        )


def _path_of(resource: str) -> str:
    return urlsplit(resource).path if "://" in resource else resource


def xml_response(body: bytes, status: int = 207, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, media_type=xml.XML_CONTENT_TYPE, headers=headers)


def depth_of(request: Request, *, default: str, allowed: tuple[str, ...]) -> str:
    """The Depth header ('0', '1', 'infinity'); 400 for anything else or a depth not allowed."""
    value = request.headers.get("depth", default).strip().lower()
    if value not in ("0", "1", "infinity") or value not in allowed:
        raise DavError(400, f"Depth {value!r} is not allowed here (use {', '.join(allowed)}).")
    return value
