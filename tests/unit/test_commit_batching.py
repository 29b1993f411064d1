"""Group commit: single-file commits waiting at once for the same caller and space go in one
batch, each with its own outcome; the same path twice never shares a batch; a failed batch
fails every commit in it, and no one else's."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from sfs.blobs.chunk_store import PreparedChunk
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.errors import Conflict, SfsError
from sfs.domain.roles import Role
from sfs.services.files.commit_batching import CommitBatcher, Unwritten
from sfs.services.files.nodes import FILE, NodeView

ACTOR = Actor(uuid.uuid4(), "ann@example.com", "Ann", Role.USER, uuid.uuid4())
OTHER = Actor(uuid.uuid4(), "bob@example.com", "Bob", Role.USER, ACTOR.organization_id)
SPACE = uuid.uuid4()
CLIENT = ClientInfo("127.0.0.1", "test")


def view(path: str) -> NodeView:
    return NodeView(uuid.uuid4(), path[1:], path, FILE, 1, datetime.now(UTC), 1, "digest")


@dataclass
class FakeStore:
    """Records each batch; the first one waits until the test lets it go."""

    batches: list[tuple[Actor, list[str], list[str]]] = field(default_factory=list)
    first_may_finish: threading.Event = field(default_factory=threading.Event)
    refuse: set[str] = field(default_factory=set)
    fail_with: Exception | None = None

    def commit_many(
        self,
        actor: Actor,
        space_id: uuid.UUID,
        client: ClientInfo,
        requests: list[str],
        chunks: list[str],
    ) -> list[NodeView | SfsError]:
        assert space_id == SPACE and client == CLIENT
        self.batches.append((actor, list(requests), list(chunks)))
        if len(self.batches) == 1:
            assert self.first_may_finish.wait(30)
        if self.fail_with is not None and len(self.batches) > 1:
            raise self.fail_with
        return [Conflict(f"{r} refused") if r in self.refuse else view(r) for r in requests]


@pytest.fixture
def store() -> Iterator[FakeStore]:
    fake = FakeStore()
    yield fake
    fake.first_may_finish.set()


def run_together(
    batcher: CommitBatcher[str, str], store: FakeStore, calls: list[tuple[Actor, str]]
) -> dict[str, object]:
    """The first call takes its turn and holds it; the rest queue behind it; then all finish."""
    outcomes: dict[str, object] = {}

    def commit(actor: Actor, path: str) -> None:
        try:
            outcomes[path] = batcher.commit(actor, SPACE, CLIENT, path, [f"chunk-of-{path}"])
        except Exception as failure:  # what the caller would see
            outcomes[path] = failure

    threads = [threading.Thread(target=commit, args=call) for call in calls]
    threads[0].start()
    while not store.batches:  # the first has its turn
        threading.Event().wait(0.001)
    for thread in threads[1:]:
        thread.start()
    while batcher.waiting() < len(calls) - 1:
        threading.Event().wait(0.001)
    store.first_may_finish.set()
    for thread in threads:
        thread.join(30)
    return outcomes


def test_commits_waiting_together_go_in_one_batch_each_with_its_own_outcome(
    store: FakeStore,
) -> None:
    store.refuse = {"/b"}
    batcher: CommitBatcher[str, str] = CommitBatcher(store.commit_many, lambda path: path)
    outcomes = run_together(batcher, store, [(ACTOR, "/first"), (ACTOR, "/a"), (ACTOR, "/b")])
    assert [sorted(requests) for _, requests, _ in store.batches] == [["/first"], ["/a", "/b"]]
    assert sorted(store.batches[1][2]) == ["chunk-of-/a", "chunk-of-/b"]  # their fresh chunks
    assert isinstance(outcomes["/a"], NodeView) and outcomes["/a"].path == "/a"
    assert isinstance(outcomes["/b"], Conflict)  # refused on its own, /a stands
    assert batcher.waiting() == 0


def test_the_same_path_twice_never_shares_a_batch(store: FakeStore) -> None:
    batcher: CommitBatcher[str, str] = CommitBatcher(store.commit_many, lambda path: path)
    run_together(batcher, store, [(ACTOR, "/first"), (ACTOR, "/x"), (ACTOR, "/X")])
    later = [requests for _, requests, _ in store.batches[1:]]
    assert sorted(later) == [["/X"], ["/x"]]  # names differing in case are the same file


def test_another_callers_commit_neither_joins_nor_waits_for_the_batch(store: FakeStore) -> None:
    batcher: CommitBatcher[str, str] = CommitBatcher(store.commit_many, lambda path: path)
    first = threading.Thread(
        target=batcher.commit, args=(ACTOR, SPACE, CLIENT, "/first", ["chunk"])
    )
    first.start()
    while not store.batches:  # the first has its turn, and holds it
        threading.Event().wait(0.001)
    theirs = batcher.commit(OTHER, SPACE, CLIENT, "/theirs", [])
    assert isinstance(theirs, NodeView) and theirs.path == "/theirs" and first.is_alive()
    assert store.batches[1] == (OTHER, ["/theirs"], [])
    store.first_may_finish.set()
    first.join(30)


def test_a_failed_batch_fails_every_commit_in_it(store: FakeStore) -> None:
    store.fail_with = RuntimeError("database gone")
    batcher: CommitBatcher[str, str] = CommitBatcher(store.commit_many, lambda path: path)
    outcomes = run_together(batcher, store, [(ACTOR, "/first"), (ACTOR, "/a"), (ACTOR, "/b")])
    assert isinstance(outcomes["/first"], NodeView)  # its own batch went through
    assert outcomes["/a"] is store.fail_with and outcomes["/b"] is store.fail_with
    assert batcher.waiting() == 0


def test_unwritten_chunks_of_a_batch_are_written_together_before_its_transaction(
    store: FakeStore,
) -> None:
    """Small files' chunks, sealed but in no pack yet: the batch writes them in one call (one
    pack, one fsync) and only then commits, indexing what the write answered."""
    writes: list[list[str]] = []

    def write(chunks: Sequence[PreparedChunk]) -> list[str]:
        assert len(store.batches) == 1  # before this batch's commit_many
        writes.append([chunk.chunk_id for chunk in chunks])
        return [f"stored-{chunk.chunk_id}" for chunk in chunks]

    def sealed(name: str) -> PreparedChunk:
        return PreparedChunk(name, 1, b"sealed")

    batcher: CommitBatcher[str, str] = CommitBatcher(store.commit_many, lambda path: path)
    first = threading.Thread(target=batcher.commit, args=(ACTOR, SPACE, CLIENT, "/first", []))
    first.start()
    while not store.batches:  # the first has its turn, and holds it
        threading.Event().wait(0.001)
    outcomes: dict[str, object] = {}

    def commit(path: str, unwritten: Unwritten[str] | None) -> None:
        outcomes[path] = batcher.commit(ACTOR, SPACE, CLIENT, path, [], unwritten)

    threads = [
        threading.Thread(
            target=commit, args=("/a", Unwritten([sealed("a1"), sealed("a2")], write))
        ),
        threading.Thread(target=commit, args=("/b", Unwritten([sealed("b1")], write))),
        threading.Thread(target=commit, args=("/c", None)),
    ]
    for thread in threads:
        thread.start()
    while batcher.waiting() < 3:
        threading.Event().wait(0.001)
    store.first_may_finish.set()
    for thread in [first, *threads]:
        thread.join(30)

    assert [sorted(chunks) for chunks in writes] == [["a1", "a2", "b1"]]
    assert sorted(store.batches[1][1]) == ["/a", "/b", "/c"]
    assert sorted(store.batches[1][2]) == ["stored-a1", "stored-a2", "stored-b1"]
    assert all(isinstance(outcomes[path], NodeView) for path in ("/a", "/b", "/c"))


def test_a_failed_write_of_unwritten_chunks_commits_nothing(store: FakeStore) -> None:
    def write(chunks: Sequence[PreparedChunk]) -> list[str]:
        raise OSError("disk full")

    batcher: CommitBatcher[str, str] = CommitBatcher(store.commit_many, lambda path: path)
    store.first_may_finish.set()
    with pytest.raises(OSError, match="disk full"):
        batcher.commit(
            ACTOR, SPACE, CLIENT, "/a", [], Unwritten([PreparedChunk("a1", 1, b"x")], write)
        )
    assert store.batches == []
    assert batcher.waiting() == 0
