"""A big file's chunks fetched in batches: in order, several batches on their way, bounded."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future

import pytest

from sfs.client.api import ManifestEntry
from sfs.client.sync import fetcher
from sfs.client.sync.report import NoProgress, Report


class Server:
    def __init__(self, content: dict[str, bytes]) -> None:
        self.content = content

    def fetch_chunks(self, chunk_ids: Sequence[str]) -> dict[str, bytes]:
        return {chunk_id: self.content[chunk_id] for chunk_id in chunk_ids}


def manifest_of(count: int) -> tuple[list[ManifestEntry], dict[str, bytes]]:
    content = {f"{n:064x}": bytes([n % 256]) * 10 for n in range(count)}
    return [ManifestEntry(chunk_id, 10) for chunk_id in content], content


@pytest.mark.parametrize("ahead", [1, 2, 3])
def test_batches_are_asked_for_ahead_of_the_one_written_and_no_further(
    monkeypatch: pytest.MonkeyPatch, ahead: int
) -> None:
    monkeypatch.setattr(fetcher, "FETCH_BATCH", 4)
    manifest, content = manifest_of(40)  # ten batches
    asked: list[int] = []  # how many batches had been asked for, when each chunk was handed out
    started = 0

    def in_background(work: Callable[[], dict[str, bytes]], name: str) -> Future[dict[str, bytes]]:
        nonlocal started
        started += 1
        future: Future[dict[str, bytes]] = Future()
        future.set_result(work())
        return future

    monkeypatch.setattr(fetcher, "in_background", in_background)
    chunks = fetcher.chunks_in_order(Server(content), manifest, Report(), NoProgress(), ahead=ahead)
    got = []
    for data in chunks:
        got.append(data)
        asked.append(started)
    assert got == [content[e.chunk_id] for e in manifest]
    # While batch k is written, batches k+1 .. k+ahead are on their way (fewer at the end).
    assert asked == [min(k // 4 + 1 + ahead, 10) for k in range(40)]


def test_chunks_held_here_are_not_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetcher, "FETCH_BATCH", 4)
    manifest, content = manifest_of(12)
    held = {e.chunk_id for e in manifest[::3]}
    fetched: list[str] = []

    class Counting(Server):
        def fetch_chunks(self, chunk_ids: Sequence[str]) -> dict[str, bytes]:
            fetched.extend(chunk_ids)
            return super().fetch_chunks(chunk_ids)

    report = Report()
    got = list(
        fetcher.chunks_in_order(
            Counting(content),
            manifest,
            report,
            NoProgress(),
            lambda group: {e.chunk_id: content[e.chunk_id] for e in group if e.chunk_id in held},
        )
    )
    assert got == [content[e.chunk_id] for e in manifest]
    assert sorted(fetched) == sorted(set(content) - held)
    assert report.chunks_reused == len(held)
