"""What a WebDAV PROPFIND shows of a node (and its children), read in one transaction: the
nodes, their dead properties and the locks on them. Three transactions of their own cost a
PROPFIND about half its time on this server, and clients such as rclone ask one after every
file they put (and a MKCOL of its folder before: `kind_at`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sfs.domain.actor import Actor
from sfs.domain.errors import NotFound
from sfs.metadata.db import Database
from sfs.ports import Clock
from sfs.services.files.listing import Listing
from sfs.services.files.locks import LockView, locks_covering
from sfs.services.files.nodes import FOLDER, child_views, kind_at, parse_path, resolve_view
from sfs.services.files.properties import StoredProperty, stored_properties
from sfs.services.files.spaces import visible_space


@dataclass(frozen=True)
class DavListing:
    listing: Listing
    properties: dict[uuid.UUID, list[StoredProperty]]  # empty unless asked for
    locks: dict[str, list[LockView]]  # by path; empty unless asked for


class DavListingService:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    def listing(
        self,
        actor: Actor,
        *,
        space_id: uuid.UUID,
        path: str,
        with_children: bool,
        with_properties: bool,
        with_locks: bool,
    ) -> DavListing:
        """The node at `path` (NotFound when missing or out of reach), its children when asked
        and it is a folder, and their dead properties and locks when asked."""
        now = self._clock.now()
        with self._database.transaction() as session:
            space = visible_space(session, actor, space_id)
            parts = parse_path(path)
            view = resolve_view(session, space, parts)
            children = (
                child_views(session, view.id, parts, folders_first=False)
                if view.kind == FOLDER and with_children
                else []
            )
            nodes = [view, *children]
            properties = (
                stored_properties(session, space, [n.id for n in nodes]) if with_properties else {}
            )
            locks = (
                locks_covering(session, space, [n.path for n in nodes], now) if with_locks else {}
            )
            return DavListing(Listing(view, children), properties, locks)

    def kind_at(self, actor: Actor, *, space_id: uuid.UUID, path: str) -> str | None:
        """FILE or FOLDER for what is at `path`, None for nothing there (or a space out of
        reach): what a MKCOL asks first, without what a listing shows of the node."""
        with self._database.transaction() as session:
            try:
                space = visible_space(session, actor, space_id)
                return kind_at(session, space, parse_path(path))
            except NotFound:
                return None
