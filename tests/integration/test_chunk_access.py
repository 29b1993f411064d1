"""Knowing a chunk id is not a right to it: chunk reads, "missing" and commits in the services.

Every member holds the organisation's chunk-id key, so a member can compute the id of content
they guess. These tests play member B guessing member A's private content.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from sfs.app import Services
from sfs.domain.actor import Actor, operator
from sfs.domain.errors import InvalidInput, NotFound
from sfs.metadata.file_models import Chunk, ChunkReceipt, JournalEntry
from sfs.protocol.chunk_ids import chunk_id
from sfs.services.files.versions import ChunkRow, ManifestEntry
from tests.support import GOOD_PASSWORD
from tests.world import CLIENT, actor, make_tenant

MODIFIED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
DOOR_CODE = b"door code of the server room: 4711\n"


@dataclass(frozen=True)
class Members:
    a: Actor
    b: Actor


@pytest.fixture
def members(services: Services) -> Members:
    tenant = make_tenant(services, "Acme")
    colleague = services.accounts.create_user(
        operator(),
        organization_id=tenant.organisation.id,
        email="bob@acme.example.com",
        display_name="Bob Acme",
        password=GOOD_PASSWORD,
        client=CLIENT,
    )
    return Members(a=actor(services, tenant.user), b=actor(services, colleague))


def id_of(services: Services, who: Actor, data: bytes) -> str:
    """What a member computes with the key `GET /chunking` gives them."""
    assert who.organization_id is not None
    return chunk_id(services.keyring.keys_for(who.organization_id).chunk_id_key, data)


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


def commit(services: Services, who: Actor, path: str, data: bytes) -> None:
    services.file_versions.commit(
        who,
        space_id=services.spaces.my_files(who).id,
        path=path,
        manifest=[ManifestEntry(id_of(services, who, data), len(data))],
        modified_at=MODIFIED,
        base_version=None,
        client=CLIENT,
    )


def download(services: Services, who: Actor, path: str) -> bytes:
    space_id = services.spaces.my_files(who).id
    return b"".join(services.file_content.download(who, space_id=space_id, path=path).body)


def stored(services: Services) -> tuple[int, int]:
    """(chunk rows, pack blobs): what dedup must not grow."""
    with services.database.transaction() as session:
        rows = session.scalar(select(func.count()).select_from(Chunk)) or 0
    return rows, len(list(services.chunk_store.pack_ids()))


def journal_of(services: Services, who: Actor) -> list[str]:
    space_id = services.spaces.my_files(who).id
    with services.database.transaction() as session:
        return list(
            session.scalars(select(JournalEntry.path).where(JournalEntry.space_id == space_id))
        )


def refusal(call: Callable[..., object], *args: object) -> tuple[type[Exception], str]:
    try:
        call(*args)
    except (NotFound, InvalidInput) as refused:
        return type(refused), refused.message
    raise AssertionError("not refused")


def test_a_member_cannot_confirm_read_or_link_another_members_chunk_by_its_id(
    services: Services, members: Members
) -> None:
    upload(services, members.a, "/door.txt", DOOR_CODE)
    guessed = id_of(services, members.b, DOOR_CODE)
    unknown = id_of(services, members.b, b"content nobody stored")

    assert services.file_versions.missing_chunks(members.b, [guessed, unknown]) == [
        guessed,
        unknown,
    ]
    # Exactly the answer an id nobody stored gets: no oracle.
    one, many = services.file_content.get_chunk, services.file_content.get_chunks
    no_such = (NotFound, "No such chunk.")
    assert refusal(one, members.b, guessed) == refusal(one, members.b, unknown) == no_such
    assert refusal(many, members.b, [guessed]) == refusal(many, members.b, [unknown]) == no_such
    assert refusal(many, members.b, [guessed, unknown]) == no_such
    not_uploaded = (InvalidInput, "1 chunk(s) of this file are not uploaded yet.")
    linked = refusal(commit, services, members.b, "/mine.txt", DOOR_CODE)
    assert linked == refusal(commit, services, members.b, "/x.txt", b"nobody") == not_uploaded
    assert journal_of(services, members.b) == []

    # A's own access is unchanged.
    assert services.file_versions.missing_chunks(members.a, [guessed]) == []
    assert services.file_content.get_chunk(members.a, guessed) == DOOR_CODE
    assert download(services, members.a, "/door.txt") == DOOR_CODE


def test_a_member_who_sends_the_same_bytes_may_use_them_and_they_are_stored_once(
    services: Services, members: Members
) -> None:
    upload(services, members.a, "/door.txt", DOOR_CODE)
    known = id_of(services, members.b, DOOR_CODE)
    before = stored(services)

    forged = refusal(services.file_content.put_chunks, members.b, [(known, b"a guess")])
    assert forged == (InvalidInput, "The chunk's content does not match its id.")
    assert services.file_versions.missing_chunks(members.b, [known]) == [known]

    assert services.file_content.put_chunks(members.b, [(known, DOOR_CODE)]) == 0
    assert stored(services) == before
    assert services.file_versions.missing_chunks(members.b, [known]) == []
    commit(services, members.b, "/also-mine.txt", DOOR_CODE)
    assert download(services, members.b, "/also-mine.txt") == DOOR_CODE
    assert services.file_content.get_chunk(members.b, known) == DOOR_CODE
    assert stored(services) == before
    assert download(services, members.a, "/door.txt") == DOOR_CODE


def test_a_whole_file_upload_of_content_a_colleague_holds_is_stored_once(
    services: Services, members: Members
) -> None:
    report = os.urandom(200_000)
    upload(services, members.a, "/report.bin", report)
    rows, packs = stored(services)
    upload(services, members.b, "/report copy.bin", report)
    assert stored(services)[0] == rows  # no chunk stored twice (the upload's pack may be empty)
    assert download(services, members.b, "/report copy.bin") == report
    assert packs <= stored(services)[1] <= packs + 1


def test_a_chunk_is_readable_through_any_version_of_the_members_own_files(
    services: Services, members: Members
) -> None:
    """Older versions and the trash are the member's to read, so their chunks are too."""
    upload(services, members.b, "/notes.txt", b"first draft\n")
    space_id = services.spaces.my_files(members.b).id
    services.file_content.upload(
        members.b,
        space_id=space_id,
        path="/notes.txt",
        source=[b"second draft\n"],
        modified_at=MODIFIED,
        base_version=1,
        client=CLIENT,
    )
    services.file_tree.delete(members.b, space_id=space_id, path="/notes.txt", client=CLIENT)
    first = id_of(services, members.b, b"first draft\n")
    assert services.file_content.get_chunk(members.b, first) == b"first draft\n"
    assert services.file_versions.missing_chunks(members.a, [first]) == [first]


def test_another_organisations_ids_stay_unknown(services: Services, members: Members) -> None:
    upload(services, members.a, "/door.txt", DOOR_CODE)
    known = id_of(services, members.a, DOOR_CODE)
    outsider = actor(services, make_tenant(services, "Globex").user)
    assert services.file_versions.missing_chunks(outsider, [known]) == [known]
    assert refusal(services.file_content.get_chunk, outsider, known) == (
        NotFound,
        "No such chunk.",
    )


def test_fetching_chunks_checks_every_id_first_then_reads_as_it_goes(
    services: Services, members: Members, monkeypatch: pytest.MonkeyPatch
) -> None:
    pieces = [os.urandom(8_000) for _ in range(3)]  # one chunk each
    for n, piece in enumerate(pieces):
        upload(services, members.a, f"/p{n}.bin", piece)
    ids = [id_of(services, members.a, piece) for piece in pieces]
    reads: list[str] = []
    backend = services.chunk_store.backend
    original = backend.get

    def counting_get(name: str, offset: int = 0, length: int | None = None) -> bytes:
        reads.append(name)
        return original(name, offset, length)

    monkeypatch.setattr(backend, "get", counting_get)
    # B may read none of them: refused before a byte is read.
    refused = refusal(services.file_content.get_chunks, members.b, [ids[0], ids[1]])
    assert refused == (NotFound, "No such chunk.") and reads == []

    answer: Iterator[tuple[str, bytes]] = iter(services.file_content.get_chunks(members.a, ids))
    assert reads == []  # nothing read (or held in memory) before the answer is consumed
    assert next(answer) == (ids[0], pieces[0]) and len(reads) == 1
    assert list(answer) == [(ids[1], pieces[1]), (ids[2], pieces[2])]


def test_a_first_upload_names_its_uploader_on_the_chunk_row_and_writes_no_receipt(
    services: Services, members: Members
) -> None:
    """One row per chunk an upload stores, not two: the row is the uploader's receipt, and it
    is theirs alone (a colleague with the id still has to send the bytes)."""
    data = os.urandom(9_000)
    known = id_of(services, members.a, data)
    assert services.file_content.put_chunks(members.a, [(known, data)]) == 1
    with services.database.transaction() as session:
        row = session.scalars(select(Chunk)).one()
        assert (row.uploaded_by, row.uploaded_at) == (members.a.user_id, row.created_at)
        assert session.scalar(select(func.count()).select_from(ChunkReceipt)) == 0
    assert services.file_versions.missing_chunks(members.a, [known]) == []
    assert services.file_versions.missing_chunks(members.b, [known]) == [known]
    assert refusal(commit, services, members.b, "/theirs.bin", data)[0] is InvalidInput
    commit(services, members.a, "/mine.bin", data)
    assert download(services, members.a, "/mine.bin") == data


def test_an_upload_that_raced_another_for_the_same_chunk_gets_a_receipt(
    services: Services, members: Members
) -> None:
    """B checked before A's row existed and stored the chunk too: B's row is not kept (A's
    location and uploader stay), so B's right to it is a receipt."""
    data = os.urandom(9_000)
    known = id_of(services, members.a, data)
    services.file_content.put_chunks(members.a, [(known, data)])
    with services.database.transaction() as session:
        location = session.scalars(select(Chunk)).one()
        row = ChunkRow(known, "0" * 32, 0, location.length, location.plain_size)
    services.file_versions.record_chunks(members.b, [row])  # as B's racing upload would
    with services.database.transaction() as session:
        kept = session.scalars(select(Chunk)).one()
        assert (kept.pack_id, kept.uploaded_by) == (location.pack_id, members.a.user_id)
        receipts = session.scalars(select(ChunkReceipt)).all()
        assert [(r.chunk_id, r.user_id) for r in receipts] == [(known, members.b.user_id)]
    commit(services, members.b, "/theirs.bin", data)
    assert download(services, members.b, "/theirs.bin") == data
