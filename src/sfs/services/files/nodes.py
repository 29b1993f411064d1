"""Nodes of a space's tree: the lookups that the tree, version and bulk services share.

It sits a floor below them so that none of them imports another to reach these helpers.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sfs.domain.errors import Conflict, InvalidInput, NotFound, SfsError
from sfs.domain.space_scope import SpaceScope
from sfs.metadata.file_models import Node, Version
from sfs.protocol.paths import BadName, clean_name, join_path, name_key, split_path

FOLDER = "folder"
FILE = "file"


@dataclass(frozen=True)
class NodeView:
    id: uuid.UUID
    name: str
    path: str
    kind: str
    size: int
    modified_at: datetime
    version: int | None
    content_digest: str | None
    deleted_at: datetime | None = None
    tree_seq: int = 0
    sha1: str | None = None  # of a file's content, when the server saw it whole

    @property
    def etag(self) -> str:
        """Changes with a file's content, and with anything at or below a folder (both the
        old and the new parent of a move): clients descend only into folders whose ETag moved."""
        if self.kind == FOLDER:
            return f"{self.id.hex[:12]}-{self.tree_seq}"
        # 128 bits of the manifest digest: short enough for clients that keep ETags in small
        # buffers (litmus builds its If header in 200 bytes).
        return (self.content_digest or "")[:32] or "empty"


def parse_path(path: str) -> list[str]:
    try:
        return split_path(path)
    except BadName as exc:
        raise InvalidInput(str(exc), field="path") from None


def resolve(session: Session, space: SpaceScope, parts: list[str]) -> Node:
    node = session.get(Node, space.root_node_id)
    assert node is not None
    for depth, part in enumerate(parts):
        child = live_child(session, node.id, part)
        if child is None:
            raise NotFound(f"{join_path(parts[: depth + 1])} does not exist.")
        node = child
    return node


def resolve_folder(session: Session, space: SpaceScope, parts: list[str]) -> Node:
    folder = resolve(session, space, parts)
    if folder.kind != FOLDER:
        raise Conflict(f"{join_path(parts)} is a file, not a folder.")
    return folder


def new_node(
    session: Session, space: SpaceScope, parent: Node, name: str, kind: str, now: datetime
) -> Node:
    name = checked_name(name)
    if live_child(session, parent.id, name) is not None:
        raise Conflict(
            f"{name!r} already exists in this folder (names differing only in case count as equal)."
        )
    node = Node(
        id=uuid.uuid4(),
        organization_id=space.organization_id,
        space_id=space.id,
        parent_id=parent.id,
        name=name,
        name_key=name_key(name),
        kind=kind,
        size=0,
        modified_at=now,
        created_at=now,
    )
    session.add(node)
    flush_or_conflict(session, name)
    return node


def node_view(session: Session, node: Node, path: str) -> NodeView:
    version = session.get(Version, node.current_version_id) if node.current_version_id else None
    return NodeView(
        id=node.id,
        name=node.name,
        path=path,
        kind=node.kind,
        size=node.size,
        modified_at=node.modified_at,
        version=version.number if version else None,
        content_digest=version.content_digest if version else None,
        deleted_at=node.deleted_at,
        tree_seq=node.tree_seq or 0,
        sha1=version.sha1 if version else None,
    )


def path_of(session: Session, node: Node, scope: SpaceScope | None = None) -> str:
    """The node's path in its space, or inside `scope` (which the node must lie in)."""
    parts: list[str] = []
    current: Node | None = node
    top = scope.root_node_id if scope is not None else None
    while current is not None and current.parent_id is not None and current.id != top:
        parts.append(current.name)
        current = session.get(Node, current.parent_id)
    return join_path(list(reversed(parts)))


def next_version_number(session: Session, node_id: uuid.UUID) -> int:
    numbers = session.scalars(select(Version.number).where(Version.node_id == node_id)).all()
    return max(numbers, default=0) + 1


def checked_name(name: str) -> str:
    try:
        return clean_name(name)
    except BadName as exc:
        raise InvalidInput(str(exc), field="path") from None


def live_child(session: Session, parent_id: uuid.UUID, name: str) -> Node | None:
    return session.scalars(
        select(Node).where(
            Node.parent_id == parent_id, Node.name_key == name_key(name), Node.deleted_at.is_(None)
        )
    ).one_or_none()


def flush_or_conflict(session: Session, name: str) -> None:
    try:
        session.flush()
    except IntegrityError:
        # Another request created the same name in between: the unique index caught it.
        raise Conflict(f"{name!r} already exists in this folder.") from None


def folder_at(
    session: Session,
    space: SpaceScope,
    parts: tuple[str, ...],
    cache: dict[tuple[str, ...], Node | SfsError],
) -> Node | SfsError:
    if parts not in cache:
        try:
            folder = resolve(session, space, list(parts))
            cache[parts] = (
                folder
                if folder.kind == FOLDER
                else Conflict(f"{join_path(list(parts))} is a file, not a folder.")
            )
        except NotFound as missing:
            cache[parts] = missing
    return cache[parts]


def live_children(
    session: Session, keys: set[tuple[uuid.UUID, str]]
) -> dict[tuple[uuid.UUID, str], Node]:
    found: dict[tuple[uuid.UUID, str], Node] = {}
    parents = list({parent for parent, _ in keys})
    for start in range(0, len(parents), 500):
        rows = session.scalars(
            select(Node).where(
                Node.parent_id.in_(parents[start : start + 500]), Node.deleted_at.is_(None)
            )
        )
        for node in rows:
            key = (node.parent_id, node.name_key)
            if key in keys:
                found[key] = node
    return found


def stamp_changed(session: Session, node_ids: Collection[uuid.UUID], seq: int) -> None:
    """Mark these nodes and every folder above them as changed at journal number `seq`."""
    if not node_ids:
        return
    above = (
        select(Node.id, Node.parent_id)
        .where(Node.id.in_(list(node_ids)))
        .cte("above", recursive=True)
    )
    above = above.union(select(Node.id, Node.parent_id).join(above, Node.id == above.c.parent_id))
    session.execute(
        update(Node)
        .where(Node.id.in_(select(above.c.id)))
        .values(tree_seq=seq)
        .execution_options(synchronize_session=False)
    )
