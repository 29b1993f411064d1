"""Files and folders as a tree: browse, create folders, move, copy, delete to the trash, restore.

Every call is scoped to a space the actor may reach; every change appends to the space's journal.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.errors import Conflict, InvalidInput, NotFound, SfsError
from sfs.domain.space_scope import SpaceScope
from sfs.metadata.db import Database
from sfs.metadata.file_models import Node, Space, Version, VersionChunk
from sfs.ports import Clock
from sfs.protocol.paths import join_path, name_key
from sfs.services.files.bulk_folders import make_folders
from sfs.services.files.nodes import (
    FILE,
    FOLDER,
    NodeView,
    flush_or_conflict,
    live_child,
    new_node,
    next_version_number,
    node_view,
    parse_path,
    path_of,
    resolve,
    resolve_folder,
)
from sfs.services.files.properties import copy_properties
from sfs.services.files.spaces import append_journal, lock_for_commit, visible_space, writable_space
from sfs.services.sharing.access import whole_space_only

MAX_FOLDER_BATCH = 1000


class FileTreeService:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    def stat(self, actor: Actor, *, space_id: uuid.UUID, path: str) -> NodeView:
        with self._database.transaction() as session:
            space = visible_space(session, actor, space_id)
            parts = parse_path(path)
            node = resolve(session, space, parts)
            return node_view(session, node, join_path(parts))

    def list_folder(self, actor: Actor, *, space_id: uuid.UUID, path: str) -> list[NodeView]:
        with self._database.transaction() as session:
            space = visible_space(session, actor, space_id)
            parts = parse_path(path)
            folder = resolve(session, space, parts)
            if folder.kind != FOLDER:
                raise InvalidInput(f"{join_path(parts)} is a file, not a folder.", field="path")
            children = session.scalars(
                select(Node)
                .where(Node.parent_id == folder.id, Node.deleted_at.is_(None))
                .order_by(Node.kind.desc(), Node.name_key)
            ).all()
            return [
                node_view(session, child, join_path([*parts, child.name])) for child in children
            ]

    def snapshot(self, actor: Actor, *, space_id: uuid.UUID) -> tuple[int, list[NodeView]]:
        """Every live file and folder of the space with its path, and the journal cursor they
        are current at (read in one transaction, so the two agree)."""
        with self._database.transaction() as session:
            space = visible_space(session, actor, space_id)
            cursor = session.scalar(select(Space.journal_seq).where(Space.id == space.id)) or 0
            rows = session.execute(
                select(Node, Version.number, Version.content_digest)
                .outerjoin(Version, Version.id == Node.current_version_id)
                .where(Node.space_id == space.id)
            ).all()
        children: dict[uuid.UUID | None, list[tuple[Node, int | None, str | None]]] = {}
        for row in rows:
            children.setdefault(row[0].parent_id, []).append((row[0], row[1], row[2]))
        views: list[NodeView] = []
        pending: list[tuple[uuid.UUID, str]] = [(space.root_node_id, "")]
        while pending:  # only live nodes under live folders are reachable
            parent_id, parent_path = pending.pop()
            for node, number, digest in children.get(parent_id, []):
                if node.deleted_at is not None:
                    continue
                path = f"{parent_path}/{node.name}"
                views.append(
                    NodeView(
                        id=node.id,
                        name=node.name,
                        path=path,
                        kind=node.kind,
                        size=node.size,
                        modified_at=node.modified_at,
                        version=number,
                        content_digest=digest,
                    )
                )
                if node.kind == FOLDER:
                    pending.append((node.id, path))
        views.sort(key=lambda view: view.path)
        return int(cursor), views

    def create_folders(
        self, actor: Actor, *, space_id: uuid.UUID, paths: Sequence[str], client: ClientInfo
    ) -> list[NodeView | SfsError]:
        """Many folders in one transaction (a first sync of a tree has hundreds). Each path
        stands or falls alone, checked before anything is written; a folder that exists is
        answered as it is (creating it again changes nothing), a file in the way is a conflict.
        Parents are made before children whatever the order given."""
        if len(paths) > MAX_FOLDER_BATCH:
            raise InvalidInput(f"At most {MAX_FOLDER_BATCH} folders in one batch.", field="paths")

        now = self._clock.now()
        with self._database.transaction() as session:
            space = writable_space(session, actor, space_id)
            lock_for_commit(session, space)  # concurrent batches see each other's folders
            return make_folders(session, space, paths, now)

    def create_folder(
        self, actor: Actor, *, space_id: uuid.UUID, path: str, client: ClientInfo
    ) -> NodeView:
        now = self._clock.now()
        with self._database.transaction() as session:
            space = writable_space(session, actor, space_id)
            parts = parse_path(path)
            if not parts:
                raise Conflict("The top folder always exists.")
            parent = resolve_folder(session, space, parts[:-1])
            node = new_node(session, space, parent, parts[-1], FOLDER, now)
            append_journal(
                session, space, node=node, operation="create", path=join_path(parts), now=now
            )
            return node_view(session, node, join_path(parts))

    def move(
        self,
        actor: Actor,
        *,
        space_id: uuid.UUID,
        source: str,
        target: str,
        client: ClientInfo,
        replace: bool = False,
    ) -> NodeView:
        """Move or rename; the target path must not exist, unless `replace` sends what is there
        to the trash first, in the same transaction. A move is one journal entry."""
        now = self._clock.now()
        with self._database.transaction() as session:
            space = writable_space(session, actor, space_id)
            from_parts, to_parts = parse_path(source), parse_path(target)
            if not from_parts or not to_parts:
                raise InvalidInput("The top folder cannot be moved, nor replaced.")
            node = resolve(session, space, from_parts)
            new_parent = resolve_folder(session, space, to_parts[:-1])
            if node.kind == FOLDER and _is_within(session, new_parent, node):
                raise Conflict("A folder cannot be moved into itself.")
            clash = live_child(session, new_parent.id, to_parts[-1])
            if clash is not None and clash.id != node.id:  # a case-only rename is no clash
                if not replace:
                    raise Conflict(f"{join_path(to_parts)} already exists.")
                _to_trash(session, space, clash, join_path(to_parts), now)
            old_parent_id = node.parent_id
            node.parent_id, node.name, node.name_key = (
                new_parent.id,
                to_parts[-1],
                name_key(to_parts[-1]),
            )
            flush_or_conflict(session, join_path(to_parts))
            append_journal(
                session,
                space,
                node=node,
                operation="move",
                path=join_path(to_parts),
                old_path=join_path(from_parts),
                now=now,
                old_parent_id=old_parent_id,
            )
            return node_view(session, node, join_path(to_parts))

    def copy(
        self,
        actor: Actor,
        *,
        space_id: uuid.UUID,
        source: str,
        target: str,
        client: ClientInfo,
        replace: bool = False,
        with_contents: bool = True,
    ) -> NodeView:
        """Copy a file or a whole folder (without what is inside when not `with_contents`);
        content is shared (no chunk is stored twice). The target must not exist, unless
        `replace` sends what is there to the trash first, in the same transaction."""
        now = self._clock.now()
        with self._database.transaction() as session:
            space = writable_space(session, actor, space_id)
            from_parts, to_parts = parse_path(source), parse_path(target)
            if not to_parts:
                raise InvalidInput("Give the copy a name.")
            original = resolve(session, space, from_parts)
            parent = resolve_folder(session, space, to_parts[:-1])
            if original.kind == FOLDER and _is_within(session, parent, original):
                raise Conflict("A folder cannot be copied into itself.")
            clash = live_child(session, parent.id, to_parts[-1])
            if clash is not None:
                if not replace or clash.id == original.id:
                    raise Conflict(f"{join_path(to_parts)} already exists.")
                _to_trash(session, space, clash, join_path(to_parts), now)
            copy = self._copy_subtree(
                session, space, actor, original, parent, to_parts, now, deep=with_contents
            )
            return node_view(session, copy, join_path(to_parts))

    def _copy_subtree(
        self,
        session: Session,
        space: SpaceScope,
        actor: Actor,
        original: Node,
        parent: Node,
        parts: list[str],
        now: datetime,
        *,
        deep: bool = True,
    ) -> Node:
        copy = new_node(session, space, parent, parts[-1], original.kind, now)
        copy.modified_at = original.modified_at
        copy_properties(session, original.id, copy.id)
        if original.kind == FILE and original.current_version_id is not None:
            source_version = session.get(Version, original.current_version_id)
            assert source_version is not None
            version = duplicate_version(session, source_version, copy, actor, now)
            copy.current_version_id, copy.size = version.id, version.size
        append_journal(
            session,
            space,
            node=copy,
            operation="create",
            path=join_path(parts),
            version_id=copy.current_version_id,
            now=now,
        )
        if original.kind == FOLDER and deep:
            for child in _live_children(session, original.id):
                self._copy_subtree(session, space, actor, child, copy, [*parts, child.name], now)
        return copy

    def delete(self, actor: Actor, *, space_id: uuid.UUID, path: str, client: ClientInfo) -> None:
        """Move to the trash: the node and everything under it disappear until restored."""
        now = self._clock.now()
        with self._database.transaction() as session:
            space = writable_space(session, actor, space_id)
            parts = parse_path(path)
            if not parts:
                raise InvalidInput("The top folder cannot be deleted.")
            _to_trash(session, space, resolve(session, space, parts), join_path(parts), now)

    def trash(self, actor: Actor, *, space_id: uuid.UUID) -> list[NodeView]:
        with self._database.transaction() as session:
            whole_space_only(visible_space(session, actor, space_id))
            rows = session.scalars(
                select(Node)
                .where(Node.space_id == space_id, Node.deleted_at.is_not(None))
                .order_by(Node.deleted_at.desc())
            ).all()
            return [node_view(session, row, path_of(session, row)) for row in rows]

    def restore(
        self, actor: Actor, *, space_id: uuid.UUID, node_id: uuid.UUID, client: ClientInfo
    ) -> NodeView:
        """Back from the trash to where it was; renamed '(restored)' if that name is taken now."""
        now = self._clock.now()
        with self._database.transaction() as session:
            space = whole_space_only(writable_space(session, actor, space_id))
            node = _trashed(session, space, node_id)
            parent = session.get(Node, node.parent_id) if node.parent_id else None
            if parent is None or not _is_live(session, parent):
                raise Conflict("The folder it was in is gone; restore that folder first.")
            name = node.name
            number = 1
            while live_child(session, parent.id, name) is not None:
                stem, dot, extension = node.name.rpartition(".")
                suffix = " (restored)" if number == 1 else f" (restored {number})"
                name = f"{stem}{suffix}.{extension}" if dot and stem else f"{node.name}{suffix}"
                number += 1
            node.name, node.name_key, node.deleted_at = name, name_key(name), None
            session.flush()
            path = path_of(session, node)
            self._journal_subtree(session, space, node, path, now)
            return node_view(session, node, path)

    def _journal_subtree(
        self, session: Session, space: SpaceScope, node: Node, path: str, now: datetime
    ) -> None:
        append_journal(
            session,
            space,
            node=node,
            operation="create",
            path=path,
            version_id=node.current_version_id,
            now=now,
        )
        if node.kind == FOLDER:
            for child in _live_children(session, node.id):
                self._journal_subtree(
                    session, space, child, f"{path.rstrip('/')}/{child.name}", now
                )

    def purge(
        self, actor: Actor, *, space_id: uuid.UUID, node_id: uuid.UUID, client: ClientInfo
    ) -> None:
        """Delete for good; the chunks go when the garbage collector finds them unreferenced."""
        with self._database.transaction() as session:
            space = whole_space_only(writable_space(session, actor, space_id))
            session.delete(_trashed(session, space, node_id))


def duplicate_version(
    session: Session, source: Version, node: Node, actor: Actor, now: datetime
) -> Version:
    """A new version of `node` with the same content as `source` (the manifest is copied)."""
    version = Version(
        id=uuid.uuid4(),
        organization_id=source.organization_id,
        node_id=node.id,
        number=next_version_number(session, node.id),
        size=source.size,
        content_digest=source.content_digest,
        sha1=source.sha1,
        modified_at=source.modified_at,
        created_at=now,
        author_user_id=actor.user_id,
        device_name=None,
    )
    session.add(version)
    session.flush()
    for row in session.scalars(
        select(VersionChunk)
        .where(VersionChunk.version_id == source.id)
        .order_by(VersionChunk.position)
    ):
        session.add(
            VersionChunk(
                version_id=version.id,
                position=row.position,
                organization_id=row.organization_id,
                chunk_id=row.chunk_id,
                plain_size=row.plain_size,
            )
        )
    return version


def _to_trash(session: Session, space: SpaceScope, node: Node, path: str, now: datetime) -> None:
    node.deleted_at = now
    session.flush()  # out of the live names before another node takes its name
    append_journal(session, space, node=node, operation="delete", path=path, now=now)


def _live_children(session: Session, parent_id: uuid.UUID) -> list[Node]:
    return list(
        session.scalars(select(Node).where(Node.parent_id == parent_id, Node.deleted_at.is_(None)))
    )


def _is_live(session: Session, node: Node) -> bool:
    current: Node | None = node
    while current is not None:
        if current.deleted_at is not None:
            return False
        current = session.get(Node, current.parent_id) if current.parent_id else None
    return True


def _is_within(session: Session, node: Node, ancestor: Node) -> bool:
    current: Node | None = node
    while current is not None:
        if current.id == ancestor.id:
            return True
        current = session.get(Node, current.parent_id) if current.parent_id else None
    return False


def _trashed(session: Session, space: SpaceScope, node_id: uuid.UUID) -> Node:
    node = session.get(Node, node_id)
    if node is None or node.space_id != space.id or node.deleted_at is None:
        raise NotFound("No such item in the trash.")
    return node
