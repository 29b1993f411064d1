"""A file version's chunks, in order, as a stream: the chunks the caller holds already are taken
from it, the rest fetched from the server in batches, the next batch on its way while the last
is written.

A batch is bounded in chunks and in bytes, and one is fetched ahead at most, so memory holds two
batches whatever the file's size. Both downloads of a big file use it: a sync pass's (which
finds chunks in the folder's other files) and `sfs get`'s (`sfs.client.transfer`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from typing import Protocol

from sfs.client.api import ApiError, ManifestEntry
from sfs.client.sync.report import PassProgress, Report
from sfs.client.sync.sender import in_background

FETCH_BATCH = 256  # chunks per request
FETCH_BATCH_BYTES = 4 * 1024 * 1024  # and at most about this many bytes


class ChunkFetching(Protocol):
    def fetch_chunks(self, chunk_ids: Sequence[str]) -> dict[str, bytes]: ...


LocalChunk = Callable[[ManifestEntry], bytes | None]


def chunks_in_order(
    api: ChunkFetching,
    manifest: Sequence[ManifestEntry],
    report: Report,
    progress: PassProgress,
    local: LocalChunk | None = None,
) -> Iterator[bytes]:
    """Each chunk of `manifest`, in order: from `local` when it has it, else fetched."""
    ahead: tuple[list[ManifestEntry], dict[str, bytes], Future[dict[str, bytes]] | None] | None
    ahead = None
    for group in _groups(manifest):
        found: dict[str, bytes] = {}
        if local is not None:
            for entry in group:
                if entry.chunk_id not in found and (data := local(entry)) is not None:
                    found[entry.chunk_id] = data
                    report.chunks_reused += 1
        wanted = list(dict.fromkeys(e.chunk_id for e in group if e.chunk_id not in found))
        fetching = in_background(_fetch(api, wanted), "sfs-fetch") if wanted else None
        if ahead is not None:
            yield from _written(*ahead, report, progress)
        ahead = (group, found, fetching)
    if ahead is not None:
        yield from _written(*ahead, report, progress)


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
