"""Rows written and ids looked up a whole column at a time read back exactly as the ORM wrote
them (UUIDs, aware datetimes, big offsets), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Table, select

from sfs.app import Services
from sfs.metadata.file_models import Chunk, ChunkReceipt
from sfs.services.files.bulk_rows import among, insert_rows
from tests.world import actor, make_tenant

WHEN = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
CHUNKS = cast(Table, Chunk.__table__)


def chunk_ids(count: int, start: int = 0) -> list[str]:
    return [f"{n:064x}" for n in range(start, start + count)]


def test_rows_written_by_column_read_back_as_the_orm_wrote_them(services: Services) -> None:
    organisation = uuid.uuid4()
    ids = chunk_ids(3000)  # more than one lookup batch
    with services.database.transaction() as session:
        insert_rows(
            session,
            CHUNKS,
            {"organization_id": organisation, "created_at": WHEN},
            {
                "chunk_id": ids,
                "pack_id": ["ab" * 16] * len(ids),
                "offset": [n * 5_000_000_000 for n in range(len(ids))],  # past 32 bits
                "length": [n + 28 for n in range(len(ids))],
                "plain_size": list(range(len(ids))),
            },
            conflict=["organization_id", "chunk_id"],
        )
    with services.database.transaction() as session:
        rows = session.scalars(select(Chunk).order_by(Chunk.chunk_id)).all()
        found = set(
            session.scalars(select(Chunk.chunk_id).where(among(session, Chunk.chunk_id, ids[::7])))
        )
    assert [r.chunk_id for r in rows] == ids
    last = rows[-1]
    assert last.organization_id == organisation
    assert last.created_at == WHEN
    assert (last.offset, last.length, last.plain_size) == (2999 * 5_000_000_000, 3027, 2999)
    assert found == set(ids[::7])


def test_a_known_key_is_left_alone_or_refreshed_and_nothing_else_changes(
    services: Services,
) -> None:
    tenant = make_tenant(services, "Acme")
    who = actor(services, tenant.user)
    table = cast(Table, ChunkReceipt.__table__)
    shared = {"organization_id": who.organization_id, "user_id": who.user_id}
    with services.database.transaction() as session:
        insert_rows(session, table, {**shared, "received_at": WHEN}, {"chunk_id": chunk_ids(2)})
    later = WHEN + timedelta(days=1)
    with services.database.transaction() as session:
        insert_rows(
            session,
            table,
            {**shared, "received_at": later},
            {"chunk_id": chunk_ids(2, start=1)},  # one known, one new
            conflict=["organization_id", "chunk_id", "user_id"],
        )
    with services.database.transaction() as session:
        kept = {
            c: t
            for c, t in session.execute(select(ChunkReceipt.chunk_id, ChunkReceipt.received_at))
        }
    assert kept == dict(zip(chunk_ids(3), [WHEN, WHEN, later], strict=True))
    with services.database.transaction() as session:
        insert_rows(
            session,
            table,
            {**shared, "received_at": later},
            {"chunk_id": chunk_ids(1)},
            conflict=["organization_id", "chunk_id", "user_id"],
            refresh=["received_at"],
        )
    with services.database.transaction() as session:
        kept = {
            c: t
            for c, t in session.execute(select(ChunkReceipt.chunk_id, ChunkReceipt.received_at))
        }
    assert kept == dict(zip(chunk_ids(3), [later, WHEN, later], strict=True))


def test_an_empty_insert_or_lookup_is_harmless(services: Services) -> None:
    with services.database.transaction() as session:
        insert_rows(session, CHUNKS, {"organization_id": uuid.uuid4()}, {"chunk_id": []})
        assert session.scalars(select(Chunk).where(among(session, Chunk.chunk_id, []))).all() == []
