"""Keeping the chunk store tidy and honest: garbage collection and a full integrity check.

**Garbage collection, beside running uploads.** An upload writes a pack first, records its chunk
rows next, and commits the version that references them last (see "Writes are atomic" in
DESIGN.md). So between those steps there are packs no row names yet and rows no version
references yet, and both are the normal state of an upload in flight. The collector therefore
only touches what is older than a grace period (by the injected clock): a chunk row is deleted
when it is older than the grace period and no version (nor a chunked upload in progress, see
`files/upload_sessions.py`) references it; a pack is deleted when no chunk row names it any more
and the blob itself is older than the grace period. The latter also
covers orphans of crashed uploads, which no row ever named: only the blob's own age
(`BlobBackend.modified`) can tell them from a pack whose rows are about to be recorded, which is
why the backend answers it rather than a pack table in the database (a crash before the pack's
rows are written leaves no trace in the database at all).

A commit checks its chunks before its transaction starts, so one that deduplicated against an old
unreferenced chunk could land just as the collector deletes that chunk's row. The collector
therefore re-checks, after its deletions and before deleting any pack, whether a version now
references a deleted row, and puts such rows back (their pack is still there).

Packs still holding some live chunks are not rewritten: their dead bytes are reported as
reclaimable; repacking them is a later step.

**fsck** reads every indexed chunk and opens it (GCM tag and keyed hash), checks every pack's
sealed trailer against the chunk index, and reports damage by file: which version of which path
in which space needs a chunk that is damaged, missing, or absent from the index.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Exists

from sfs.blobs.backend import BlobNotFound
from sfs.blobs.chunk_store import ChunkStore
from sfs.blobs.packs import ChunkLocation, PackDamaged, pack_blob_name
from sfs.crypto.keys import OrganisationKeys
from sfs.domain.errors import CorruptChunk, MissingChunk
from sfs.metadata.db import Database
from sfs.metadata.file_models import Chunk, ChunkReceipt, Node, Space, Version, VersionChunk
from sfs.metadata.models import Organization, User
from sfs.metadata.nextcloud_models import UploadPartChunk
from sfs.ports import Clock
from sfs.services.files.nodes import path_of
from sfs.services.storage.keyring import Keyring

DEFAULT_GRACE = timedelta(hours=1)
_BATCH = 500


@dataclass(frozen=True, slots=True)
class _ChunkRecord:
    organization_id: uuid.UUID
    chunk_id: str
    pack_id: str
    offset: int
    length: int
    plain_size: int


@dataclass(frozen=True)
class GcReport:
    chunks_deleted: int = 0
    chunk_bytes_deleted: int = 0
    packs_deleted: int = 0
    pack_bytes_deleted: int = 0
    # Of the packs deleted, those no chunk row named before this run (crashed uploads).
    orphan_packs_deleted: int = 0
    # Packs no row names that are younger than the grace period: uploads in flight, most likely.
    young_packs_kept: int = 0
    # Packs holding live and dead chunks: their dead bytes come back only by repacking.
    partly_used_packs: int = 0
    reclaimable_bytes: int = 0
    # Rows put back because a commit referenced them while the collector ran.
    chunks_restored: int = 0
    # Packs whose trailer could not be read to count their dead bytes (run fsck).
    unreadable_packs: list[str] = field(default_factory=list)
    # Upload receipts older than the grace period (see `ChunkReceipt`).
    receipts_dropped: int = 0


@dataclass(frozen=True)
class DamagedVersion:
    organisation: str
    space: str
    path: str
    version: int
    current: bool
    trashed: bool
    reasons: list[str]

    def describe(self) -> str:
        state = "current" if self.current else "older version"
        if self.trashed:
            state += ", in the trash"
        return (
            f"{self.organisation} / {self.space}: {self.path} version {self.version} ({state}): "
            + "; ".join(self.reasons)
        )


@dataclass(frozen=True)
class FsckReport:
    chunks_checked: int
    bytes_checked: int
    packs_checked: int
    damaged_chunks: int
    damaged_versions: list[DamagedVersion]
    pack_problems: list[str]
    # Packs no chunk row names: orphans of interrupted uploads (allowed; gc removes them).
    orphan_packs: list[str]

    @property
    def clean(self) -> bool:
        return not (self.damaged_chunks or self.damaged_versions or self.pack_problems)


class StorageMaintenance:
    def __init__(
        self, database: Database, store: ChunkStore, keyring: Keyring, clock: Clock
    ) -> None:
        self._database = database
        self._store = store
        self._keyring = keyring
        self._clock = clock

    # -- garbage collection --------------------------------------------------------------------

    def collect_garbage(self, *, grace: timedelta = DEFAULT_GRACE) -> GcReport:
        if grace < timedelta(0):
            raise ValueError("the grace period cannot be negative")
        now = self._clock.now()
        cutoff = now - grace
        deleted = self._delete_unreferenced_rows(cutoff)
        receipts = self._drop_old_receipts(cutoff)
        live = self._live_packs()
        packs_with_deleted_rows = {record.pack_id for record in deleted}

        to_delete: list[str] = []
        young = partly_used = reclaimable = 0
        unreadable: list[str] = []
        for pack_id in self._store.pack_ids():
            if pack_id in live:
                organization_id, live_bytes = live[pack_id]
                try:
                    entries = self._store.pack_index(self._keys(organization_id), pack_id)
                except (PackDamaged, BlobNotFound):
                    unreadable.append(pack_id)
                    continue
                dead = sum(entry.location.length for entry in entries) - live_bytes
                if dead > 0:
                    partly_used += 1
                    reclaimable += dead
                continue
            try:
                written = self._store.backend.modified(pack_blob_name(pack_id))
            except BlobNotFound:
                continue  # deleted meanwhile
            if now - written >= grace:
                to_delete.append(pack_id)
            else:
                young += 1

        restored = self._restore_referenced(deleted)
        keep = {record.pack_id for record in restored}
        packs_deleted = pack_bytes = orphans = 0
        for pack_id in to_delete:
            if pack_id in keep:
                continue
            try:
                size = self._store.backend.size(pack_blob_name(pack_id))
            except BlobNotFound:
                continue
            self._store.delete_pack(pack_id)
            packs_deleted += 1
            pack_bytes += size
            orphans += pack_id not in packs_with_deleted_rows
        put_back = set(restored)
        gone = [record for record in deleted if record not in put_back]
        return GcReport(
            chunks_deleted=len(gone),
            chunk_bytes_deleted=sum(record.length for record in gone),
            packs_deleted=packs_deleted,
            pack_bytes_deleted=pack_bytes,
            orphan_packs_deleted=orphans,
            young_packs_kept=young,
            partly_used_packs=partly_used,
            reclaimable_bytes=reclaimable,
            chunks_restored=len(restored),
            unreadable_packs=unreadable,
            receipts_dropped=receipts,
        )

    def _delete_unreferenced_rows(self, cutoff: datetime) -> list[_ChunkRecord]:
        deleted: list[_ChunkRecord] = []
        with self._database.transaction() as session:
            candidates = [
                _record(row)
                for row in session.scalars(
                    select(Chunk).where(Chunk.created_at < cutoff, ~_is_referenced())
                )
            ]
            by_organisation: dict[uuid.UUID, list[_ChunkRecord]] = defaultdict(list)
            for record in candidates:
                by_organisation[record.organization_id].append(record)
            for organization_id, records in by_organisation.items():
                for batch in _batches(records):
                    ids = [record.chunk_id for record in batch]
                    # The condition again: a reference that appeared since the select wins.
                    session.execute(
                        delete(Chunk)
                        .where(
                            Chunk.organization_id == organization_id,
                            Chunk.chunk_id.in_(ids),
                            Chunk.created_at < cutoff,
                            ~_is_referenced(),
                        )
                        .execution_options(synchronize_session=False)
                    )
                    remaining = set(
                        session.scalars(
                            select(Chunk.chunk_id).where(
                                Chunk.organization_id == organization_id, Chunk.chunk_id.in_(ids)
                            )
                        )
                    )
                    deleted += [record for record in batch if record.chunk_id not in remaining]
        return deleted

    def _drop_old_receipts(self, cutoff: datetime) -> int:
        """Receipts bridge an upload and its commit: once the grace period is over, the chunk is
        referenced by the actor's version (which is what lets them read it) or was never
        committed (and its row goes like any unreferenced chunk's). The receipts kept on chunk
        rows (their uploader) are cleared alike and counted with them."""
        with self._database.transaction() as session:
            dropped = session.execute(
                delete(ChunkReceipt)
                .where(ChunkReceipt.received_at < cutoff)
                .execution_options(synchronize_session=False)
            )
            cleared = session.execute(
                update(Chunk)
                .where(Chunk.uploaded_at < cutoff)
                .values(uploaded_by=None, uploaded_at=None)
                .execution_options(synchronize_session=False)
            )
            return int(dropped.rowcount or 0) + int(cleared.rowcount or 0)  # type: ignore[attr-defined]

    def _restore_referenced(self, deleted: Sequence[_ChunkRecord]) -> list[_ChunkRecord]:
        """Put back deleted rows that a version or an upload's part references now (a commit or
        a part raced the deletion)."""
        restored: list[_ChunkRecord] = []
        if not deleted:
            return restored
        now = self._clock.now()
        by_organisation: dict[uuid.UUID, list[_ChunkRecord]] = defaultdict(list)
        for record in deleted:
            by_organisation[record.organization_id].append(record)
        with self._database.transaction() as session:
            for organization_id, records in by_organisation.items():
                for batch in _batches(records):
                    ids = [r.chunk_id for r in batch]
                    referenced = set(
                        session.scalars(
                            select(VersionChunk.chunk_id).where(
                                VersionChunk.organization_id == organization_id,
                                VersionChunk.chunk_id.in_(ids),
                            )
                        )
                    ) | set(
                        session.scalars(
                            select(UploadPartChunk.chunk_id).where(
                                UploadPartChunk.organization_id == organization_id,
                                UploadPartChunk.chunk_id.in_(ids),
                            )
                        )
                    )
                    for record in batch:
                        if record.chunk_id not in referenced:
                            continue
                        if session.get(Chunk, (organization_id, record.chunk_id)) is None:
                            session.add(
                                Chunk(
                                    organization_id=organization_id,
                                    chunk_id=record.chunk_id,
                                    pack_id=record.pack_id,
                                    offset=record.offset,
                                    length=record.length,
                                    plain_size=record.plain_size,
                                    created_at=now,
                                )
                            )
                        restored.append(record)
        return restored

    def _live_packs(self) -> dict[str, tuple[uuid.UUID, int]]:
        """Every pack some chunk row names: its organisation and the bytes of its live chunks."""
        with self._database.transaction() as session:
            rows = session.execute(
                select(Chunk.pack_id, Chunk.organization_id, func.sum(Chunk.length)).group_by(
                    Chunk.pack_id, Chunk.organization_id
                )
            ).all()
        return {pack_id: (organization_id, int(total)) for pack_id, organization_id, total in rows}

    # -- integrity check -----------------------------------------------------------------------

    def check(self) -> FsckReport:
        stored_packs = set(self._store.pack_ids())
        named_packs: set[str] = set()
        problems: list[str] = []
        damage: dict[tuple[uuid.UUID, str], str] = {}
        chunks = checked_bytes = packs = 0

        for organization_id, pack_id, rows in self._indexed_packs():
            named_packs.add(pack_id)
            keys = self._keys(organization_id)
            if pack_id not in stored_packs:
                problems.append(f"pack {pack_id} is missing from the blob store")
                for row in rows:
                    damage[(organization_id, row.chunk_id)] = f"its pack {pack_id} is missing"
                continue
            packs += 1
            problems += self._check_trailer(keys, pack_id, rows)
            for row, outcome in self._open_all(keys, rows):
                chunks += 1
                if isinstance(outcome, str):
                    damage[(organization_id, row.chunk_id)] = outcome
                elif len(outcome) != row.plain_size:
                    damage[(organization_id, row.chunk_id)] = (
                        f"chunk {row.chunk_id[:12]}… is {len(outcome)} bytes, "
                        f"the index says {row.plain_size}"
                    )
                else:
                    checked_bytes += len(outcome)

        with self._database.transaction() as session:
            for organization_id, chunk_id in _unindexed_references(session):
                damage[(organization_id, chunk_id)] = (
                    f"chunk {chunk_id[:12]}… is not in the chunk index"
                )
            damaged_versions = _versions_needing(session, damage)
        return FsckReport(
            chunks_checked=chunks,
            bytes_checked=checked_bytes,
            packs_checked=packs,
            damaged_chunks=len(damage),
            damaged_versions=damaged_versions,
            pack_problems=problems,
            orphan_packs=sorted(stored_packs - named_packs),
        )

    def _indexed_packs(self) -> Iterator[tuple[uuid.UUID, str, list[_ChunkRecord]]]:
        with self._database.transaction() as session:
            pack_ids = session.execute(
                select(Chunk.organization_id, Chunk.pack_id).distinct()
            ).all()
        for organization_id, pack_id in sorted(pack_ids, key=lambda row: row[1]):
            with self._database.transaction() as session:
                rows = [
                    _record(row)
                    for row in session.scalars(
                        select(Chunk)
                        .where(Chunk.organization_id == organization_id, Chunk.pack_id == pack_id)
                        .order_by(Chunk.offset)
                    )
                ]
            yield organization_id, pack_id, rows

    def _check_trailer(
        self, keys: OrganisationKeys, pack_id: str, rows: Sequence[_ChunkRecord]
    ) -> list[str]:
        try:
            entries = self._store.pack_index(keys, pack_id)
        except PackDamaged as damaged:
            return [str(damaged)]
        except BlobNotFound:
            return [f"pack {pack_id} is missing from the blob store"]
        in_trailer = {entry.chunk_id: entry.location for entry in entries}
        disagreeing = [
            row.chunk_id
            for row in rows
            if in_trailer.get(row.chunk_id) != ChunkLocation(pack_id, row.offset, row.length)
        ]
        if not disagreeing:
            return []
        return [
            f"pack {pack_id}: its trailer disagrees with the chunk index for "
            f"{len(disagreeing)} chunk(s), e.g. {disagreeing[0][:12]}…"
        ]

    def _open_all(
        self, keys: OrganisationKeys, rows: Sequence[_ChunkRecord]
    ) -> Iterator[tuple[_ChunkRecord, bytes | str]]:
        """Each row with its verified plaintext, or the reason it does not open."""
        located = [(row.chunk_id, _location(row)) for row in rows]
        opened: list[bytes] = []
        try:
            # The fast path: adjacent chunks in one ranged read each.
            for plaintext in self._store.read_many(keys, located):
                opened.append(plaintext)
        except (CorruptChunk, MissingChunk):
            pass
        else:
            yield from zip(rows, opened, strict=True)
            return
        # Something in this pack is damaged: one read per chunk tells which.
        for row, (chunk_id, location) in zip(rows, located, strict=True):
            try:
                yield row, self._store.read(keys, chunk_id, location)
            except (CorruptChunk, MissingChunk) as error:
                yield row, error.message

    def _keys(self, organization_id: uuid.UUID) -> OrganisationKeys:
        return self._keyring.keys_for(organization_id)


def _is_referenced() -> ColumnElement[bool]:
    """A version holds the chunk, or a chunked upload still in progress does."""
    in_version: Exists = (
        select(VersionChunk.position)
        .where(
            VersionChunk.organization_id == Chunk.organization_id,
            VersionChunk.chunk_id == Chunk.chunk_id,
        )
        .exists()
    )
    in_upload: Exists = (
        select(UploadPartChunk.position)
        .where(
            UploadPartChunk.organization_id == Chunk.organization_id,
            UploadPartChunk.chunk_id == Chunk.chunk_id,
        )
        .exists()
    )
    return or_(in_version, in_upload)


def _record(row: Chunk) -> _ChunkRecord:
    return _ChunkRecord(
        organization_id=row.organization_id,
        chunk_id=row.chunk_id,
        pack_id=row.pack_id,
        offset=row.offset,
        length=row.length,
        plain_size=row.plain_size,
    )


def _location(row: _ChunkRecord) -> ChunkLocation:
    return ChunkLocation(pack_id=row.pack_id, offset=row.offset, length=row.length)


def _batches(records: Sequence[_ChunkRecord]) -> Iterator[Sequence[_ChunkRecord]]:
    for start in range(0, len(records), _BATCH):
        yield records[start : start + _BATCH]


def _unindexed_references(session: Session) -> Iterable[tuple[uuid.UUID, str]]:
    """Chunks a version needs that have no row in the chunk index."""
    rows = session.execute(
        select(VersionChunk.organization_id, VersionChunk.chunk_id)
        .join(
            Chunk,
            (Chunk.organization_id == VersionChunk.organization_id)
            & (Chunk.chunk_id == VersionChunk.chunk_id),
            isouter=True,
        )
        .where(Chunk.chunk_id.is_(None))
        .distinct()
    ).all()
    return [(organization_id, chunk_id) for organization_id, chunk_id in rows]


def _versions_needing(
    session: Session, damage: dict[tuple[uuid.UUID, str], str]
) -> list[DamagedVersion]:
    """The file versions that need any of the damaged chunks, named by space and path."""
    reasons: dict[uuid.UUID, list[str]] = defaultdict(list)
    by_organisation: dict[uuid.UUID, list[str]] = defaultdict(list)
    for organization_id, chunk_id in damage:
        by_organisation[organization_id].append(chunk_id)
    for organization_id, chunk_ids in by_organisation.items():
        for start in range(0, len(chunk_ids), _BATCH):
            batch = chunk_ids[start : start + _BATCH]
            for version_id, chunk_id in session.execute(
                select(VersionChunk.version_id, VersionChunk.chunk_id)
                .where(
                    VersionChunk.organization_id == organization_id,
                    VersionChunk.chunk_id.in_(batch),
                )
                .distinct()
            ):
                reason = damage[(organization_id, chunk_id)]
                if reason not in reasons[version_id]:
                    reasons[version_id].append(reason)
    found: list[DamagedVersion] = []
    for version_id, version_reasons in reasons.items():
        version = session.get(Version, version_id)
        node = session.get(Node, version.node_id) if version else None
        space = session.get(Space, node.space_id) if node else None
        if version is None or node is None or space is None:
            continue
        organisation = session.get(Organization, space.organization_id)
        owner = session.get(User, space.owner_user_id) if space.owner_user_id else None
        space_name = f"{space.name} of {owner.email}" if owner else space.name
        found.append(
            DamagedVersion(
                organisation=organisation.name if organisation else str(space.organization_id),
                space=space_name,
                path=path_of(session, node),
                version=version.number,
                current=node.current_version_id == version.id,
                trashed=_in_trash(session, node),
                reasons=version_reasons,
            )
        )
    return sorted(found, key=lambda v: (v.organisation, v.space, v.path, v.version))


def _in_trash(session: Session, node: Node) -> bool:
    current: Node | None = node
    while current is not None:
        if current.deleted_at is not None:
            return True
        current = session.get(Node, current.parent_id) if current.parent_id else None
    return False
