"""File contents as versions: commit a manifest of chunk ids, list and restore older versions.

A commit names the version it replaces (`base_version`): if someone else committed in between,
the commit is refused with Conflict and nothing changes. That is what keeps concurrent edits
from silently overwriting each other.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.errors import Conflict, InvalidInput, NotFound, QuotaExceeded, SfsError
from sfs.domain.space_scope import SpaceScope
from sfs.domain.validation import check_version_number
from sfs.i18n import N_
from sfs.metadata.db import Database
from sfs.metadata.file_models import Chunk, Node, Version, VersionChunk
from sfs.metadata.models import Organization
from sfs.ports import Clock
from sfs.protocol.paths import join_path
from sfs.services.files import chunk_access as access
from sfs.services.files.bulk_commit import BulkEntry, commit_bulk, stale_base_message
from sfs.services.files.bulk_manifests import FileManifest, manifests_of
from sfs.services.files.bulk_rows import insert_rows
from sfs.services.files.commit_batching import CommitBatcher, Unwritten
from sfs.services.files.nodes import (
    FILE,
    NodeView,
    next_version_number,
    node_view,
    parse_path,
    resolve,
)
from sfs.services.files.retention import prune_versions
from sfs.services.files.rooms import (
    organisation_bytes,
    organisation_room,
    quotas,
    user_bytes,
    user_room,
)
from sfs.services.files.spaces import append_journal, lock_for_commit, visible_space, writable_space
from sfs.services.files.tree import duplicate_version

MAX_MANIFEST_ENTRIES = 1_000_000  # about 24 GB at the ~24 KiB mean chunk
MAX_BATCH = 5000


@dataclass(frozen=True)
class ManifestEntry:
    chunk_id: str
    size: int


@dataclass(frozen=True)
class BaseRun:
    """`count` chunks taken from the base version's manifest, starting at position `start`:
    an edit in a big file is committed without sending the whole manifest again."""

    start: int
    count: int


@dataclass(frozen=True)
class CommitRequest:
    path: str
    manifest: Sequence[ManifestEntry]
    modified_at: datetime
    base_version: int | None
    device_name: str | None = None
    sha1: str | None = None  # known when the server saw the whole content in order


@dataclass(frozen=True)
class VersionView:
    number: int
    size: int
    modified_at: datetime
    created_at: datetime
    content_digest: str
    device_name: str | None
    current: bool


@dataclass(frozen=True)
class ChunkRow:
    chunk_id: str
    pack_id: str
    offset: int
    length: int
    plain_size: int


@dataclass(frozen=True)
class ReadPlan:
    """What a download needs: the version and, in order, where each chunk lives."""

    node: NodeView
    number: int
    chunks: list[tuple[ChunkRow, int]]  # (where, offset of this chunk in the file)


class FileVersionService:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock
        self._batcher: CommitBatcher[CommitRequest, ChunkRow] = CommitBatcher(
            lambda actor, space_id, client, requests, fresh: self.commit_many(
                actor, space_id=space_id, requests=requests, client=client, fresh_chunks=fresh
            ),
            lambda request: request.path,
        )

    # -- chunks --------------------------------------------------------------------------------

    def missing_chunks(self, actor: Actor, chunk_ids: Sequence[str]) -> list[str]:
        """Which of these chunk ids the actor must send (order kept): all but those they may
        already use. A chunk another member stored is "missing" too, so an id never tells
        whether someone holds that content; sending it costs bandwidth, not storage."""
        _organisation_of(actor)
        wanted = list(dict.fromkeys(chunk_ids))
        with self._database.transaction() as session:
            usable = access.usable_chunks(session, actor, wanted)
        return [chunk_id for chunk_id in wanted if chunk_id not in usable]

    def chunk_access(self, actor: Actor, chunk_ids: Sequence[str]) -> dict[str, bool]:
        """Of these ids, those the organisation holds, each with whether the actor may use it
        (for the upload path: store the absent ones, check and record the others)."""
        _organisation_of(actor)
        with self._database.transaction() as session:
            return access.chunk_access(session, actor, chunk_ids)

    def check_room(self, actor: Actor, incoming_bytes: int) -> None:
        """Refuse before any byte is kept when the user's or the organisation's quota would be
        exceeded."""
        organization_id = _organisation_of(actor)
        with self._database.transaction() as session:
            _check_room(session, actor, organization_id, incoming_bytes)

    def chunks_to_store(self, actor: Actor, sealed_sizes: Mapping[str, int]) -> dict[str, bool]:
        """`chunk_access` of these chunks (id: sealed size), then `check_room` for those the
        organisation does not hold, in one transaction: what an upload asks before it stores a
        batch of chunks (once per small file)."""
        organization_id = _organisation_of(actor)
        with self._database.transaction() as session:
            held = access.chunk_access(session, actor, list(sealed_sizes))
            fresh = sum(size for chunk_id, size in sealed_sizes.items() if chunk_id not in held)
            _check_room(session, actor, organization_id, fresh)
        return held

    def room_left(self, actor: Actor) -> int | None:
        """Bytes that may still be stored before a quota is reached; None when none applies."""
        organization_id = _organisation_of(actor)
        with self._database.transaction() as session:
            rooms = [
                room
                for room in (
                    user_room(session, actor.user_id, organization_id),
                    organisation_room(session, organization_id),
                )
                if room is not None
            ]
        return min((max(room.quota - room.used, 0) for room in rooms), default=None)

    def record_chunks(self, actor: Actor, stored: Sequence[ChunkRow]) -> None:
        """Remember where newly written chunks live (idempotent: known ids are left alone), and
        that the actor sent them: on the chunk rows it adds, or by a receipt for a chunk another
        upload indexed in between (whose row, and uploader, stay)."""
        organization_id = _organisation_of(actor)
        now = self._clock.now()
        ids = list(dict.fromkeys(c.chunk_id for c in stored))
        with self._database.transaction() as session:
            added = _index_chunks(session, organization_id, stored, now, uploaded_by=actor.user_id)
            if added < len(ids):  # rows of another upload among them: receipts for those
                others = access.uploaded_by_others(session, actor, ids)
                access.record_receipts(session, actor, others, now=now)

    def record_receipts(self, actor: Actor, chunk_ids: Sequence[str]) -> None:
        """The actor sent these chunks, which the organisation held already (their bytes were
        checked against their ids): they may now commit them, and nothing is stored twice."""
        _organisation_of(actor)
        if not chunk_ids:
            return
        now = self._clock.now()
        with self._database.transaction() as session:
            access.record_receipts(session, actor, chunk_ids, now=now)
            access.refresh_chunks(session, actor, chunk_ids, now=now)

    def locate_many(self, actor: Actor, chunk_ids: Sequence[str]) -> list[ChunkRow]:
        """Where each chunk lives, in the order asked. NotFound if any is unknown *or not the
        actor's to read*, with the same message: an id must not tell whether it exists."""
        _organisation_of(actor)
        with self._database.transaction() as session:
            rows = {
                chunk_id: ChunkRow(*row)
                for chunk_id, row in access.usable_rows(session, actor, chunk_ids).items()
            }
        if len(rows) != len(set(chunk_ids)):
            raise NotFound(N_("No such chunk."))
        return [rows[chunk_id] for chunk_id in chunk_ids]

    # -- versions ------------------------------------------------------------------------------

    def commit(
        self,
        actor: Actor,
        *,
        space_id: uuid.UUID,
        path: str,
        manifest: Sequence[ManifestEntry],
        modified_at: datetime,
        base_version: int | None,
        client: ClientInfo,
        device_name: str | None = None,
        sha1: str | None = None,
        fresh_chunks: Sequence[ChunkRow] = (),
        unwritten: Unwritten[ChunkRow] | None = None,
    ) -> NodeView:
        """Make a new version visible, in one transaction, once all its chunks are stored;
        `fresh_chunks` (durable, just cut from the actor's bytes) are indexed in it too, and so
        are the `unwritten` ones (cut from them too), made durable first. The
        transaction may hold other commits of the same actor, space and client that arrived
        at the same time (`commit_batching`); each succeeds or fails on its own."""
        request = CommitRequest(path, tuple(manifest), modified_at, base_version, device_name, sha1)
        # Made together with others arriving at once for the same caller and space.
        outcome = self._batcher.commit(actor, space_id, client, request, fresh_chunks, unwritten)
        if isinstance(outcome, SfsError):
            raise outcome
        return outcome

    def commit_many(
        self,
        actor: Actor,
        *,
        space_id: uuid.UUID,
        requests: Sequence[CommitRequest],
        client: ClientInfo,
        fresh_chunks: Sequence[ChunkRow] = (),
    ) -> list[NodeView | SfsError]:
        """Many commits in one transaction (thousands of small files, one round trip).

        Each entry succeeds or fails on its own: the result list holds the new node, or the
        error that refused that entry (a stale base version: Conflict).
        """
        if len(requests) > MAX_BATCH:
            raise InvalidInput(
                N_("At most %(MAX_BATCH)s commits in one batch.", MAX_BATCH=MAX_BATCH),
                field="commits",
            )
        now = self._clock.now()
        with self._database.transaction() as session:
            space = writable_space(session, actor, space_id)
            lock_for_commit(session, space)
            # The server cut these from the actor's own bytes: theirs to use, no receipt needed.
            # One held already counts as just uploaded (as `refresh_chunks` does), and its row
            # stays locked until the commit: the garbage collector cannot take it in between.
            _index_chunks(session, space.organization_id, fresh_chunks, now, refresh=True)
            fresh = {chunk.chunk_id for chunk in fresh_chunks}
            ids = [e.chunk_id for r in requests for e in r.manifest if e.chunk_id not in fresh]
            # Chunks the actor may not use count as not uploaded (the same refusal, so a commit
            # never tells whether another member holds that content).
            missing = set(ids) - access.usable_chunks(session, actor, ids, lock=True)
            results: list[NodeView | SfsError] = []
            complete: list[tuple[int, BulkEntry]] = []
            for index, request in enumerate(requests):
                absent = sum(1 for e in request.manifest if e.chunk_id in missing)
                if absent:
                    results.append(_missing_chunks_error(absent))
                    continue
                results.append(_PENDING)
                complete.append(
                    (
                        index,
                        BulkEntry(
                            path=request.path,
                            manifest=[(e.chunk_id, e.size) for e in request.manifest],
                            modified_at=request.modified_at,
                            base_version=request.base_version,
                            device_name=request.device_name,
                            sha1=request.sha1,
                        ),
                    )
                )
            done = commit_bulk(session, space, actor, [entry for _, entry in complete], now)
        for (index, _), outcome in zip(complete, done, strict=True):
            results[index] = outcome
        return results

    def _new_version(
        self,
        session: Session,
        node: Node,
        actor: Actor,
        manifest: Sequence[ManifestEntry],
        modified_at: datetime,
        device_name: str | None,
        now: datetime,
    ) -> Version:
        digest = hashlib.sha256()
        for entry in manifest:
            digest.update(entry.chunk_id.encode() + b"\n")
        version = Version(
            id=uuid.uuid4(),
            organization_id=node.organization_id,
            node_id=node.id,
            number=next_version_number(session, node.id),
            size=sum(entry.size for entry in manifest),
            content_digest=digest.hexdigest(),
            modified_at=modified_at,
            created_at=now,
            author_user_id=actor.user_id,
            device_name=device_name,
        )
        session.add(version)
        session.flush()
        insert_rows(
            session,
            cast(Table, VersionChunk.__table__),
            {"version_id": version.id, "organization_id": node.organization_id},
            {
                "position": list(range(len(manifest))),
                "chunk_id": [entry.chunk_id for entry in manifest],
                "plain_size": [entry.size for entry in manifest],
            },
        )
        return version

    def list_versions(self, actor: Actor, *, space_id: uuid.UUID, path: str) -> list[VersionView]:
        with self._database.transaction() as session:
            space = visible_space(session, actor, space_id)
            node = _file(session, space, parse_path(path))
            rows = session.scalars(
                select(Version).where(Version.node_id == node.id).order_by(Version.number.desc())
            ).all()
            return [
                VersionView(
                    number=row.number,
                    size=row.size,
                    modified_at=row.modified_at,
                    created_at=row.created_at,
                    content_digest=row.content_digest,
                    device_name=row.device_name,
                    current=row.id == node.current_version_id,
                )
                for row in rows
            ]

    def restore_version(
        self, actor: Actor, *, space_id: uuid.UUID, path: str, number: int, client: ClientInfo
    ) -> NodeView:
        """Make an older version current again, as a new version (history is never rewritten)."""
        check_version_number(number, field="number")
        now = self._clock.now()
        with self._database.transaction() as session:
            space = writable_space(session, actor, space_id)
            parts = parse_path(path)
            node = _file(session, space, parts)
            old = session.scalars(
                select(Version).where(Version.node_id == node.id, Version.number == number)
            ).one_or_none()
            if old is None:
                raise NotFound(
                    N_(
                        "%(join_path)s has no version %(number)s.",
                        join_path=join_path(parts),
                        number=number,
                    )
                )
            version = duplicate_version(session, old, node, actor, now)
            node.current_version_id, node.size, node.modified_at = (
                version.id,
                version.size,
                version.modified_at,
            )
            session.flush()
            _prune(session, node, space, now)
            append_journal(
                session,
                space,
                node=node,
                operation="update",
                path=join_path(parts),
                version_id=version.id,
                now=now,
            )
            return node_view(session, node, join_path(parts))

    def manifest(
        self, actor: Actor, *, space_id: uuid.UUID, path: str, number: int | None = None
    ) -> tuple[NodeView, int, list[ManifestEntry]]:
        """A version's chunk list (the current one by default), for clients that fetch only the
        chunks they lack; with the version's number."""
        plan = self.read_plan(actor, space_id=space_id, path=path, number=number)
        entries = [ManifestEntry(row.chunk_id, row.plain_size) for row, _ in plan.chunks]
        return plan.node, plan.number, entries

    def manifests(
        self,
        actor: Actor,
        *,
        space_id: uuid.UUID,
        wanted: Sequence[tuple[uuid.UUID, int | None]],
    ) -> list[FileManifest | SfsError]:
        """Many files' chunk lists at once (a sync client fetching thousands of small files),
        by node id and version (None: the current one); each answered or refused alone."""
        if len(wanted) > MAX_BATCH:
            raise InvalidInput(
                N_("At most %(MAX_BATCH)s files in one batch.", MAX_BATCH=MAX_BATCH), field="files"
            )
        with self._database.transaction() as session:
            space = visible_space(session, actor, space_id)
            return manifests_of(session, space, wanted)

    def expand(
        self,
        actor: Actor,
        *,
        space_id: uuid.UUID,
        path: str,
        base_version: int | None,
        items: Sequence[ManifestEntry | BaseRun],
    ) -> list[ManifestEntry]:
        """A manifest given partly as runs of the base version's chunks, written out whole."""
        if not any(isinstance(item, BaseRun) for item in items):
            return [item for item in items if isinstance(item, ManifestEntry)]
        if base_version is None:
            raise InvalidInput(
                N_("Runs of the base version need a base_version."), field="manifest"
            )
        try:
            _, _, base = self.manifest(actor, space_id=space_id, path=path, number=base_version)
        except NotFound:
            raise Conflict(stale_base_message(path, base_version, None)) from None
        expanded: list[ManifestEntry] = []
        for item in items:
            if isinstance(item, ManifestEntry):
                expanded.append(item)
            elif item.start < 0 or item.count < 1 or item.start + item.count > len(base):
                raise InvalidInput(
                    N_("A run reaches past the base version's %(len)s chunks.", len=len(base)),
                    field="manifest",
                )
            else:
                expanded.extend(base[item.start : item.start + item.count])
        return expanded

    def read_plan(
        self, actor: Actor, *, space_id: uuid.UUID, path: str, number: int | None = None
    ) -> ReadPlan:
        if number is not None:
            check_version_number(number, field="version")
        with self._database.transaction() as session:
            space = visible_space(session, actor, space_id)
            parts = parse_path(path)
            node = _file(session, space, parts)
            if number is None:
                version_id = node.current_version_id
            else:
                version_id = session.scalars(
                    select(Version.id).where(Version.node_id == node.id, Version.number == number)
                ).one_or_none()
            if version_id is None:
                raise NotFound(N_("%(join_path)s has no such version.", join_path=join_path(parts)))
            number = session.scalar(select(Version.number).where(Version.id == version_id))
            assert number is not None
            # Plain rows, not ORM objects: a 1 GiB file is ~40,000 of them.
            rows = session.execute(
                select(
                    VersionChunk.chunk_id,
                    VersionChunk.plain_size,
                    Chunk.chunk_id.label("found"),
                    Chunk.pack_id,
                    Chunk.offset,
                    Chunk.length,
                    Chunk.plain_size.label("stored_plain_size"),
                )
                .join(
                    Chunk,
                    (Chunk.organization_id == VersionChunk.organization_id)
                    & (Chunk.chunk_id == VersionChunk.chunk_id),
                    isouter=True,
                )
                .where(VersionChunk.version_id == version_id)
                .order_by(VersionChunk.position)
            )
            plan: list[tuple[ChunkRow, int]] = []
            offset = 0
            for chunk_id, plain_size, found, pack_id, at, length, stored_plain_size in rows:
                if found is None:
                    raise NotFound(
                        N_(
                            "%(join_path)s is damaged: chunk %(chunk_id)s… is gone.",
                            join_path=join_path(parts),
                            chunk_id=chunk_id[:12],
                        )
                    )
                plan.append((ChunkRow(chunk_id, pack_id, at, length, stored_plain_size), offset))
                offset += plain_size
            return ReadPlan(
                node=node_view(session, node, join_path(parts)), number=number, chunks=plan
            )


def _index_chunks(
    session: Session,
    organization_id: uuid.UUID,
    stored: Sequence[ChunkRow],
    now: datetime,
    *,
    refresh: bool = False,
    uploaded_by: uuid.UUID | None = None,
) -> int:
    """Remember where durable chunks live: one statement for the batch, not a unit of work per
    row. A chunk another upload indexed in between keeps its first location (either serves);
    with `refresh`, its `created_at` becomes `now`. `uploaded_by`: the user whose upload sent
    these bytes, their receipt on the rows this adds. Returns how many rows it added (or
    refreshed)."""
    unique = list({c.chunk_id: c for c in stored}.values())
    uploader = {} if uploaded_by is None else {"uploaded_by": uploaded_by, "uploaded_at": now}
    return insert_rows(
        session,
        cast(Table, Chunk.__table__),
        {"organization_id": organization_id, "created_at": now, **uploader},
        {
            "chunk_id": [c.chunk_id for c in unique],
            "pack_id": [c.pack_id for c in unique],
            "offset": [c.offset for c in unique],
            "length": [c.length for c in unique],
            "plain_size": [c.plain_size for c in unique],
        },
        conflict=["organization_id", "chunk_id"],
        refresh=["created_at"] if refresh else [],
    )


def _check_room(
    session: Session, actor: Actor, organization_id: uuid.UUID, incoming_bytes: int
) -> None:
    # One query for both quotas: usually neither is set, and this runs at every write.
    limits = quotas(session, actor.user_id, organization_id)
    if limits.user is not None:
        used = user_bytes(session, actor.user_id, organization_id)
        if used + incoming_bytes > limits.user:
            raise QuotaExceeded(
                N_(
                    "Quota exceeded: you may store %(quota)s bytes and hold %(used)s.",
                    quota=limits.user,
                    used=used,
                )
            )
    if limits.organisation is not None:
        used = organisation_bytes(session, organization_id)
        if used + incoming_bytes > limits.organisation:
            raise QuotaExceeded(
                N_(
                    (
                        "Quota exceeded: the organisation may store %(quota)s bytes and "
                        "holds %(used)s."
                    ),
                    quota=limits.organisation,
                    used=used,
                )
            )


def _organisation_of(actor: Actor) -> uuid.UUID:
    if actor.organization_id is None:
        raise NotFound(N_("No such space."))
    return actor.organization_id


def _existing_file(session: Session, space: SpaceScope, parts: list[str]) -> Node | None:
    try:
        node = resolve(session, space, parts)
    except NotFound:
        return None
    if node.kind != FILE:
        raise Conflict(N_("%(join_path)s is a folder.", join_path=join_path(parts)))
    return node


def _file(session: Session, space: SpaceScope, parts: list[str]) -> Node:
    node = resolve(session, space, parts)
    if node.kind != FILE:
        raise InvalidInput(
            N_("%(join_path)s is a folder, not a file.", join_path=join_path(parts)), field="path"
        )
    return node


_PENDING = InvalidInput(N_("Not committed."))


def _prune(session: Session, node: Node, space: SpaceScope, now: datetime) -> None:
    organisation = session.get(Organization, space.organization_id)
    assert organisation is not None
    prune_versions(session, node, organisation, now)


def _missing_chunks_error(count: int) -> InvalidInput:
    return InvalidInput(
        N_("%(count)s chunk(s) of this file are not uploaded yet.", count=count), field="manifest"
    )
