"""Properties of files and folders that WebDAV clients set (PROPPATCH).

Dead properties are kept as the XML the client sent, one row per (namespace, name): they follow
their node through moves and renames, are copied with it, go to the trash and back with it, and
go for good when it does. Of the live properties a client may set only the modification time:
a change of it is journalled, so sync clients and folder ETags see it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, delete, func, select
from sqlalchemy.orm import Session

from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.errors import InvalidInput
from sfs.domain.space_scope import SpaceScope
from sfs.domain.validation import check_time
from sfs.i18n import N_
from sfs.metadata.dav_models import NodeProperty
from sfs.metadata.db import Database
from sfs.metadata.file_models import Node, Version
from sfs.ports import Clock
from sfs.protocol.paths import join_path
from sfs.services.files.nodes import FILE, parse_path, resolve
from sfs.services.files.spaces import append_journal, visible_space, writable_space
from sfs.services.sharing.share_grants import subtree_node_ids

MAX_PROPERTIES_PER_NODE = 200
MAX_VALUE_BYTES = 64 * 1024
MAX_NAME_LENGTH = 255


@dataclass(frozen=True)
class StoredProperty:
    namespace: str
    name: str
    value_xml: str  # the whole element, with its namespace declarations


@dataclass(frozen=True)
class SetProperty:
    namespace: str
    name: str
    value_xml: str


@dataclass(frozen=True)
class RemoveProperty:
    namespace: str
    name: str


class PropertyService:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    def of_nodes(
        self, actor: Actor, *, space_id: uuid.UUID, node_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[StoredProperty]]:
        """The dead properties of these nodes of a space the actor may reach."""
        with self._database.transaction() as session:
            space = visible_space(session, actor, space_id)
            return stored_properties(session, space, node_ids)

    def patch(
        self,
        actor: Actor,
        *,
        space_id: uuid.UUID,
        path: str,
        changes: Sequence[SetProperty | RemoveProperty],
        modified_at: datetime | None,
        client: ClientInfo,
    ) -> None:
        """Apply every change in order, and set the modification time if given: all of it or,
        when any part is refused, nothing."""
        for change in changes:
            _check(change)
        if modified_at is not None:  # the same window as every other door's file times
            modified_at = check_time(modified_at, field="modified_at")
        now = self._clock.now()
        with self._database.transaction() as session:
            space = writable_space(session, actor, space_id)
            parts = parse_path(path)
            node = resolve(session, space, parts)
            for change in changes:
                session.execute(
                    delete(NodeProperty).where(
                        NodeProperty.node_id == node.id,
                        NodeProperty.namespace == change.namespace,
                        NodeProperty.name == change.name,
                    )
                )
                if isinstance(change, SetProperty):
                    session.add(
                        NodeProperty(
                            node_id=node.id,
                            namespace=change.namespace,
                            name=change.name,
                            organization_id=node.organization_id,
                            value_xml=change.value_xml,
                        )
                    )
                    session.flush()
            count = session.scalar(
                select(func.count())
                .select_from(NodeProperty)
                .where(NodeProperty.node_id == node.id)
            )
            if (count or 0) > MAX_PROPERTIES_PER_NODE:
                raise InvalidInput(
                    N_(
                        "At most %(MAX_PROPERTIES_PER_NODE)s properties on one item.",
                        MAX_PROPERTIES_PER_NODE=MAX_PROPERTIES_PER_NODE,
                    ),
                    field="property",
                )
            if modified_at is not None and modified_at != node.modified_at:
                node.modified_at = modified_at
                if node.kind == FILE and node.current_version_id is not None:
                    version = session.get(Version, node.current_version_id)
                    assert version is not None
                    version.modified_at = modified_at
                    append_journal(
                        session,
                        space,
                        node=node,
                        operation="update",
                        path=join_path(parts),
                        version_id=version.id,
                        now=now,
                    )


def copy_properties(session: Session, source_id: uuid.UUID, target_id: uuid.UUID) -> None:
    """A copy carries the dead properties of its original (RFC 4918, 9.8.2)."""
    for row in session.scalars(select(NodeProperty).where(NodeProperty.node_id == source_id)):
        session.add(
            NodeProperty(
                node_id=target_id,
                namespace=row.namespace,
                name=row.name,
                organization_id=row.organization_id,
                value_xml=row.value_xml,
            )
        )


def _check(change: SetProperty | RemoveProperty) -> None:
    if not change.name or len(change.name) > MAX_NAME_LENGTH:
        raise InvalidInput(N_("A property name must be 1 to 255 characters."), field="property")
    if len(change.namespace) > MAX_NAME_LENGTH:
        raise InvalidInput(
            N_("A property namespace may be at most 255 characters."), field="property"
        )
    if isinstance(change, SetProperty) and len(change.value_xml.encode()) > MAX_VALUE_BYTES:
        raise InvalidInput(
            N_(
                "A property value may be at most %(MAX_VALUE_BYTES)s bytes.",
                MAX_VALUE_BYTES=MAX_VALUE_BYTES,
            ),
            field="property",
        )


def stored_properties(
    session: Session, space: SpaceScope, node_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[StoredProperty]]:
    """The dead properties of these nodes of `space` (checked by the caller), in a transaction
    the caller holds (a PROPFIND reads everything in one)."""
    found: dict[uuid.UUID, list[StoredProperty]] = {}
    wanted = list(node_ids)
    if space.is_share:  # nodes outside the shared node: none
        inside = subtree_node_ids([space.root_node_id])
        wanted = list(
            session.scalars(select(Node.id).where(Node.id.in_(wanted), Node.id.in_(inside)))
        )
    for start in range(0, len(wanted), 500):
        rows = session.execute(
            _STORED, {"node_ids": wanted[start : start + 500], "space_id": space.id}
        )
        for node_id, namespace, name, value_xml in rows:
            found.setdefault(node_id, []).append(StoredProperty(namespace, name, value_xml))
    return found


# Columns, built once: a PROPFIND after every file a client puts asks this (rclone wants the
# displayname, a dead property), and composing the query and loading ORM objects cost more
# than running it.
_PROPERTIES = cast(Table, NodeProperty.__table__)
_NODES = cast(Table, Node.__table__)
_STORED = (
    select(
        _PROPERTIES.c.node_id,
        _PROPERTIES.c.namespace,
        _PROPERTIES.c.name,
        _PROPERTIES.c.value_xml,
    )
    .join(_NODES, _NODES.c.id == _PROPERTIES.c.node_id)
    .where(
        _PROPERTIES.c.node_id.in_(bindparam("node_ids", expanding=True)),
        _NODES.c.space_id == bindparam("space_id"),
    )
    .order_by(_PROPERTIES.c.namespace, _PROPERTIES.c.name)
)
