"""The chunk sender keeps a bounded number of batches on their way, and loses no failure."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

import pytest

from sfs.client.api import ApiError, Chunking
from sfs.client.sync.report import NoProgress, Report
from sfs.client.sync.sender import IN_FLIGHT, ChunkSender
from sfs.protocol.chunking import CHUNK_SIZES


class HeldServer:
    """Takes each batch only when the test lets it; counts the batches being sent at once."""

    def __init__(self, failing: int | None = None) -> None:
        self.lock = threading.Lock()
        self.sending = 0
        self.most = 0
        self.stored: list[str] = []
        self.released = [threading.Event() for _ in range(20)]  # batch n goes when set
        self.failing = failing
        self.batches = 0

    def release(self, number: int) -> None:
        self.released[number].set()

    def missing_chunks(self, chunk_ids: Iterable[str]) -> set[str]:
        return set(chunk_ids)

    def put_chunks(self, chunks: Sequence[tuple[str, bytes]]) -> None:
        with self.lock:
            self.sending += 1
            self.most = max(self.most, self.sending)
            number, self.batches = self.batches, self.batches + 1
        self.released[number].wait()
        with self.lock:
            self.sending -= 1
            if number == self.failing:
                raise ApiError("no room", status=507, code="insufficient_storage")
            self.stored += [chunk_id for chunk_id, _ in chunks]


class Side:
    def __init__(self, server: HeldServer) -> None:
        self.api = server
        self.progress = NoProgress()


def sender_for(server: HeldServer) -> ChunkSender:
    sender = ChunkSender(Side(server))
    sender.start_pass(Chunking(CHUNK_SIZES, b"k" * 32, 0, batch_max_bytes=4 * 1024 * 1024))
    return sender


def send_batches(sender: ChunkSender, server: HeldServer, count: int) -> None:
    for n in range(count):
        sender.queue(f"{n:064x}", b"x" * 10, Report())
        # The oldest batch on its way is let through when one more would be too many.
        if n >= IN_FLIGHT:
            server.release(n - IN_FLIGHT)
        sender.flush(Report())


def test_batches_go_several_at_once_but_never_more_than_in_flight() -> None:
    server = HeldServer()
    sender = sender_for(server)
    send_batches(sender, server, 6)
    for n in range(6 - IN_FLIGHT, 6):
        server.release(n)
    sender.wait()
    assert sorted(server.stored) == [f"{n:064x}" for n in range(6)]
    assert server.most == IN_FLIGHT > 1


def test_a_failed_batch_is_raised_by_wait_after_the_others_have_ended() -> None:
    server = HeldServer(failing=0)
    sender = sender_for(server)
    sender.queue("a" * 64, b"x", Report())
    sender.flush(Report())
    sender.queue("b" * 64, b"y", Report())
    sender.flush(Report())
    server.release(1)
    server.release(0)
    with pytest.raises(ApiError, match="no room"):
        sender.wait()
    assert server.stored == ["b" * 64] and server.sending == 0
    sender.wait()  # nothing is left on its way
