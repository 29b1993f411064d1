"""What the Files page shows of a space: one folder a page at a time in the order asked for,
names found by search, and the storage the user holds against their quota.

Read-only, and scoped like every file service: the space must be one the actor may reach.
A folder of thousands of entries is read one page at a time, with each entry's version in the
same query (no query per row).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sfs.domain.actor import Actor
from sfs.domain.errors import InvalidInput, PermissionDenied
from sfs.domain.space_scope import SpaceScope
from sfs.metadata.db import Database
from sfs.metadata.file_models import Node, Version
from sfs.protocol.paths import join_path, name_key
from sfs.services.files.nodes import FOLDER, NodeView, parse_path, resolve
from sfs.services.files.rooms import organisation_room, user_bytes, user_room
from sfs.services.files.spaces import visible_space

SORTS = ("name", "size", "modified")
PAGE_SIZE = 200
MAX_PAGE_SIZE = 1000
SEARCH_LIMIT = 50
MAX_QUERY = 255
# A search looks at no more matching names than this before it stops (and says so).
SEARCH_SCAN = 5000


@dataclass(frozen=True)
class FolderPage:
    folder: NodeView
    entries: list[NodeView]
    total: int  # entries in the whole folder
    offset: int
    limit: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.entries) < self.total


@dataclass(frozen=True)
class SearchPage:
    query: str
    entries: list[NodeView]  # with their full paths
    offset: int
    limit: int
    has_more: bool


@dataclass(frozen=True)
class StorageUse:
    used: int  # bytes of the user's own files, each stored chunk counted once
    quota: int | None  # the smaller room that applies (user or organisation); None: unlimited

    @property
    def percent(self) -> int | None:
        if not self.quota:
            return None
        return min(100, round(100 * self.used / self.quota))


class FileBrowsingService:
    def __init__(self, database: Database) -> None:
        self._database = database

    def folder_page(
        self,
        actor: Actor,
        *,
        space_id: uuid.UUID,
        path: str,
        sort: str = "name",
        descending: bool = False,
        offset: int = 0,
        limit: int = PAGE_SIZE,
    ) -> FolderPage:
        """Folders first, then files, each group in the order asked for (name as tiebreak)."""
        if sort not in SORTS:
            raise InvalidInput(f"Sort by one of {', '.join(SORTS)}.", field="sort")
        offset, limit = max(offset, 0), min(max(limit, 1), MAX_PAGE_SIZE)
        with self._database.transaction() as session:
            space = visible_space(session, actor, space_id)
            parts = parse_path(path)
            folder = resolve(session, space, parts)
            if folder.kind != FOLDER:
                raise InvalidInput(f"{join_path(parts)} is a file, not a folder.", field="path")
            live = (Node.parent_id == folder.id, Node.deleted_at.is_(None))
            total = session.scalar(select(func.count()).select_from(Node).where(*live)) or 0
            column: Any = {"name": Node.name_key, "size": Node.size, "modified": Node.modified_at}[
                sort
            ]
            order = [column.desc() if descending else column.asc(), Node.name_key.asc()]
            rows = session.execute(
                select(Node, Version.number, Version.content_digest)
                .outerjoin(Version, Version.id == Node.current_version_id)
                .where(*live)
                .order_by(Node.kind.desc(), *order)
                .offset(offset)
                .limit(limit)
            ).all()
            entries = [_view(node, join_path([*parts, node.name]), n, d) for node, n, d in rows]
            return FolderPage(
                folder=_view(folder, join_path(parts), None, None),
                entries=entries,
                total=total,
                offset=offset,
                limit=limit,
            )

    def search(
        self,
        actor: Actor,
        *,
        space_id: uuid.UUID,
        query: str,
        offset: int = 0,
        limit: int = SEARCH_LIMIT,
    ) -> SearchPage:
        """Live files and folders of the space whose name holds `query` (case-insensitive),
        by name; a name inside a trashed folder is not found."""
        query = query.strip()
        if not query:
            raise InvalidInput("Type part of a name to search for.", field="q")
        if len(query) > MAX_QUERY:
            raise InvalidInput(f"Search for at most {MAX_QUERY} characters.", field="q")
        offset, limit = max(offset, 0), min(max(limit, 1), MAX_PAGE_SIZE)
        with self._database.transaction() as session:
            space = visible_space(session, actor, space_id)
            rows = session.execute(
                select(Node, Version.number, Version.content_digest)
                .outerjoin(Version, Version.id == Node.current_version_id)
                .where(
                    Node.space_id == space.id,
                    Node.parent_id.is_not(None),
                    Node.deleted_at.is_(None),
                    Node.name_key.contains(name_key(query), autoescape=True),
                )
                .order_by(Node.name_key, Node.id)
                .limit(SEARCH_SCAN)
            ).all()
            paths = _live_paths(session, space, [row[0] for row in rows])
            found = [
                _view(node, paths[node.id], number, digest)
                for node, number, digest in rows
                if node.id in paths
            ]
        return SearchPage(
            query=query,
            entries=found[offset : offset + limit],
            offset=offset,
            limit=limit,
            has_more=len(found) > offset + limit,
        )

    def storage(self, actor: Actor) -> StorageUse:
        """What the user's own files hold, and the tighter of the user's and the
        organisation's quota (as room: the organisation's counts what is left of it)."""
        if actor.organization_id is None:
            raise PermissionDenied("Provider administrators have no files.")
        organization_id = actor.organization_id
        with self._database.transaction() as session:
            used = user_bytes(session, actor.user_id, organization_id)
            limits: list[int] = []
            mine = user_room(session, actor.user_id, organization_id)
            if mine is not None:
                limits.append(mine.quota)
            ours = organisation_room(session, organization_id)
            if ours is not None:
                # What the user could hold at most: their files plus what the organisation has left.
                limits.append(used + max(ours.quota - ours.used, 0))
        return StorageUse(used=used, quota=min(limits) if limits else None)


def _view(node: Node, path: str, number: int | None, digest: str | None) -> NodeView:
    return NodeView(
        id=node.id,
        name=node.name,
        path=path,
        kind=node.kind,
        size=node.size,
        modified_at=node.modified_at,
        version=number,
        content_digest=digest,
        tree_seq=node.tree_seq or 0,
    )


def _live_paths(session: Session, space: SpaceScope, nodes: Sequence[Node]) -> dict[uuid.UUID, str]:
    """Paths of the nodes that are live all the way up, their ancestors read a level at a time
    (one query per depth, not per node)."""
    known: dict[uuid.UUID, tuple[uuid.UUID | None, str, bool]] = {
        node.id: (node.parent_id, node.name, node.deleted_at is None) for node in nodes
    }
    wanted = {node.parent_id for node in nodes if node.parent_id is not None}
    while wanted - known.keys():
        missing = list(wanted - known.keys())
        wanted = set()
        for start in range(0, len(missing), 500):
            for row in session.execute(
                select(Node.id, Node.parent_id, Node.name, Node.deleted_at).where(
                    Node.space_id == space.id, Node.id.in_(missing[start : start + 500])
                )
            ):
                known[row.id] = (row.parent_id, row.name, row.deleted_at is None)
                if row.parent_id is not None:
                    wanted.add(row.parent_id)
    paths: dict[uuid.UUID, str] = {}
    for node in nodes:
        parts: list[str] = []
        current: uuid.UUID | None = node.id
        live = True
        while current is not None and current != space.root_node_id:
            entry = known.get(current)
            if entry is None or not entry[2]:
                live = False
                break
            parts.append(entry[1])
            current = entry[0]
        if live and current == space.root_node_id:
            paths[node.id] = join_path(list(reversed(parts)))
    return paths
