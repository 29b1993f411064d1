"""Garbage collection beside running uploads, and fsck, on the services (SQLite and PostgreSQL).

Blobs live in a memory backend that stamps them with the injected clock, so the grace period is
tested by moving the clock, never by sleeping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from sfs.app import Services, build_services
from sfs.auth.throttle import RateLimiters
from sfs.blobs.memory import MemoryBackend
from sfs.config import Settings
from sfs.crypto.passwords import PasswordHasher
from sfs.domain.actor import Actor, operator
from sfs.domain.errors import InvalidInput, NotFound
from sfs.mail.outbox import OutboxMailer
from sfs.metadata.db import Database
from sfs.protocol.chunk_ids import chunk_id
from sfs.services.files.versions import ChunkRow, ManifestEntry
from sfs.services.storage.maintenance import StorageMaintenance
from tests.support import FAST_HASH, GOOD_PASSWORD, FakeClock
from tests.world import CLIENT, actor, make_tenant

HOUR = timedelta(hours=1)
MODIFIED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
def blobs(clock: FakeClock) -> MemoryBackend:
    return MemoryBackend(now=clock.now)


@pytest.fixture
def services(settings: Settings, clock: FakeClock, blobs: MemoryBackend) -> Iterator[Services]:
    database = Database.from_url(settings.database_url)
    built = build_services(
        settings,
        database=database,
        clock=clock,
        mailer=OutboxMailer(settings.outbox_dir),
        hasher=PasswordHasher(FAST_HASH),
        limiters=RateLimiters.from_storage_uri("memory://"),
        master_key=bytes(range(32)),
        blob_backend=blobs,
    )
    yield built
    database.dispose()


@pytest.fixture
def user(services: Services) -> Actor:
    return actor(services, make_tenant(services, "Acme").user)


def maintenance(services: Services) -> StorageMaintenance:
    return StorageMaintenance(
        services.database, services.chunk_store, services.keyring, services.clock
    )


def upload(services: Services, who: Actor, path: str, data: bytes) -> None:
    services.file_content.upload(
        who,
        space_id=services.spaces.my_files(who).id,
        path=path,
        source=[data],
        modified_at=MODIFIED,
        base_version=None,
        client=CLIENT,
    )


def download(services: Services, who: Actor, path: str) -> bytes:
    space_id = services.spaces.my_files(who).id
    return b"".join(services.file_content.download(who, space_id=space_id, path=path).body)


def delete_for_good(services: Services, who: Actor, path: str) -> None:
    space_id = services.spaces.my_files(who).id
    services.file_tree.delete(who, space_id=space_id, path=path, client=CLIENT)
    (trashed,) = services.file_tree.trash(who, space_id=space_id)
    services.file_tree.purge(who, space_id=space_id, node_id=trashed.id, client=CLIENT)


def manifest_of(services: Services, who: Actor, path: str) -> list[ManifestEntry]:
    space_id = services.spaces.my_files(who).id
    plan = services.file_versions.read_plan(who, space_id=space_id, path=path)
    return [ManifestEntry(row.chunk_id, row.plain_size) for row, _ in plan.chunks]


def test_purged_content_goes_once_the_grace_period_is_over(
    services: Services, user: Actor, clock: FakeClock, blobs: MemoryBackend
) -> None:
    kept, purged = os.urandom(300_000), os.urandom(200_000)
    upload(services, user, "/kept.bin", kept)
    upload(services, user, "/purged.bin", purged)
    purged_chunks = len(manifest_of(services, user, "/purged.bin"))
    delete_for_good(services, user, "/purged.bin")

    early = maintenance(services).collect_garbage(grace=HOUR)
    assert (early.chunks_deleted, early.packs_deleted) == (0, 0)
    assert len(blobs.blobs) == 2

    clock.advance(hours=2)
    report = maintenance(services).collect_garbage(grace=HOUR)
    assert report.chunks_deleted == purged_chunks
    assert report.packs_deleted == 1 and report.orphan_packs_deleted == 0
    assert report.partly_used_packs == 0
    assert len(blobs.blobs) == 1
    assert download(services, user, "/kept.bin") == kept
    assert maintenance(services).check().clean


def test_an_upload_in_flight_and_a_crashed_one_are_left_alone_until_the_grace_period_ends(
    services: Services, user: Actor, clock: FakeClock, blobs: MemoryBackend
) -> None:
    assert user.organization_id is not None
    keys = services.keyring.keys_for(user.organization_id)
    store = services.chunk_store
    # In flight: its pack is written and its chunks recorded, its version not committed yet.
    with store.writer(keys) as writer:
        for chunk in store.prepare(keys, [os.urandom(100_000)]):
            writer.add(chunk.chunk_id, chunk.sealed)
        stored = writer.flush()
    services.file_versions.record_chunks(
        user,
        [
            ChunkRow(s.chunk_id, s.location.pack_id, s.location.offset, s.location.length, 1)
            for s in stored
        ],
    )
    # Crashed: its pack was written, nothing was recorded.
    with store.writer(keys) as writer:
        for chunk in store.prepare(keys, [os.urandom(50_000)]):
            writer.add(chunk.chunk_id, chunk.sealed)
        writer.flush()

    clock.advance(minutes=59)
    report = maintenance(services).collect_garbage(grace=HOUR)
    assert (report.chunks_deleted, report.packs_deleted) == (0, 0)
    assert report.young_packs_kept == 1
    assert len(blobs.blobs) == 2

    clock.advance(minutes=2)
    report = maintenance(services).collect_garbage(grace=HOUR)
    assert report.chunks_deleted == len(stored)
    assert report.packs_deleted == 2 and report.orphan_packs_deleted == 1
    assert blobs.blobs == {}


def test_a_partly_used_pack_is_kept_and_its_dead_bytes_reported(
    services: Services, user: Actor, clock: FakeClock, blobs: MemoryBackend
) -> None:
    assert user.organization_id is not None
    key = services.keyring.keys_for(user.organization_id).chunk_id_key
    used, unused = os.urandom(20_000), os.urandom(30_000)
    services.file_content.put_chunks(
        user, [(chunk_id(key, used), used), (chunk_id(key, unused), unused)]
    )
    assert len(blobs.blobs) == 1
    services.file_versions.commit(
        user,
        space_id=services.spaces.my_files(user).id,
        path="/half.bin",
        manifest=[ManifestEntry(chunk_id(key, used), len(used))],
        modified_at=MODIFIED,
        base_version=None,
        client=CLIENT,
    )
    clock.advance(hours=2)
    report = maintenance(services).collect_garbage(grace=HOUR)
    assert report.chunks_deleted == 1 and report.packs_deleted == 0
    assert report.partly_used_packs == 1
    assert report.reclaimable_bytes == len(unused) + 28  # nonce and tag
    assert download(services, user, "/half.bin") == used


def test_a_commit_racing_the_collector_is_refused_whole_never_torn(
    services: Services,
    user: Actor,
    clock: FakeClock,
    blobs: MemoryBackend,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A commit checks its chunks under the space's write lock, in its own transaction: once
    the collector has removed them, it is refused (the client sends them again), never
    committed over chunks that are gone."""
    data = os.urandom(150_000)
    upload(services, user, "/again.bin", data)
    manifest = manifest_of(services, user, "/again.bin")
    delete_for_good(services, user, "/again.bin")
    clock.advance(hours=2)

    listing = services.chunk_store.pack_ids
    refusals: list[str] = []

    def commit_then_list() -> Iterator[str]:
        # The client asked "which chunks are missing" before the collector ran: none were.
        try:
            services.file_versions.commit(
                user,
                space_id=services.spaces.my_files(user).id,
                path="/again.bin",
                manifest=manifest,
                modified_at=MODIFIED,
                base_version=None,
                client=CLIENT,
            )
        except InvalidInput as refused:
            refusals.append(refused.message)
        return listing()

    monkeypatch.setattr(services.chunk_store, "pack_ids", commit_then_list)
    report = maintenance(services).collect_garbage(grace=HOUR)
    assert refusals == [
        f"{len(set(e.chunk_id for e in manifest))} chunk(s) of this file are not uploaded yet."
    ]
    assert report.chunks_restored == 0 and report.chunks_deleted > 0
    with pytest.raises(NotFound):
        services.file_tree.stat(user, space_id=services.spaces.my_files(user).id, path="/again.bin")
    assert maintenance(services).check().clean
    # Sent again, the file commits and reads back whole.
    upload(services, user, "/again.bin", data)
    assert download(services, user, "/again.bin") == data


def test_fsck_names_the_version_that_needs_a_damaged_chunk(
    services: Services, user: Actor, blobs: MemoryBackend
) -> None:
    upload(services, user, "/fine.txt", os.urandom(40_000))
    before = set(blobs.blobs)
    services.file_tree.create_folder(
        user, space_id=services.spaces.my_files(user).id, path="/Finance", client=CLIENT
    )
    upload(services, user, "/Finance/ledger.xlsx", os.urandom(60_000))
    assert maintenance(services).check().clean
    (ledger_pack,) = set(blobs.blobs) - before
    raw = bytearray(blobs.blobs[ledger_pack])
    raw[100] ^= 0x01
    blobs.blobs[ledger_pack] = bytes(raw)

    report = maintenance(services).check()
    assert not report.clean
    assert [(v.path, v.version, v.current) for v in report.damaged_versions] == [
        ("/Finance/ledger.xlsx", 1, True)
    ]
    assert "authentication tag" in report.damaged_versions[0].describe()
    assert "My Files of user@acme.example.com" in report.damaged_versions[0].describe()


def test_a_chunk_sent_again_by_a_colleague_waits_a_new_grace_period_and_receipts_expire(
    services: Services, user: Actor, clock: FakeClock
) -> None:
    """A member sending content another member stored (and never committed) gets it for their
    commit: the chunk counts as just uploaded. Receipts only bridge an upload and its commit."""
    assert user.organization_id is not None
    colleague = actor(
        services,
        services.accounts.create_user(
            operator(),
            organization_id=user.organization_id,
            email="bob@acme.example.com",
            display_name="Bob Acme",
            password=GOOD_PASSWORD,
            client=CLIENT,
        ),
    )
    data = os.urandom(8_000)  # one chunk
    known = chunk_id(services.keyring.keys_for(user.organization_id).chunk_id_key, data)
    assert services.file_content.put_chunks(user, [(known, data)]) == 1  # never committed
    clock.advance(minutes=50)
    assert services.file_content.put_chunks(colleague, [(known, data)]) == 0
    clock.advance(minutes=20)

    report = maintenance(services).collect_garbage(grace=HOUR)
    assert (report.chunks_deleted, report.receipts_dropped) == (0, 1)  # the first sender's
    assert services.file_versions.missing_chunks(user, [known]) == [known]
    services.file_versions.commit(
        colleague,
        space_id=services.spaces.my_files(colleague).id,
        path="/kept.bin",
        manifest=[ManifestEntry(known, len(data))],
        modified_at=MODIFIED,
        base_version=None,
        client=CLIENT,
    )

    clock.advance(hours=2)
    report = maintenance(services).collect_garbage(grace=HOUR)
    assert (report.chunks_deleted, report.receipts_dropped) == (0, 1)
    # Read through the version now, as the receipt is gone.
    assert services.file_content.get_chunk(colleague, known) == data
    assert download(services, colleague, "/kept.bin") == data
