"""Small files uploaded at the same moment by the same caller share one pack (one fsync): the
commit that takes its turn writes the chunks of those waiting behind it too, then commits all
of them; each file reads back whole, and a file alone, or a larger one, still gets a pack of
its own."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from sfs.app import Services
from sfs.domain.actor import Actor
from sfs.domain.errors import SfsError
from sfs.services.files.content_upload import SHARED_PACK_MAX
from sfs.services.files.nodes import NodeView
from sfs.services.files.versions import ChunkRow, CommitRequest
from tests.world import CLIENT, actor, make_tenant

MODIFIED = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)


@pytest.fixture
def me(services: Services) -> Actor:
    return actor(services, make_tenant(services, "Acme").user)


def upload(services: Services, me: Actor, path: str, data: bytes) -> NodeView:
    return services.file_content.upload(
        me,
        space_id=services.spaces.my_files(me).id,
        path=path,
        source=[data],
        modified_at=MODIFIED,
        base_version=None,
        client=CLIENT,
    )


def read(services: Services, me: Actor, path: str) -> bytes:
    space_id = services.spaces.my_files(me).id
    return b"".join(services.file_content.download(me, space_id=space_id, path=path).body)


def packs(services: Services) -> set[str]:
    return set(services.chunk_store.pack_ids())


def test_small_files_committed_together_share_one_pack(
    services: Services, me: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    versions = services.file_versions
    commit_many = versions.commit_many
    first_in, first_may_go = threading.Event(), threading.Event()

    def held_first(
        actor: Actor,
        *,
        space_id: uuid.UUID,
        requests: Sequence[CommitRequest],
        client: object,
        fresh_chunks: Sequence[ChunkRow] = (),
    ) -> list[NodeView | SfsError]:
        if not first_in.is_set():  # the first commit holds its turn until the rest queue
            first_in.set()
            assert first_may_go.wait(30)
        return commit_many(
            actor,
            space_id=space_id,
            requests=requests,
            client=client,  # type: ignore[arg-type]
            fresh_chunks=fresh_chunks,
        )

    monkeypatch.setattr(versions, "commit_many", held_first)
    contents = {f"/f{n}.bin": os.urandom(4096) for n in range(5)}
    contents["/big.bin"] = os.urandom(2 * SHARED_PACK_MAX)  # waits with them, packs its own
    before = packs(services)
    threads = [
        threading.Thread(target=upload, args=(services, me, path, data))
        for path, data in contents.items()
    ]
    threads[0].start()
    assert first_in.wait(30)
    for thread in threads[1:]:
        thread.start()
    while versions._batcher.waiting() < len(threads) - 1:
        threading.Event().wait(0.001)
    first_may_go.set()
    for thread in threads:
        thread.join(30)

    # The first file's, one for the four small ones after it, the big file's own.
    assert len(packs(services) - before) == 3
    for path, data in contents.items():
        assert read(services, me, path) == data


def test_a_small_file_alone_gets_its_own_pack_and_a_repeated_one_none(
    services: Services, me: Actor
) -> None:
    data = os.urandom(4096)
    before = packs(services)
    upload(services, me, "/one.bin", data)
    after = packs(services)
    assert len(after - before) == 1
    upload(services, me, "/same.bin", data)  # content the organisation holds: no new pack
    assert packs(services) == after
    assert read(services, me, "/same.bin") == data
