"""Chunked uploads (Nextcloud's chunking v2): a big file sent as numbered parts, then joined.

A client opens an upload under a name of its choosing, sends parts in any order (again after a
broken connection: a part sent twice replaces the first), may list the parts that arrived to
resume, and finally asks for the parts to become one file. Each part's bytes are cut, sealed
and stored in the chunk store as they arrive; the part itself is a row listing its chunks. So
joining costs no copy (the file's manifest is the parts' manifests in order), any instance can
take any request, and the garbage collector keeps these chunks while the upload lives. An
upload nobody touched for a day is dropped (`drop_idle`, run by `sfs admin gc`), and is gone
for its client from that moment on.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sfs.blobs.chunk_store import ChunkStore
from sfs.blobs.packs import ChunkLocation
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from sfs.domain.validation import check_time
from sfs.i18n import N_
from sfs.metadata.db import Database
from sfs.metadata.nextcloud_models import UploadPart, UploadPartChunk, UploadSession
from sfs.ports import Clock
from sfs.services.files.checksums import Checksum, Hashes
from sfs.services.files.content_upload import ChunkIntake
from sfs.services.files.nodes import NodeView
from sfs.services.files.upload_hashing import RunningHashes
from sfs.services.files.versions import FileVersionService, ManifestEntry
from sfs.services.storage.keyring import Keyring

IDLE_LIFETIME = timedelta(hours=24)
MAX_TRANSFER_ID = 255
# Parts are numbered: 16 digits from 0 (Nextcloud desktop 3.x) or 5 from 1 (chunking v2).
_PART_NAME = re.compile(r"[0-9]{1,16}")
_TRANSFER_ID = re.compile(r"[A-Za-z0-9._-]{1,255}")
_ROW_BATCH = 1000


@dataclass(frozen=True)
class PartView:
    name: str
    size: int
    received_at: datetime


@dataclass(frozen=True)
class UploadView:
    transfer_id: str
    total_length: int | None
    destination: str | None
    created_at: datetime
    touched_at: datetime
    parts: list[PartView]


@dataclass(frozen=True)
class JoinRequest:
    """Where the joined file goes and what the client claims about it."""

    space_id: uuid.UUID
    path: str
    modified_at: datetime
    base_version: int | None
    client: ClientInfo
    total_length: int | None = None
    checksum: Checksum | None = None
    device_name: str | None = None


def check_transfer_id(transfer_id: str) -> str:
    if not _TRANSFER_ID.fullmatch(transfer_id):
        raise NotFound(N_("No such upload."))  # nothing could have been opened under this name
    return transfer_id


def check_part_name(name: str) -> int:
    """The part's number, from its name; InvalidInput for any other name."""
    if not _PART_NAME.fullmatch(name):
        raise InvalidInput(
            N_("A part is named by its number (e.g. 00001, or 0000000000000000)."), field="part"
        )
    return int(name)


class PartUpload:
    """One part's bytes, pushed a block at a time; `finish` records the part and answers
    whether it is new (False: it replaced a part of the same name)."""

    def __init__(
        self, intake: ChunkIntake, record: Callable[[Sequence[ManifestEntry]], bool]
    ) -> None:
        self._intake = intake
        self._record = record

    def write(self, block: bytes) -> None:
        self._intake.write(block)

    def finish(self) -> bool:
        return self._record(self._intake.finish())

    def abort(self) -> None:
        self._intake.abort()


class UploadSessionService:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        store: ChunkStore,
        keyring: Keyring,
        versions: FileVersionService,
    ) -> None:
        self._database = database
        self._clock = clock
        self._store = store
        self._keyring = keyring
        self._versions = versions
        self._running = RunningHashes()

    def open(
        self,
        actor: Actor,
        *,
        space_id: uuid.UUID,
        transfer_id: str,
        total_length: int | None = None,
        destination: str | None = None,
    ) -> None:
        """Start an upload; AlreadyExists when one of this name is open."""
        organization_id = _organisation_of(actor)
        check_transfer_id(transfer_id)
        if total_length is not None:
            if total_length < 0:
                raise InvalidInput(
                    N_("OC-Total-Length is a number of bytes."), field="OC-Total-Length"
                )
            self._versions.check_room(actor, total_length)  # 507 before a byte is sent
        now = self._clock.now()
        try:
            with self._database.transaction() as session:
                self._drop_if_idle(session, actor, transfer_id, now)
                session.add(
                    UploadSession(
                        id=uuid.uuid4(),
                        organization_id=organization_id,
                        user_id=actor.user_id,
                        space_id=space_id,
                        transfer_id=transfer_id,
                        total_length=total_length,
                        destination=destination,
                        created_at=now,
                        touched_at=now,
                    )
                )
        except IntegrityError:
            raise AlreadyExists(
                N_("The upload %(transfer_id)s exists already.", transfer_id=transfer_id)
            ) from None

    def start_part(self, actor: Actor, *, transfer_id: str, name: str) -> PartUpload:
        """A part to push bytes into; NotFound unless the upload is open."""
        number = check_part_name(name)
        view = self.upload(actor, transfer_id=transfer_id)  # refuse before any byte is read
        keys = self._keyring.keys_for(_organisation_of(actor))
        key = (actor.user_id, transfer_id, view.created_at)
        started = self._running.start_state(key, number)
        hashes = Hashes(sha1=started[0]) if started is not None else None
        intake = ChunkIntake(
            self._store, self._versions, keys, actor, hashes, size=view.total_length
        )

        def record(manifest: Sequence[ManifestEntry]) -> bool:
            new = self._record_part(actor, transfer_id, name, manifest)
            if started is not None:  # in order: the file's SHA1 so far carries on
                chunk_ids = [entry.chunk_id for entry in manifest]
                state = intake.hashes.sha1_state()
                self._running.continued(key, number, state, chunk_ids, fresh=started[1])
            return new

        return PartUpload(intake, record)

    def upload(self, actor: Actor, *, transfer_id: str) -> UploadView:
        """The upload and the parts that arrived (a client resuming asks this)."""
        with self._database.transaction() as session:
            row = self._live(session, actor, transfer_id)
            parts = session.scalars(
                select(UploadPart)
                .where(UploadPart.session_id == row.id)
                .order_by(UploadPart.number)
            ).all()
            return UploadView(
                transfer_id=row.transfer_id,
                total_length=row.total_length,
                destination=row.destination,
                created_at=row.created_at,
                touched_at=row.touched_at,
                parts=[PartView(p.name, p.size, p.received_at) for p in parts],
            )

    def uploads(self, actor: Actor) -> list[UploadView]:
        """The actor's open uploads (without their parts), oldest first."""
        with self._database.transaction() as session:
            rows = session.scalars(
                select(UploadSession)
                .where(
                    UploadSession.user_id == actor.user_id,
                    UploadSession.touched_at > self._clock.now() - IDLE_LIFETIME,
                )
                .order_by(UploadSession.created_at)
            ).all()
            return [
                UploadView(
                    transfer_id=row.transfer_id,
                    total_length=row.total_length,
                    destination=row.destination,
                    created_at=row.created_at,
                    touched_at=row.touched_at,
                    parts=[],
                )
                for row in rows
            ]

    def abort(self, actor: Actor, *, transfer_id: str) -> None:
        with self._database.transaction() as session:
            row = self._live(session, actor, transfer_id)
            session.delete(row)

    def join(self, actor: Actor, *, transfer_id: str, request: JoinRequest) -> NodeView:
        """The parts, in order, become a new version of the file at `request.path`; the upload
        ends. A checksum or length that does not match changes nothing (the upload stays)."""
        check_time(request.modified_at, field="X-OC-Mtime")
        with self._database.transaction() as session:
            row = self._live(session, actor, transfer_id)
            parts = session.scalars(
                select(UploadPart)
                .where(UploadPart.session_id == row.id)
                .order_by(UploadPart.number)
            ).all()
            _require_no_gaps([p.number for p in parts])
            size = sum(p.size for p in parts)
            for claimed in (request.total_length, row.total_length):
                if claimed is not None and claimed != size:
                    raise InvalidInput(
                        N_(
                            "The parts hold %(size)s bytes, but the file should have %(claimed)s.",
                            size=size,
                            claimed=claimed,
                        ),
                        field="OC-Total-Length",
                    )
            order = {p.name: index for index, p in enumerate(parts)}
            chunks = session.execute(
                select(
                    UploadPartChunk.part_name, UploadPartChunk.chunk_id, UploadPartChunk.plain_size
                )
                .where(UploadPartChunk.session_id == row.id)
                .order_by(UploadPartChunk.part_name, UploadPartChunk.position)
            ).all()
            session_id, key = row.id, (actor.user_id, transfer_id, row.created_at)
        manifest = [
            ManifestEntry(chunk_id, plain_size)
            for _, chunk_id, plain_size in sorted(chunks, key=lambda c: order[c.part_name])
        ]
        # The server cut these chunks from this actor's bytes (the part rows say so): they may
        # commit them, however long ago they arrived.
        self._versions.record_receipts(actor, [entry.chunk_id for entry in manifest])
        sent = request.checksum
        sha1 = self._running.sha1_of(key, [entry.chunk_id for entry in manifest])
        if sha1 is None or (sent is not None and sent.algorithm != "SHA1"):
            sha1 = self._hash_back(actor, manifest, sent)  # out of order, or elsewhere
        elif sent is not None:
            sent.require(sha1)
        node = self._versions.commit(
            actor,
            space_id=request.space_id,
            path=request.path,
            manifest=manifest,
            modified_at=request.modified_at,
            base_version=request.base_version,
            client=request.client,
            device_name=request.device_name,
            sha1=sha1,
        )
        with self._database.transaction() as session:
            session.execute(delete(UploadSession).where(UploadSession.id == session_id))
        self._running.forget(key)
        return node

    def drop_idle(self) -> int:
        """Forget uploads nobody touched for a day (their chunks go to the garbage collector);
        returns how many."""
        with self._database.transaction() as session:
            dropped = session.execute(
                delete(UploadSession)
                .where(UploadSession.touched_at <= self._clock.now() - IDLE_LIFETIME)
                .execution_options(synchronize_session=False)
            )
            return int(dropped.rowcount or 0)  # type: ignore[attr-defined]

    # -- inside -----------------------------------------------------------------------------

    def _record_part(
        self, actor: Actor, transfer_id: str, name: str, manifest: Sequence[ManifestEntry]
    ) -> bool:
        organization_id = _organisation_of(actor)
        now = self._clock.now()
        with self._database.transaction() as session:
            row = self._live(session, actor, transfer_id)
            replaced = session.execute(
                delete(UploadPart).where(UploadPart.session_id == row.id, UploadPart.name == name)
            ).rowcount  # type: ignore[attr-defined]
            session.add(
                UploadPart(
                    session_id=row.id,
                    name=name,
                    organization_id=organization_id,
                    number=int(name),
                    size=sum(entry.size for entry in manifest),
                    received_at=now,
                )
            )
            session.flush()
            rows = [
                {
                    "session_id": row.id,
                    "part_name": name,
                    "position": position,
                    "organization_id": organization_id,
                    "chunk_id": entry.chunk_id,
                    "plain_size": entry.size,
                }
                for position, entry in enumerate(manifest)
            ]
            for start in range(0, len(rows), _ROW_BATCH):
                session.execute(insert(UploadPartChunk), rows[start : start + _ROW_BATCH])
            row.touched_at = now
            return not replaced

    def _hash_back(
        self, actor: Actor, manifest: Sequence[ManifestEntry], claimed: Checksum | None
    ) -> str:
        """The joined file's SHA1, read back from the stored parts, once the client's claimed
        checksum (if any) is checked over the same bytes: InvalidInput if it differs."""
        rows = self._versions.locate_many(actor, [entry.chunk_id for entry in manifest])
        keys = self._keyring.keys_for(_organisation_of(actor))
        hashes = Hashes(claimed)
        plaintexts = self._store.read_many(
            keys,
            [
                (r.chunk_id, ChunkLocation(pack_id=r.pack_id, offset=r.offset, length=r.length))
                for r in rows
            ],
        )
        for data in plaintexts:
            hashes.update(data)
        return hashes.verify()

    def _live(self, session: Session, actor: Actor, transfer_id: str) -> UploadSession:
        """The actor's open upload of this name; NotFound for anyone else's, or an idle one."""
        check_transfer_id(transfer_id)
        row = session.scalars(
            select(UploadSession).where(
                UploadSession.user_id == actor.user_id,
                UploadSession.transfer_id == transfer_id,
                UploadSession.touched_at > self._clock.now() - IDLE_LIFETIME,
            )
        ).one_or_none()
        if row is None:
            raise NotFound(N_("No such upload: %(transfer_id)s.", transfer_id=transfer_id))
        return row

    def _drop_if_idle(
        self, session: Session, actor: Actor, transfer_id: str, now: datetime
    ) -> None:
        session.execute(
            delete(UploadSession).where(
                UploadSession.user_id == actor.user_id,
                UploadSession.transfer_id == transfer_id,
                UploadSession.touched_at <= now - IDLE_LIFETIME,
            )
        )


def _parts(session: Session, session_id: uuid.UUID) -> Sequence[UploadPart]:
    return session.scalars(
        select(UploadPart).where(UploadPart.session_id == session_id).order_by(UploadPart.number)
    ).all()


def _require_no_gaps(numbers: Sequence[int]) -> None:
    if not numbers:
        raise Conflict(N_("No part of this upload has arrived."))
    first = numbers[0]
    if first not in (0, 1):
        raise Conflict(N_("Part %(value)s of this upload is missing.", value=first - 1))
    for expected, number in enumerate(numbers, start=first):
        if number != expected:
            raise Conflict(N_("Part %(expected)s of this upload is missing.", expected=expected))


def _organisation_of(actor: Actor) -> uuid.UUID:
    if actor.organization_id is None:
        raise NotFound(N_("Provider administrators have no files."))
    return actor.organization_id
