"""Who may use which chunk: knowing a chunk id is not a right to it.

Chunk ids are keyed per organisation, and every member holds the key (the sync client hashes
locally), so any member can compute the id of a guessed content (a door code, a salary line).
An id alone must therefore neither read a chunk nor confirm that it exists nor let a commit link
it. A chunk is *usable* by an actor when its row exists and either

- a version in a space the actor may read references it (`readable_space_ids`, the one place
  that says which spaces those are), or a version of a file below a node shared with the actor
  (`share_grants`: that subtree only, never the rest of its space), or
- its bytes were received from this actor, checked against the id: an upload may then commit
  chunks that no version of the actor's references yet, and a member uploading content another
  member already stored costs no storage (the bytes are checked, not kept twice). The upload
  that stored the chunk is named on its row (`Chunk.uploaded_by`); any later sender gets a
  `ChunkReceipt`. Both last until the garbage collector's grace period is over.

Every question is at most three queries per 2,000 ids, each list bound as one array (the chunk
rows with their uploaders, the actor's receipts, the references from readable spaces), answered
from primary keys and the (organization_id, chunk_id) index of `version_chunks`, so a first sync
of thousands of files stays a handful of statements per batch; for the chunks of the actor's own
upload, the first query answers alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import ColumnElement, Table, func, or_, select, update
from sqlalchemy.orm import Session

from sfs.domain.actor import Actor
from sfs.metadata.file_models import Chunk, ChunkReceipt, Node, Version, VersionChunk
from sfs.services.files.bulk_rows import among, insert_rows
from sfs.services.files.spaces import readable_space_ids
from sfs.services.sharing.share_grants import shared_roots, subtree_node_ids

_BATCH = 2000


def chunk_access(session: Session, actor: Actor, chunk_ids: Sequence[str]) -> dict[str, bool]:
    """Of these ids, those the actor's organisation holds, each with whether the actor may use
    it. Only for deciding what to store: what an actor is *told* must not go beyond `usable`."""
    wanted = list(dict.fromkeys(chunk_ids))
    access: dict[str, bool] = {}
    for start in range(0, len(wanted), _BATCH):
        present = session.execute(
            select(Chunk.chunk_id, _uploaded_by(actor)).where(
                Chunk.organization_id == actor.organization_id,
                among(session, Chunk.chunk_id, wanted[start : start + _BATCH]),
            )
        ).all()
        usable = _usable_among(session, actor, present)
        access.update((chunk_id, chunk_id in usable) for chunk_id, _ in present)
    return access


def usable_chunks(
    session: Session, actor: Actor, chunk_ids: Sequence[str], *, lock: bool = False
) -> set[str]:
    """Which of these chunks the actor may use; with `lock`, their rows are share-locked until
    the transaction ends (PostgreSQL), so a concurrent garbage collection waits for a commit."""
    wanted = list(set(chunk_ids))
    usable: set[str] = set()
    for start in range(0, len(wanted), _BATCH):
        query = select(Chunk.chunk_id, _uploaded_by(actor)).where(
            Chunk.organization_id == actor.organization_id,
            among(session, Chunk.chunk_id, wanted[start : start + _BATCH]),
        )
        if lock and session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(read=True)
        usable |= _usable_among(session, actor, session.execute(query).all())
    return usable


Location = tuple[str, str, int, int, int]  # chunk id, pack id, offset, length, plain size


def usable_rows(session: Session, actor: Actor, chunk_ids: Sequence[str]) -> dict[str, Location]:
    """Where each chunk among these that the actor may use lives, by id: plain rows, not ORM
    objects, since a download asks for thousands at a time."""
    wanted = list(set(chunk_ids))
    rows: dict[str, Location] = {}
    for start in range(0, len(wanted), _BATCH):
        found = session.execute(
            select(
                Chunk.chunk_id,
                Chunk.pack_id,
                Chunk.offset,
                Chunk.length,
                Chunk.plain_size,
                _uploaded_by(actor),
            ).where(
                Chunk.organization_id == actor.organization_id,
                among(session, Chunk.chunk_id, wanted[start : start + _BATCH]),
            )
        ).all()
        present: dict[str, Location] = {
            row[0]: (row[0], row[1], row[2], row[3], row[4]) for row in found
        }
        for chunk_id in _usable_among(session, actor, [(row[0], row[5]) for row in found]):
            rows[chunk_id] = present[chunk_id]
    return rows


def _uploaded_by(actor: Actor) -> ColumnElement[bool]:
    """Whether a chunk row names the actor as its uploader, answered by the database (not an
    uploader's id converted for each of thousands of rows to be compared here)."""
    return func.coalesce(Chunk.uploaded_by == actor.user_id, False)


def _usable_among(session: Session, actor: Actor, present: Sequence[tuple[str, bool]]) -> set[str]:
    """Which of these (at most one batch of) held chunks, each with whether the actor uploaded
    it, the actor may use.

    Two plain queries rather than one with correlated EXISTS: PostgreSQL's generic plan for a
    prepared statement (psycopg prepares a query after a few runs) made that one ten times
    slower; these stay index lookups whatever the plan. The actor's own uploads and receipts
    first: for an upload's commit they answer for every chunk, and the join over versions is
    not run at all.
    """
    own = {chunk_id for chunk_id, uploaded in present if uploaded}
    rest = {chunk_id for chunk_id, _ in present} - own
    if not rest:
        return own
    received = own | set(
        session.scalars(
            select(ChunkReceipt.chunk_id).where(
                ChunkReceipt.organization_id == actor.organization_id,
                ChunkReceipt.user_id == actor.user_id,
                among(session, ChunkReceipt.chunk_id, list(rest)),
            )
        )
    )
    rest -= received
    if not rest:
        return received
    readable: ColumnElement[bool] = Node.space_id.in_(readable_space_ids(actor))
    shared = shared_roots(session, actor)
    if shared:  # or a node below one shared with the actor (only that subtree, not its space)
        readable = or_(readable, Node.id.in_(subtree_node_ids(shared)))
    referenced = session.scalars(
        select(VersionChunk.chunk_id)
        .join(Version, Version.id == VersionChunk.version_id)
        .join(Node, Node.id == Version.node_id)
        .where(
            VersionChunk.organization_id == actor.organization_id,
            among(session, VersionChunk.chunk_id, list(rest)),
            readable,
        )
        .distinct()
    )
    return received | set(referenced)


def uploaded_by_others(session: Session, actor: Actor, chunk_ids: Sequence[str]) -> list[str]:
    """Of these held chunks, those whose row names another uploader (or none): an upload that
    raced another one for the same content, or stored it before the rows named one."""
    wanted = list(dict.fromkeys(chunk_ids))
    others: list[str] = []
    for start in range(0, len(wanted), _BATCH):
        others += session.scalars(
            select(Chunk.chunk_id).where(
                Chunk.organization_id == actor.organization_id,
                among(session, Chunk.chunk_id, wanted[start : start + _BATCH]),
                or_(Chunk.uploaded_by.is_(None), Chunk.uploaded_by != actor.user_id),
            )
        )
    return others


def record_receipts(
    session: Session, actor: Actor, chunk_ids: Sequence[str], *, now: datetime
) -> None:
    """Remember that the actor sent these chunks' bytes (checked against their ids)."""
    wanted = list(dict.fromkeys(chunk_ids))
    if not wanted:
        return
    insert_rows(
        session,
        cast(Table, ChunkReceipt.__table__),
        {"organization_id": actor.organization_id, "user_id": actor.user_id, "received_at": now},
        {"chunk_id": wanted},
        conflict=["organization_id", "chunk_id", "user_id"],
        refresh=["received_at"],
    )


def refresh_chunks(
    session: Session, actor: Actor, chunk_ids: Sequence[str], *, now: datetime
) -> None:
    """Chunks sent again count as just uploaded: the garbage collector's grace period starts
    over, so a chunk nobody references cannot vanish between this upload and its commit."""
    wanted = list(set(chunk_ids))
    for start in range(0, len(wanted), _BATCH):
        session.execute(
            update(Chunk)
            .where(
                Chunk.organization_id == actor.organization_id,
                among(session, Chunk.chunk_id, wanted[start : start + _BATCH]),
            )
            .values(created_at=now)
            .execution_options(synchronize_session=False)
        )
