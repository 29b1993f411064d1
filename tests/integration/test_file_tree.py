"""Files and folders in the service layer: names, moves, copies, trash, versions, conflicts."""

import hashlib
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from sfs.app import Services
from sfs.domain.actor import Actor
from sfs.domain.errors import Conflict, InvalidInput, NotFound, QuotaExceeded
from sfs.metadata.file_models import Chunk, JournalEntry
from sfs.metadata.models import Organization
from sfs.services.files.versions import ChunkRow, ManifestEntry
from tests.world import CLIENT, actor, make_tenant

WHEN = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def fake_chunks(services: Services, who: Actor, *contents: bytes) -> list[ManifestEntry]:
    """Register chunks as stored (the chunk store itself is tested on its own)."""
    ids = [
        hashlib.blake2b(c + str(who.organization_id).encode()).hexdigest()[:64] for c in contents
    ]
    services.file_versions.record_chunks(
        who,
        [
            ChunkRow(
                chunk_id=i, pack_id="p" * 64, offset=n * 100, length=len(c) + 28, plain_size=len(c)
            )
            for n, (i, c) in enumerate(zip(ids, contents, strict=True))
        ],
    )
    return [ManifestEntry(chunk_id=i, size=len(c)) for i, c in zip(ids, contents, strict=True)]


@pytest.fixture
def me(services: Services) -> Actor:
    return actor(services, make_tenant(services, "Acme").user)


@pytest.fixture
def space(services: Services, me: Actor) -> uuid.UUID:
    return services.spaces.my_files(me).id


def commit(
    services: Services,
    me: Actor,
    space: uuid.UUID,
    path: str,
    *contents: bytes,
    base: int | None = None,
):  # type: ignore[no-untyped-def]
    return services.file_versions.commit(
        me,
        space_id=space,
        path=path,
        manifest=fake_chunks(services, me, *contents),
        modified_at=WHEN,
        base_version=base,
        client=CLIENT,
    )


def test_my_files_is_created_once(services: Services, me: Actor) -> None:
    assert services.spaces.my_files(me).id == services.spaces.my_files(me).id
    assert services.spaces.my_files(me).name == "My Files"


def test_folders_and_files_list_folders_first_by_name(
    services: Services, me: Actor, space: uuid.UUID
) -> None:
    services.file_tree.create_folder(me, space_id=space, path="/Projects", client=CLIENT)
    commit(services, me, space, "/b.txt", b"bee")
    commit(services, me, space, "/A.txt", b"a")
    listed = services.file_tree.list_folder(me, space_id=space, path="/")
    assert [(n.name, n.kind) for n in listed] == [
        ("Projects", "folder"),
        ("A.txt", "file"),
        ("b.txt", "file"),
    ]
    assert listed[2].size == 3 and listed[2].version == 1


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/a/../b", "'..' is not allowed"),
        ("/./b", "'.' is not allowed"),
        ("/bad\x01name", "control characters"),
        ("/" + "x" * 256, "at most 255 bytes"),
        ("/" + "/".join(["d" * 200] * 21), "at most 4096 bytes"),
    ],
)
def test_bad_names_are_refused_with_the_reason(
    services: Services, me: Actor, space: uuid.UUID, path: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        services.file_tree.create_folder(me, space_id=space, path=path, client=CLIENT)
    assert services.file_tree.list_folder(me, space_id=space, path="/") == []


def test_names_differing_only_in_case_clash(
    services: Services, me: Actor, space: uuid.UUID
) -> None:
    services.file_tree.create_folder(me, space_id=space, path="/Report", client=CLIENT)
    with pytest.raises(Conflict, match="differing only in case"):
        services.file_tree.create_folder(me, space_id=space, path="/report", client=CLIENT)


def test_nfd_names_are_stored_as_nfc(services: Services, me: Actor, space: uuid.UUID) -> None:
    services.file_tree.create_folder(me, space_id=space, path="/Cafe\u0301", client=CLIENT)
    assert services.file_tree.list_folder(me, space_id=space, path="/")[0].name == "Caf\u00e9"
    assert services.file_tree.stat(me, space_id=space, path="/Caf\u00e9").kind == "folder"


def test_a_stale_base_version_is_a_conflict_and_changes_nothing(
    services: Services, me: Actor, space: uuid.UUID
) -> None:
    commit(services, me, space, "/doc.txt", b"one")
    commit(services, me, space, "/doc.txt", b"two", base=1)
    with pytest.raises(Conflict, match="changed since version 1: it is at version 2"):
        commit(services, me, space, "/doc.txt", b"three", base=1)
    with pytest.raises(Conflict, match="already exists"):
        commit(services, me, space, "/doc.txt", b"three")
    assert services.file_tree.stat(me, space_id=space, path="/doc.txt").version == 2


def test_a_commit_needs_every_chunk_stored_first(
    services: Services, me: Actor, space: uuid.UUID
) -> None:
    with pytest.raises(InvalidInput, match="1 chunk"):
        services.file_versions.commit(
            me,
            space_id=space,
            path="/x.bin",
            manifest=[ManifestEntry(chunk_id="f" * 64, size=10)],
            modified_at=WHEN,
            base_version=None,
            client=CLIENT,
        )
    with pytest.raises(NotFound):
        services.file_tree.stat(me, space_id=space, path="/x.bin")


def test_versions_are_listed_and_restored_as_a_new_version(
    services: Services, me: Actor, space: uuid.UUID
) -> None:
    first = commit(services, me, space, "/doc.txt", b"one")
    commit(services, me, space, "/doc.txt", b"second!", base=1)
    restored = services.file_versions.restore_version(
        me, space_id=space, path="/doc.txt", number=1, client=CLIENT
    )
    assert restored.version == 3 and restored.size == 3
    assert restored.content_digest == first.content_digest
    versions = services.file_versions.list_versions(me, space_id=space, path="/doc.txt")
    assert [(v.number, v.current) for v in versions] == [(3, True), (2, False), (1, False)]


def test_move_rename_and_case_only_rename(services: Services, me: Actor, space: uuid.UUID) -> None:
    services.file_tree.create_folder(me, space_id=space, path="/A", client=CLIENT)
    services.file_tree.create_folder(me, space_id=space, path="/B", client=CLIENT)
    commit(services, me, space, "/A/notes.txt", b"n")
    services.file_tree.move(
        me, space_id=space, source="/A/notes.txt", target="/B/Notes.txt", client=CLIENT
    )
    services.file_tree.move(
        me, space_id=space, source="/B/Notes.txt", target="/B/NOTES.txt", client=CLIENT
    )
    assert [n.name for n in services.file_tree.list_folder(me, space_id=space, path="/B")] == [
        "NOTES.txt"
    ]
    with pytest.raises(Conflict, match="into itself"):
        services.file_tree.move(me, space_id=space, source="/A", target="/A/inner", client=CLIENT)
    with pytest.raises(Conflict, match="already exists"):
        services.file_tree.move(me, space_id=space, source="/A", target="/B", client=CLIENT)


def test_copy_shares_content(services: Services, me: Actor, space: uuid.UUID) -> None:
    services.file_tree.create_folder(me, space_id=space, path="/A", client=CLIENT)
    original = commit(services, me, space, "/A/f.txt", b"x" * 10)
    with services.database.transaction() as session:
        chunks_before = session.scalar(select(func.count()).select_from(Chunk))
    copy = services.file_tree.copy(me, space_id=space, source="/A", target="/A copy", client=CLIENT)
    assert copy.kind == "folder"
    copied = services.file_tree.stat(me, space_id=space, path="/A copy/f.txt")
    assert copied.content_digest == original.content_digest and copied.size == 10
    with services.database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Chunk)) == chunks_before


def test_trash_restore_and_purge(services: Services, me: Actor, space: uuid.UUID) -> None:
    services.file_tree.create_folder(me, space_id=space, path="/A", client=CLIENT)
    commit(services, me, space, "/A/f.txt", b"f")
    services.file_tree.delete(me, space_id=space, path="/A", client=CLIENT)
    with pytest.raises(NotFound):
        services.file_tree.stat(me, space_id=space, path="/A/f.txt")
    trashed = services.file_tree.trash(me, space_id=space)
    assert [t.path for t in trashed] == ["/A"]
    services.file_tree.create_folder(me, space_id=space, path="/A", client=CLIENT)  # name reused
    restored = services.file_tree.restore(me, space_id=space, node_id=trashed[0].id, client=CLIENT)
    assert restored.path == "/A (restored)"
    assert services.file_tree.stat(me, space_id=space, path="/A (restored)/f.txt").size == 1
    services.file_tree.delete(me, space_id=space, path="/A (restored)", client=CLIENT)
    services.file_tree.purge(me, space_id=space, node_id=trashed[0].id, client=CLIENT)
    assert services.file_tree.trash(me, space_id=space) == []


def test_the_journal_numbers_every_change_without_gaps(
    services: Services, me: Actor, space: uuid.UUID
) -> None:
    services.file_tree.create_folder(me, space_id=space, path="/A", client=CLIENT)
    commit(services, me, space, "/A/f.txt", b"f")
    services.file_tree.move(me, space_id=space, source="/A/f.txt", target="/g.txt", client=CLIENT)
    services.file_tree.delete(me, space_id=space, path="/g.txt", client=CLIENT)
    with services.database.transaction() as session:
        entries = session.scalars(
            select(JournalEntry).where(JournalEntry.space_id == space).order_by(JournalEntry.seq)
        ).all()
        rows = [(e.seq, e.operation, e.path, e.old_path) for e in entries]
    assert rows == [
        (1, "create", "/A", None),
        (2, "create", "/A/f.txt", None),
        (3, "move", "/g.txt", "/A/f.txt"),
        (4, "delete", "/g.txt", None),
    ]
    assert services.spaces.my_files(me).journal_seq == 4


def test_another_organisations_space_is_not_found(
    services: Services, me: Actor, space: uuid.UUID
) -> None:
    commit(services, me, space, "/secret.txt", b"s")
    intruder = actor(services, make_tenant(services, "Globex").admin)
    for call in (
        lambda: services.file_tree.list_folder(intruder, space_id=space, path="/"),
        lambda: services.file_tree.stat(intruder, space_id=space, path="/secret.txt"),
        lambda: services.file_tree.delete(
            intruder, space_id=space, path="/secret.txt", client=CLIENT
        ),
        lambda: services.file_versions.read_plan(intruder, space_id=space, path="/secret.txt"),
    ):
        with pytest.raises(NotFound, match="No such space"):
            call()
    colleague_admin = actor(services, make_tenant(services, "Initech").admin)
    with pytest.raises(NotFound):
        services.spaces.resolve_reference(colleague_admin, str(space))


def test_chunk_ids_are_per_organisation(services: Services, me: Actor) -> None:
    entries = fake_chunks(services, me, b"shared content")
    other = actor(services, make_tenant(services, "Globex").user)
    assert services.file_versions.missing_chunks(other, [entries[0].chunk_id]) == [
        entries[0].chunk_id
    ]
    assert services.file_versions.missing_chunks(me, [entries[0].chunk_id]) == []


def test_the_quota_is_checked_before_bytes_are_kept(services: Services, me: Actor) -> None:
    with services.database.transaction() as session:
        org = session.get(Organization, me.organization_id)
        assert org is not None
        org.quota_bytes = 1000
    fake_chunks(services, me, b"x" * 500)
    services.file_versions.check_room(me, 400)
    with pytest.raises(QuotaExceeded, match="may store 1000 bytes"):
        services.file_versions.check_room(me, 600)
