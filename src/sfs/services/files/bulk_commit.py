"""Many file versions committed in one transaction with a handful of statements.

A sync client's first upload of thousands of small files must not cost a dozen queries per
file: folders are resolved once, existing files fetched in one query per batch, rows inserted
together, and the journal numbers handed out with one update. Each entry still succeeds or
fails on its own; a refused entry changes nothing.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from sfs.domain.actor import Actor
from sfs.domain.errors import Conflict, InvalidInput, SfsError
from sfs.domain.space_scope import SpaceScope
from sfs.domain.validation import check_time, check_version_number
from sfs.i18n import N_
from sfs.metadata.file_models import JournalEntry, Node, Space, Version, VersionChunk
from sfs.metadata.models import Organization
from sfs.protocol.paths import join_path, name_key
from sfs.services.files.bulk_rows import insert_rows
from sfs.services.files.nodes import (
    FILE,
    NodeView,
    folder_at,
    live_children,
    parse_path,
    stamp_changed,
)
from sfs.services.files.retention import prune_versions
from sfs.services.files.spaces import TOUCHED_SPACES


@dataclass(frozen=True)
class BulkEntry:
    path: str
    manifest: Sequence[tuple[str, int]]  # (chunk id, size)
    modified_at: datetime
    base_version: int | None
    device_name: str | None
    sha1: str | None = None


@dataclass
class _Accepted:
    index: int
    parts: list[str]
    parent: Node
    node: Node | None  # the existing file, or None for a new one
    number: int


def commit_bulk(
    session: Session,
    space: SpaceScope,
    actor: Actor,
    entries: Sequence[BulkEntry],
    now: datetime,
) -> list[NodeView | SfsError]:
    results: list[NodeView | SfsError | None] = [None] * len(entries)
    folders: dict[tuple[str, ...], Node | SfsError] = {}
    pending: list[tuple[int, list[str], Node]] = []
    for index, entry in enumerate(entries):
        try:
            parts = parse_path(entry.path)  # every part already checked and NFC-normalised
            if not parts:
                raise InvalidInput(N_("Give the file a name."), field="path")
            check_time(entry.modified_at, field="modified_at")
            if entry.base_version is not None:
                check_version_number(entry.base_version, field="base_version")
        except InvalidInput as refused:
            results[index] = refused
            continue
        parent = folder_at(session, space, tuple(parts[:-1]), folders)
        if isinstance(parent, SfsError):
            results[index] = parent
            continue
        pending.append((index, parts, parent))

    existing = live_children(session, {(p.id, name_key(parts[-1])) for _, parts, p in pending})
    versions = _current_numbers(session, [n.current_version_id for n in existing.values()])
    accepted: list[_Accepted] = []
    claimed: set[tuple[uuid.UUID, str]] = set()
    for index, parts, parent in pending:
        key = (parent.id, name_key(parts[-1]))
        node = existing.get(key)
        path = join_path(parts)
        if key in claimed:
            results[index] = Conflict(N_("%(path)s appears twice in this batch.", path=path))
            continue
        if node is not None and node.kind != FILE:
            results[index] = Conflict(N_("%(path)s is a folder.", path=path))
            continue
        current = (
            versions.get(node.current_version_id) if node and node.current_version_id else None
        )
        if entries[index].base_version != current:
            results[index] = Conflict(
                stale_base_message(path, entries[index].base_version, current)
            )
            continue
        claimed.add(key)
        accepted.append(_Accepted(index, parts, parent, node, (current or 0) + 1))

    if accepted:
        _write(session, space, actor, entries, accepted, results, now)
    return [r if r is not None else InvalidInput(N_("Not committed.")) for r in results]


def _write(
    session: Session,
    space: SpaceScope,
    actor: Actor,
    entries: Sequence[BulkEntry],
    accepted: list[_Accepted],
    results: list[NodeView | SfsError | None],
    now: datetime,
) -> None:
    last = session.execute(_ADVANCE, {"advanced_space": space.id, "by": len(accepted)}).scalar_one()
    session.info.setdefault(TOUCHED_SPACES, set()).add(space.id)
    first_seq = int(last) - len(accepted) + 1
    node_rows: list[dict[str, object]] = []
    version_rows: list[dict[str, object]] = []
    # A manifest is one row per chunk (~40,000 for 1 GiB): column lists, one statement.
    chunk_columns: dict[str, list[object]] = {
        "version_id": [],
        "position": [],
        "chunk_id": [],
        "plain_size": [],
    }
    journal_rows: list[dict[str, object]] = []
    for offset, item in enumerate(accepted):
        entry = entries[item.index]
        node_id = item.node.id if item.node else uuid.uuid4()
        version_id = uuid.uuid4()
        size = sum(size for _, size in entry.manifest)
        digest = hashlib.sha256(b"".join(c.encode() + b"\n" for c, _ in entry.manifest))
        path = join_path(item.parts)
        if item.node is None:
            node_rows.append(
                {
                    "id": node_id,
                    "organization_id": space.organization_id,
                    "space_id": space.id,
                    "parent_id": item.parent.id,
                    "name": item.parts[-1],
                    "name_key": name_key(item.parts[-1]),
                    "kind": FILE,
                    "current_version_id": version_id,
                    "size": size,
                    "modified_at": entry.modified_at,
                    "created_at": now,
                }
            )
        else:
            item.node.current_version_id, item.node.size = version_id, size
            item.node.modified_at = entry.modified_at
        version_rows.append(
            {
                "id": version_id,
                "organization_id": space.organization_id,
                "node_id": node_id,
                "number": item.number,
                "size": size,
                "content_digest": digest.hexdigest(),
                "modified_at": entry.modified_at,
                "created_at": now,
                "author_user_id": actor.user_id,
                "device_name": entry.device_name,
                "sha1": entry.sha1,
            }
        )
        chunk_columns["version_id"] += [version_id] * len(entry.manifest)
        chunk_columns["position"] += range(len(entry.manifest))
        chunk_columns["chunk_id"] += [chunk for chunk, _ in entry.manifest]
        chunk_columns["plain_size"] += [chunk_size for _, chunk_size in entry.manifest]
        journal_rows.append(
            {
                "organization_id": space.organization_id,
                "space_id": space.id,
                "seq": first_seq + offset,
                "node_id": node_id,
                "operation": "update" if item.node else "create",
                "kind": FILE,
                "path": space.space_path(path),
                "old_path": None,
                "version_id": version_id,
                "size": size,
                "occurred_at": now,
            }
        )
        results[item.index] = NodeView(
            id=node_id,
            name=item.parts[-1],
            path=path,
            kind=FILE,
            size=size,
            modified_at=entry.modified_at,
            version=item.number,
            content_digest=digest.hexdigest(),
            sha1=entry.sha1,
        )
    session.flush()
    for model, rows in (
        (Node, node_rows),
        (Version, version_rows),
        (JournalEntry, journal_rows),
    ):
        if rows:  # Core executemany: the ORM's bulk path costs more per row than the insert
            session.execute(insert(cast(Table, model.__table__)), rows)
    insert_rows(
        session,
        cast(Table, VersionChunk.__table__),
        {"organization_id": space.organization_id},
        chunk_columns,
    )
    stamp_changed(session, {item.parent.id for item in accepted}, int(last))
    replaced = [item.node for item in accepted if item.node is not None]
    if replaced:
        organisation = session.get(Organization, space.organization_id)
        assert organisation is not None
        session.flush()
        for node in replaced:
            prune_versions(session, node, organisation, now)


# The journal numbers handed out, on the table and built once (an ORM UPDATE works its cache
# key out anew at every run); the session's Space object, if any, is not read again.
_SPACES = cast(Table, Space.__table__)
_ADVANCE = (
    update(_SPACES)
    .where(_SPACES.c.id == bindparam("advanced_space"))
    .values(journal_seq=_SPACES.c.journal_seq + bindparam("by"))
    .returning(_SPACES.c.journal_seq)
)


def _current_numbers(session: Session, version_ids: list[uuid.UUID | None]) -> dict[uuid.UUID, int]:
    wanted = [v for v in version_ids if v is not None]
    numbers: dict[uuid.UUID, int] = {}
    for start in range(0, len(wanted), 500):
        for version_id, number in session.execute(
            select(Version.id, Version.number).where(Version.id.in_(wanted[start : start + 500]))
        ):
            numbers[version_id] = number
    return numbers


def stale_base_message(path: str, base: int | None, current: int | None) -> str:
    """Why a commit naming `base` as the version it replaces is refused."""
    if current is None:
        return f"{path} does not exist any more (it was deleted or moved)."
    if base is None:
        return f"{path} already exists (version {current}); name the version you replace."
    return f"{path} changed since version {base}: it is at version {current} now."
