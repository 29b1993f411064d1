"""Listings for clients that browse the tree a folder at a time (WebDAV PROPFIND, the REST
`children` call): a node and its children with what they show (version, content digest, change
stamp) in two queries, and the bytes below folders in one, however many there are.

The children are read as plain columns, not ORM objects: a listing only shows them, and
building and tracking an object per row was most of a small listing's database time."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from sfs.domain.actor import Actor
from sfs.domain.errors import InvalidInput
from sfs.i18n import N_
from sfs.metadata.db import Database
from sfs.metadata.file_models import Node, Version
from sfs.protocol.paths import join_path
from sfs.services.files.nodes import FILE, FOLDER, NodeView, node_view, parse_path, resolve
from sfs.services.files.spaces import visible_space
from sfs.services.sharing.share_grants import subtree_node_ids


@dataclass(frozen=True)
class Listing:
    node: NodeView
    children: list[NodeView]  # empty for a file, or when not asked for


class FolderListingService:
    def __init__(self, database: Database) -> None:
        self._database = database

    def listing(
        self, actor: Actor, *, space_id: uuid.UUID, path: str, with_children: bool
    ) -> Listing:
        with self._database.transaction() as session:
            space = visible_space(session, actor, space_id)
            parts = parse_path(path)
            node = resolve(session, space, parts)
            view = node_view(session, node, join_path(parts))
            if node.kind != FOLDER or not with_children:
                return Listing(view, [])
            return Listing(view, _children(session, node.id, parts, folders_first=False))

    def children(self, actor: Actor, *, space_id: uuid.UUID, path: str) -> list[NodeView]:
        """The live children of a folder, folders first, then by name; a file: InvalidInput."""
        with self._database.transaction() as session:
            space = visible_space(session, actor, space_id)
            parts = parse_path(path)
            if not parts and not space.is_share:
                # A whole space's root is a folder from its creation on: no query to learn it
                # (a share's root may be a file).
                return _children(session, space.root_node_id, parts, folders_first=True)
            folder = resolve(session, space, parts)
            if folder.kind != FOLDER:
                raise InvalidInput(
                    N_("%(join_path)s is a file, not a folder.", join_path=join_path(parts)),
                    field="path",
                )
            return _children(session, folder.id, parts, folders_first=True)

    def bytes_below(
        self, actor: Actor, *, space_id: uuid.UUID, folder_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, int]:
        """The size of every live file below each folder (its own files included)."""
        if not folder_ids:
            return {}
        with self._database.transaction() as session:
            space = visible_space(session, actor, space_id)
            tops = select(Node.id.label("top"), Node.id.label("id")).where(
                Node.id.in_(list(folder_ids)), Node.space_id == space.id
            )
            if space.is_share:  # folders outside the shared node: not found
                tops = tops.where(Node.id.in_(subtree_node_ids([space.root_node_id])))
            below = tops.cte("below", recursive=True)
            below = below.union_all(
                select(below.c.top, Node.id)
                .join(below, Node.parent_id == below.c.id)
                .where(Node.deleted_at.is_(None))
            )
            rows = session.execute(
                select(below.c.top, func.coalesce(func.sum(Node.size), 0))
                .join(Node, Node.id == below.c.id)
                .where(Node.kind == FILE)
                .group_by(below.c.top)
            ).all()
            totals = {top: int(total) for top, total in rows}
        return {folder: int(totals.get(folder, 0)) for folder in folder_ids}


# Built once, in table columns (not ORM attributes), with the parent a bound parameter: a
# listing neither builds its statement anew nor goes through the ORM's loading of results
# (most of a small listing's time was that, not SQLite's).
_NODES, _VERSIONS = Node.__table__, Version.__table__
_LIVE_CHILDREN = (
    select(
        _NODES.c.id,
        _NODES.c.name,
        _NODES.c.kind,
        _NODES.c.size,
        _NODES.c.modified_at,
        _NODES.c.tree_seq,
        _VERSIONS.c.number,
        _VERSIONS.c.content_digest,
        _VERSIONS.c.sha1,
    )
    .outerjoin(_VERSIONS, _VERSIONS.c.id == _NODES.c.current_version_id)
    .where(_NODES.c.parent_id == bindparam("parent_id"), _NODES.c.deleted_at.is_(None))
)
_FOLDERS_FIRST = _LIVE_CHILDREN.order_by(_NODES.c.kind.desc(), _NODES.c.name_key)
_BY_NAME = _LIVE_CHILDREN.order_by(_NODES.c.name_key)


def _children(
    session: Session, parent_id: uuid.UUID, parent_parts: list[str], *, folders_first: bool
) -> list[NodeView]:
    query = _FOLDERS_FIRST if folders_first else _BY_NAME
    rows = session.execute(query, {"parent_id": parent_id}).all()
    prefix = join_path(parent_parts).rstrip("/") + "/"
    return [
        NodeView(
            id=row[0],
            name=row[1],
            path=prefix + row[1],
            kind=row[2],
            size=row[3],
            modified_at=row[4],
            version=row[6],
            content_digest=row[7],
            tree_seq=row[5] or 0,
            sha1=row[8],
        )
        for row in rows
    ]
