"""A file version's chunks, in order, as a stream: the chunks the caller holds already are taken
from it, the rest fetched from the server in batches, the next ones on their way while one is
written.

A batch is bounded in chunks and in bytes, and `FETCH_AHEAD` are fetched ahead at most, so
memory holds that many batches and one more whatever the file's size. Both downloads of a big
file use it: a sync pass's (which finds chunks in the folder's other files) and `sfs get`'s
(`sfs.client.transfer`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from typing import Protocol

from sfs.client.api import ApiError, ManifestEntry
from sfs.client.sync.report import PassProgress, Report
from sfs.client.sync.sender import in_background

FETCH_BATCH = 256  # chunks per request
FETCH_BATCH_BYTES = 4 * 1024 * 1024  # and at most about this many bytes
# Batches on their way while one is written. Two (the next request asked before the client has
# written the batch before it) fetched 1 GiB no faster on 2 busy cores and raised the client's
# peak RSS by 10-16 MiB, towards issue 15's 100 MiB.
FETCH_AHEAD = 1


class ChunkFetching(Protocol):
    def fetch_chunks(self, chunk_ids: Sequence[str]) -> dict[str, bytes]: ...


# The chunks of a batch the caller holds already, by id (those it does not hold are fetched).
LocalChunks = Callable[[list[ManifestEntry]], dict[str, bytes]]


def chunks_in_order(
    api: ChunkFetching,
    manifest: Sequence[ManifestEntry],
    report: Report,
    progress: PassProgress,
    local: LocalChunks | None = None,
    *,
    ahead: int = FETCH_AHEAD,
) -> Iterator[bytes]:
    """Each chunk of `manifest`, in order: from `local` when it has it, else fetched, up to
    `ahead` batches on their way while one is written."""
    waiting: deque[tuple[list[ManifestEntry], dict[str, bytes], Future[dict[str, bytes]] | None]]
    waiting = deque()
    for group in _groups(manifest):
        found = local(group) if local is not None else {}
        report.chunks_reused += len(found)
        wanted = list(dict.fromkeys(e.chunk_id for e in group if e.chunk_id not in found))
        fetching = in_background(_fetch(api, wanted), "sfs-fetch") if wanted else None
        waiting.append((group, found, fetching))
        if len(waiting) > ahead:
            yield from _written(*waiting.popleft(), report, progress)
    while waiting:
        yield from _written(*waiting.popleft(), report, progress)


def _fetch(api: ChunkFetching, wanted: list[str]) -> Callable[[], dict[str, bytes]]:
    return lambda: api.fetch_chunks(wanted)


def _groups(manifest: Sequence[ManifestEntry]) -> Iterator[list[ManifestEntry]]:
    group: list[ManifestEntry] = []
    size = 0
    for entry in manifest:
        if group and (len(group) >= FETCH_BATCH or size + entry.size > FETCH_BATCH_BYTES):
            yield group
            group, size = [], 0
        group.append(entry)
        size += entry.size
    if group:
        yield group


def _written(
    group: list[ManifestEntry],
    found: dict[str, bytes],
    fetching: Future[dict[str, bytes]] | None,
    report: Report,
    progress: PassProgress,
) -> Iterator[bytes]:
    if fetching is not None:
        fetched = fetching.result()
        report.bytes_received += sum(len(v) for v in fetched.values())
        found.update(fetched)
    for entry in group:
        data = found.get(entry.chunk_id)
        if data is None or len(data) != entry.size:
            raise ApiError(
                f"the server's answer lacks chunk {entry.chunk_id} (or sent it cut short)",
                status=502,
                code="bad_response",
            )
        progress.advance(size=entry.size)
        yield data
