"""Listings for clients that browse the tree a folder at a time (WebDAV PROPFIND): a node and
its children with what they show (version, content digest, change stamp) in two queries, and
the bytes below folders in one, however many there are."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from sfs.domain.actor import Actor
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
            rows = session.execute(
                select(Node, Version.number, Version.content_digest, Version.sha1)
                .outerjoin(Version, Version.id == Node.current_version_id)
                .where(Node.parent_id == node.id, Node.deleted_at.is_(None))
                .order_by(Node.name_key)
            ).all()
            return Listing(
                view,
                [
                    NodeView(
                        id=child.id,
                        name=child.name,
                        path=join_path([*parts, child.name]),
                        kind=child.kind,
                        size=child.size,
                        modified_at=child.modified_at,
                        version=number,
                        content_digest=digest,
                        tree_seq=child.tree_seq or 0,
                        sha1=sha1,
                    )
                    for child, number, digest, sha1 in rows
                ],
            )

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
