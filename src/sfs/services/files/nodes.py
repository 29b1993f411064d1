"""Nodes of a space's tree: the lookups that the tree, version and bulk services share.

It sits a floor below them so that none of them imports another to reach these helpers.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, Update, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sfs.domain.errors import Conflict, InvalidInput, NotFound, SfsError
from sfs.domain.space_scope import SpaceScope
from sfs.i18n import N_
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
    if not parts:
        root = session.get(Node, space.root_node_id)
        assert root is not None
        return root
    # Downward from the root's id, which the scope holds: loading the root row itself would be
    # one more query on every PUT, PROPFIND and MKCOL below the top folder.
    node: Node | None = None
    for depth, part in enumerate(parts):
        node = live_child(session, node.id if node else space.root_node_id, part)
        if node is None:
            raise NotFound(
                N_("%(join_path)s does not exist.", join_path=join_path(parts[: depth + 1]))
            )
    assert node is not None
    return node


def resolve_view(
    session: Session, space: SpaceScope, parts: list[str], *, path: str | None = None
) -> NodeView:
    """`node_view` of what `resolve` finds (NotFound alike), shown at `path` (by default its
    path, or "" for the top): read as columns, the last step with its version in one query (a
    PUT, a PROPFIND and a MKCOL ask this around every file a client puts)."""
    if not parts:
        row = session.execute(_NODE_VIEW, {"node_id": space.root_node_id}).one()
        return _view_of_row(row, "" if path is None else path)
    view = live_child_view(session, node_id_at(session, space, parts[:-1]), parts)
    if view is None:
        raise NotFound(N_("%(join_path)s does not exist.", join_path=join_path(parts)))
    return view if path is None else replace(view, path=path)


def live_child_view(session: Session, parent_id: uuid.UUID, parts: list[str]) -> NodeView | None:
    """The view of the live child `parts[-1]` of the node `parent_id` (at `parts`), if any."""
    row = session.execute(
        _CHILD_VIEW, {"parent_id": parent_id, "name_key": name_key(parts[-1])}
    ).one_or_none()
    return _view_of_row(row, join_path(parts)) if row is not None else None


def node_id_at(session: Session, space: SpaceScope, parts: list[str]) -> uuid.UUID:
    """The id of what `resolve` finds (NotFound alike), without loading a node."""
    node_id = space.root_node_id
    for depth, part in enumerate(parts):
        found = session.execute(
            _CHILD_ID, {"parent_id": node_id, "name_key": name_key(part)}
        ).scalar_one_or_none()
        if found is None:
            raise NotFound(
                N_("%(join_path)s does not exist.", join_path=join_path(parts[: depth + 1]))
            )
        node_id = found
    return node_id


def kind_at(session: Session, space: SpaceScope, parts: list[str]) -> str:
    """FILE or FOLDER for what `resolve` finds (NotFound alike), without loading a node."""
    if not parts:  # the top of a space, or of a share (which may be a file)
        return str(session.execute(_KIND, {"node_id": space.root_node_id}).scalar_one())
    kind = session.execute(
        _CHILD_KIND,
        {"parent_id": node_id_at(session, space, parts[:-1]), "name_key": name_key(parts[-1])},
    ).scalar_one_or_none()
    if kind is None:
        raise NotFound(N_("%(join_path)s does not exist.", join_path=join_path(parts)))
    return str(kind)


def resolve_folder(session: Session, space: SpaceScope, parts: list[str]) -> Node:
    folder = resolve(session, space, parts)
    if folder.kind != FOLDER:
        raise Conflict(N_("%(join_path)s is a file, not a folder.", join_path=join_path(parts)))
    return folder


def new_node(
    session: Session, space: SpaceScope, parent: Node, name: str, kind: str, now: datetime
) -> Node:
    name = checked_name(name)
    if live_child(session, parent.id, name) is not None:
        raise Conflict(
            N_(
                (
                    "%(name)s already exists in this folder (names differing only in case "
                    "count as equal)."
                ),
                name=repr(name),
            )
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
    if version is None:
        return _view_of(node, path, None, None, None)
    return _view_of(node, path, version.number, version.content_digest, version.sha1)


def _view_of(
    node: Node | Row[*tuple[Any, ...]],
    path: str,
    number: int | None,
    digest: str | None,
    sha1: str | None,
) -> NodeView:
    """A node (an ORM row, or a row of its columns) and its current version's number, digest
    and SHA-1, as every door sees it."""
    return NodeView(
        id=node.id,
        name=node.name,
        path=path,
        kind=node.kind,
        size=node.size,
        modified_at=node.modified_at,
        version=number,
        content_digest=digest,
        deleted_at=node.deleted_at,
        tree_seq=node.tree_seq or 0,
        sha1=sha1,
    )


def _view_of_row(row: Row[*tuple[Any, ...]], path: str) -> NodeView:
    """A row of `_VIEWS` as a view."""
    return _view_of(row, path, row.number, row.content_digest, row.sha1)


def child_views(
    session: Session, parent_id: uuid.UUID, parent_parts: list[str], *, folders_first: bool
) -> list[NodeView]:
    """The live children of a folder as views, in one query (not one per child for its
    version): by name, folders before files when `folders_first`."""
    order = (Node.kind.desc(), Node.name_key) if folders_first else (Node.name_key,)
    rows = session.execute(
        select(Node, Version.number, Version.content_digest, Version.sha1)
        .outerjoin(Version, Version.id == Node.current_version_id)
        .where(Node.parent_id == parent_id, Node.deleted_at.is_(None))
        .order_by(*order)
    ).all()
    return [
        _view_of(child, join_path([*parent_parts, child.name]), number, digest, sha1)
        for child, number, digest, sha1 in rows
    ]


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


# Built once, as `_STAMP` below: asked several times by every write and PROPFIND, where
# putting the statement together again cost about as much as running it.
_LIVE_CHILD = select(Node).where(
    Node.parent_id == bindparam("parent_id"),
    Node.name_key == bindparam("name_key"),
    Node.deleted_at.is_(None),
)

# Columns of the tables, not ORM objects, for the lookups of every WebDAV request: loading and
# tracking a `Node` cost three times what the query itself did.
_NODES = cast(Table, Node.__table__)
_VERSIONS = cast(Table, Version.__table__)
_LIVE_CHILD_OF = (
    _NODES.c.parent_id == bindparam("parent_id"),
    _NODES.c.name_key == bindparam("name_key"),
    _NODES.c.deleted_at.is_(None),
)
_CHILD_ID = select(_NODES.c.id).where(*_LIVE_CHILD_OF)
_CHILD_KIND = select(_NODES.c.kind).where(*_LIVE_CHILD_OF)
_KIND = select(_NODES.c.kind).where(_NODES.c.id == bindparam("node_id"))
_VIEWS = select(
    _NODES.c.id,
    _NODES.c.name,
    _NODES.c.kind,
    _NODES.c.size,
    _NODES.c.modified_at,
    _NODES.c.deleted_at,
    _NODES.c.tree_seq,
    _VERSIONS.c.number,
    _VERSIONS.c.content_digest,
    _VERSIONS.c.sha1,
).select_from(_NODES.outerjoin(_VERSIONS, _VERSIONS.c.id == _NODES.c.current_version_id))
_CHILD_VIEW = _VIEWS.where(*_LIVE_CHILD_OF)
_NODE_VIEW = _VIEWS.where(_NODES.c.id == bindparam("node_id"))


def live_child(session: Session, parent_id: uuid.UUID, name: str) -> Node | None:
    return session.scalars(
        _LIVE_CHILD, {"parent_id": parent_id, "name_key": name_key(name)}
    ).one_or_none()


def flush_or_conflict(session: Session, name: str) -> None:
    try:
        session.flush()
    except IntegrityError:
        # Another request created the same name in between: the unique index caught it.
        raise Conflict(N_("%(name)s already exists in this folder.", name=repr(name))) from None


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
                else Conflict(
                    N_("%(join_path)s is a file, not a folder.", join_path=join_path(list(parts)))
                )
            )
        except NotFound as missing:
            cache[parts] = missing
    return cache[parts]


def live_children(
    session: Session, keys: set[tuple[uuid.UUID, str]]
) -> dict[tuple[uuid.UUID, str], Node]:
    found: dict[tuple[uuid.UUID, str], Node] = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), 500):
        batch = ordered[start : start + 500]
        # By name too: a file written into a folder of thousands must not load every sibling.
        rows = session.scalars(
            select(Node).where(
                Node.parent_id.in_({parent for parent, _ in batch}),
                Node.name_key.in_({name for _, name in batch}),
                Node.deleted_at.is_(None),
            )
        )
        for node in rows:
            key = (node.parent_id, node.name_key)
            if key in keys:
                found[key] = node
    return found


def _stamp_statement() -> Update:
    # On the table, not the mapped class: an ORM UPDATE works out its cache key anew at every
    # run (about half its cost); nothing in a session needs these nodes' tree_seq synchronised.
    nodes = cast(Table, Node.__table__)
    above = (
        select(nodes.c.id, nodes.c.parent_id)
        .where(nodes.c.id.in_(bindparam("node_ids", expanding=True)))
        .cte("above", recursive=True)
    )
    above = above.union(
        select(nodes.c.id, nodes.c.parent_id).join(above, nodes.c.id == above.c.parent_id)
    )
    return update(nodes).where(nodes.c.id.in_(select(above.c.id))).values(tree_seq=bindparam("seq"))


# Built once: putting the recursive CTE together cost a small write more than running it.
_STAMP = _stamp_statement()


def stamp_changed(session: Session, node_ids: Collection[uuid.UUID], seq: int) -> None:
    """Mark these nodes and every folder above them as changed at journal number `seq`."""
    if not node_ids:
        return
    session.execute(_STAMP, {"node_ids": list(node_ids), "seq": seq})
