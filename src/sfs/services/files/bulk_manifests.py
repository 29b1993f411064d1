"""Many files' chunk lists read in one transaction with three queries.

A sync client fetching thousands of small files must not ask for each manifest on its own (a
round trip and a handful of queries per file): nodes, versions and chunk rows are read for the
whole batch at once. Each file is answered or refused on its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sfs.domain.errors import NotFound, SfsError
from sfs.domain.space_scope import SpaceScope
from sfs.metadata.file_models import Node, Version, VersionChunk
from sfs.services.sharing.share_grants import subtree_node_ids

FILE = "file"


@dataclass(frozen=True)
class FileManifest:
    node_id: uuid.UUID
    version: int
    size: int
    modified_at: datetime
    content_digest: str
    chunks: list[tuple[str, int]]  # (chunk id, size), in order


def manifests_of(
    session: Session, space: SpaceScope, wanted: Sequence[tuple[uuid.UUID, int | None]]
) -> list[FileManifest | SfsError]:
    """`wanted`: (node id, version number, or None for the current one) per file."""
    ids = list({node_id for node_id, _ in wanted})
    query = select(Node).where(
        Node.id.in_(ids),
        Node.space_id == space.id,  # another space's (or organisation's) ids: not found
        Node.kind == FILE,
        Node.deleted_at.is_(None),
    )
    if space.is_share:  # and, in a share, any file outside the shared node
        query = query.where(Node.id.in_(subtree_node_ids([space.root_node_id])))
    nodes = {node.id: node for node in session.scalars(query)}
    versions: dict[tuple[uuid.UUID, int], Version] = {}
    current: dict[uuid.UUID, Version] = {}
    for version in session.scalars(select(Version).where(Version.node_id.in_(list(nodes)))):
        versions[(version.node_id, version.number)] = version
        if nodes[version.node_id].current_version_id == version.id:
            current[version.node_id] = version
    chosen: list[Version | None] = [
        (current.get(node_id) if number is None else versions.get((node_id, number)))
        if node_id in nodes
        else None
        for node_id, number in wanted
    ]
    chunks: dict[uuid.UUID, list[tuple[str, int]]] = {}
    version_ids = list({v.id for v in chosen if v is not None})
    for start in range(0, len(version_ids), 500):
        rows = session.execute(
            select(VersionChunk.version_id, VersionChunk.chunk_id, VersionChunk.plain_size)
            .where(VersionChunk.version_id.in_(version_ids[start : start + 500]))
            .order_by(VersionChunk.version_id, VersionChunk.position)
        )
        for version_id, chunk_id, size in rows:
            chunks.setdefault(version_id, []).append((chunk_id, size))
    results: list[FileManifest | SfsError] = []
    for (node_id, number), picked in zip(wanted, chosen, strict=True):
        if picked is None:
            what = "file" if number is None else f"version {number} of that file"
            results.append(NotFound(f"No such {what} here: {node_id}."))
            continue
        results.append(
            FileManifest(
                node_id=node_id,
                version=picked.number,
                size=picked.size,
                modified_at=picked.modified_at,
                content_digest=picked.content_digest,
                chunks=chunks.get(picked.id, []),
            )
        )
    return results
