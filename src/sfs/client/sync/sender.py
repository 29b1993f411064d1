"""The chunk sender: chunks queued by the uploads go to the server in batches, on a thread.

Small files share batches (few round trips), a big file streams through in batches of its own;
before each batch one question asks which chunks the server lacks, and only those go. The batch
is sent by a thread of its own while the pass reads and cuts what comes next, `IN_FLIGHT`
batches at most. This is the one place with a thread, kept apart from the uploads' bookkeeping
(manifests, commits) as Syncthing keeps its sender apart from the model. `sfs put` sends its
file through it too (`sfs.client.transfer`): one way for chunks to reach the server.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from typing import Protocol, TypeVar

from sfs.client.api import ApiError, Chunking
from sfs.client.sync.report import PassProgress, Report
from sfs.protocol.chunk_frames import OLD_BATCH_MAX_BYTES

FRAME_OVERHEAD = 36  # id and length before each chunk in a batch
BATCH_BYTES = 16 * 1024 * 1024  # chunks per batch, when the server takes that much
BATCH_MARGIN = 2 * 1024 * 1024  # a batch ends past BATCH_BYTES: its last chunk, the frames
BATCH_CHUNKS = 2000
# Batches on their way at once. With one, the server sealed, wrote and fsynced a batch while
# nothing arrived; with two it receives the next meanwhile: a 512 MiB upload went from 97 to
# 113 MiB/s for the same CPU, and the client's peak RSS from ~88 to ~104 MiB.
IN_FLIGHT = 2
SENT_MEMORY = 20_000  # chunk ids known to be on the server, remembered within a pass

T = TypeVar("T")


class ChunkServer(Protocol):
    def missing_chunks(self, chunk_ids: Iterable[str]) -> set[str]: ...
    def put_chunks(self, chunks: Sequence[tuple[str, bytes]]) -> None: ...


class SendingSide(Protocol):
    """Where chunks go and who is told: a sync pass's `Workspace`, or one `sfs put`."""

    @property
    def api(self) -> ChunkServer: ...
    @property
    def progress(self) -> PassProgress: ...


class ChunkSender:
    def __init__(self, side: SendingSide) -> None:
        self._ws = side  # its server and progress, read as it goes
        # Chunks waiting to be sent in the current pass, and those sent (or known) already.
        self._outbox: list[tuple[str, bytes]] = []
        self._outbox_bytes = 0
        self._sent: set[str] = set()
        self._in_flight: deque[Future[None]] = deque()
        self._batch_bytes = batch_bytes(OLD_BATCH_MAX_BYTES)

    def close(self) -> None:
        self.end_pass()

    def start_pass(self, chunking: Chunking) -> None:
        self._outbox, self._outbox_bytes, self._sent = [], 0, set()
        self._batch_bytes = batch_bytes(chunking.batch_max_bytes)

    def known(self, chunk_ids: list[str]) -> None:
        """Chunks known to be on the server already (a replaced version's): never asked about."""
        self._sent.update(chunk_ids)

    def queue(self, piece_id: str, piece: bytes, report: Report) -> None:
        """One chunk of a file being uploaded; a full queue is flushed."""
        if piece_id in self._sent:
            self._ws.progress.advance(size=len(piece))
            return
        self._outbox.append((piece_id, piece))
        self._outbox_bytes += len(piece)
        if self._outbox_bytes >= self._batch_bytes or len(self._outbox) >= BATCH_CHUNKS:
            self.flush(report)

    def flush(self, report: Report) -> None:
        """Send the queued chunks the server lacks: one question, one batch."""
        if not self._outbox:
            return
        # Sent or failed, the queue is done with: a failed batch's files fail their commits.
        queued, self._outbox, self._outbox_bytes = self._outbox, [], 0
        unique = dict(queued)
        missing = self._ws.api.missing_chunks(unique)
        report.bytes_sent_total += len(json.dumps({"chunk_ids": list(unique)}))
        batch = [(cid, data) for cid, data in unique.items() if cid in missing]
        report.chunks_reused += len(unique) - len(batch)
        if batch:
            # Sent by a thread of its own while this one reads and cuts what comes next, at most
            # `IN_FLIGHT` batches at once: memory holds that many and one more, and an error
            # surfaces up to that many batches later.
            while len(self._in_flight) >= IN_FLIGHT:
                self._in_flight.popleft().result()
            api = self._ws.api
            self._in_flight.append(in_background(lambda: api.put_chunks(batch)))
            content = sum(len(data) for _, data in batch)
            report.bytes_sent += content
            report.chunks_sent += len(batch)
            report.bytes_sent_total += content + FRAME_OVERHEAD * len(batch)
        if len(self._sent) > SENT_MEMORY:  # a cache, not a record: the server knows them now
            self._sent.clear()
        self._sent.update(unique)
        self._ws.progress.advance(size=sum(len(data) for _, data in queued))

    def wait(self) -> None:
        """Until the batches in flight are stored; the first failure is raised here, once all
        have ended (none is left running behind the caller's back)."""
        in_flight, self._in_flight = self._in_flight, deque()
        failure: BaseException | None = None
        for batch in in_flight:
            problem = batch.exception()
            failure = failure or problem
        if failure is not None:
            raise failure

    def end_pass(self) -> None:
        """The pass is over: if it was cut short with batches in flight, let them finish (a
        pass that ends normally has waited for them already)."""
        if self._in_flight:
            with contextlib.suppress(ApiError):
                self.wait()

    def abandon(self) -> None:
        """The client is stopping (Ctrl-C): the batch in flight is not waited for. Its chunks
        belong to no commit yet, so the server keeps them for the next pass or collects them."""
        self._in_flight = deque()


def batch_bytes(server_max: int) -> int:
    """How many bytes of chunks to send per batch to a server that takes `server_max`: fewer,
    bigger batches cost it less (an old server takes 8 MiB: 6 MiB batches)."""
    return max(min(BATCH_BYTES, server_max - BATCH_MARGIN), 1024 * 1024)


def in_background(work: Callable[[], T], name: str = "sfs-send") -> Future[T]:
    """Runs `work` on a daemon thread. A ThreadPoolExecutor's workers are joined when the
    interpreter exits, so a stopped client would wait up to a request timeout for its batch."""
    future: Future[T] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            result = work()
        except BaseException as exc:  # handed to whoever waits for the work
            future.set_exception(exc)
        else:
            future.set_result(result)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future
