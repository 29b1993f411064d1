"""Many folders made in one transaction with a handful of statements.

A first sync of a tree brings hundreds of folders; made one by one each costs a dozen ORM
round trips. Here folders are made a depth at a time (parents before children, whatever the
order asked): parents resolved once, existing names fetched in one query per depth, rows
inserted together, journal numbers handed out with one update. Each path succeeds or fails on
its own and is checked before anything is written.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from sfs.domain.errors import Conflict, InvalidInput, SfsError
from sfs.domain.space_scope import SpaceScope
from sfs.metadata.file_models import JournalEntry, Node, Space
from sfs.protocol.paths import join_path, name_key
from sfs.services.files.nodes import (
    FOLDER,
    NodeView,
    folder_at,
    live_children,
    node_view,
    parse_path,
    path_of,
    stamp_changed,
)
from sfs.services.files.spaces import TOUCHED_SPACES


def make_folders(
    session: Session, space: SpaceScope, paths: Sequence[str], now: datetime
) -> list[NodeView | SfsError]:
    results: list[NodeView | SfsError | None] = [None] * len(paths)
    by_depth: dict[int, list[tuple[int, list[str]]]] = defaultdict(list)
    for index, path in enumerate(paths):
        try:
            parts = parse_path(path)  # every part checked and NFC-normalised
            if not parts:
                raise Conflict("The top folder always exists.")
        except SfsError as refused:
            results[index] = refused
            continue
        by_depth[len(parts)].append((index, parts))
    folders: dict[tuple[str, ...], Node | SfsError] = {}
    made: list[tuple[Node, str]] = []
    for depth in sorted(by_depth):
        level = [
            (index, parts, folder_at(session, space, tuple(parts[:-1]), folders))
            for index, parts in by_depth[depth]
        ]
        keys = {(p.id, name_key(parts[-1])) for _, parts, p in level if isinstance(p, Node)}
        existing = live_children(session, keys)
        new_rows: list[dict[str, object]] = []
        for index, parts, parent in level:
            if isinstance(parent, SfsError):
                results[index] = parent
                continue
            key = (parent.id, name_key(parts[-1]))
            node = existing.get(key)
            if node is not None:
                if node.kind != FOLDER:
                    results[index] = Conflict(f"{join_path(parts)} is a file, not a folder.")
                else:
                    folders[tuple(parts)] = node
                    results[index] = node_view(session, node, path_of(session, node, space))
                continue
            node = Node(
                id=uuid.uuid4(),
                organization_id=space.organization_id,
                space_id=space.id,
                parent_id=parent.id,
                name=parts[-1],
                name_key=key[1],
                kind=FOLDER,
                current_version_id=None,
                size=0,
                modified_at=now,
                created_at=now,
                deleted_at=None,
            )
            existing[key] = node  # asked twice in one batch: made once
            folders[tuple(parts)] = node
            made.append((node, join_path(parts)))
            new_rows.append({column: getattr(node, column) for column in _NODE_COLUMNS})
            results[index] = _view(node, join_path(parts))
        if new_rows:  # before the next depth looks for its parents
            session.execute(insert(Node), new_rows)
    _journal(session, space, made, now)
    return [r if r is not None else InvalidInput("Not made.") for r in results]


_NODE_COLUMNS = (
    "id",
    "organization_id",
    "space_id",
    "parent_id",
    "name",
    "name_key",
    "kind",
    "current_version_id",
    "size",
    "modified_at",
    "created_at",
    "deleted_at",
)


def _journal(
    session: Session, space: SpaceScope, made: list[tuple[Node, str]], now: datetime
) -> None:
    if not made:
        return
    last = session.execute(
        update(Space)
        .where(Space.id == space.id)
        .values(journal_seq=Space.journal_seq + len(made))
        .returning(Space.journal_seq)
    ).scalar_one()
    session.info.setdefault(TOUCHED_SPACES, set()).add(space.id)
    first = int(last) - len(made) + 1
    session.execute(
        insert(JournalEntry),
        [
            {
                "organization_id": space.organization_id,
                "space_id": space.id,
                "seq": first + offset,
                "node_id": node.id,
                "operation": "create",
                "kind": FOLDER,
                "path": space.space_path(path),
                "old_path": None,
                "version_id": None,
                "size": 0,
                "occurred_at": now,
            }
            for offset, (node, path) in enumerate(made)
        ],
    )
    stamp_changed(session, [node.id for node, _ in made], int(last))


def _view(node: Node, path: str) -> NodeView:
    return NodeView(
        id=node.id,
        name=node.name,
        path=path,
        kind=FOLDER,
        size=0,
        modified_at=node.modified_at,
        version=None,
        content_digest=None,
    )
