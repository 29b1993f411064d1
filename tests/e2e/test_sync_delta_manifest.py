"""A second device holding a big file learns the next version's chunk list as a delta against
its own, fetches only the new chunks, and ends byte for byte like the first; when its record of
the old version disagrees with the server's, or the server cannot tell deltas, it fetches the
whole list instead and ends the same."""

from __future__ import annotations

import os
from typing import Any

import pytest

from sfs.client.api import ApiError
from sfs.client.sync.engine import SyncEngine
from sfs.protocol.manifest_delta import Copy, ManifestDelta

MiB = 1024 * 1024


def a_big_file_synced_then_edited(a: SyncEngine, b: SyncEngine) -> bytes:
    """A 3 MiB file on both devices, then 200 KB inserted at an odd offset on `a` and sent."""
    original = os.urandom(3 * MiB)
    (a.root / "big.bin").write_bytes(original)
    assert a.sync_once().uploaded == 1
    assert b.sync_once().downloaded == 1
    edited = original[:1_500_001] + os.urandom(200_000) + original[1_500_001:]
    (a.root / "big.bin").write_bytes(edited)
    assert a.sync_once().uploaded == 1
    return edited


def spy(monkeypatch: pytest.MonkeyPatch, engine: SyncEngine, name: str) -> list[Any]:
    """Record what `engine.api.<name>` answers."""
    answers: list[Any] = []
    real = getattr(engine.api, name)

    def recorded(*args: Any, **kwargs: Any) -> Any:
        answers.append(real(*args, **kwargs))
        return answers[-1]

    monkeypatch.setattr(engine.api, name, recorded)
    return answers


def test_the_second_device_learns_the_edit_as_a_delta(
    pair: tuple[SyncEngine, SyncEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = pair
    edited = a_big_file_synced_then_edited(a, b)
    deltas: list[ManifestDelta] = spy(monkeypatch, b, "manifest_delta")
    whole = spy(monkeypatch, b, "manifest")

    received = b.sync_once()

    assert (received.downloaded, received.failed) == (1, [])
    assert (b.root / "big.bin").read_bytes() == edited
    assert b.index.chunks_of("/big.bin") == a.index.chunks_of("/big.bin")
    assert whole == []
    (delta,) = deltas
    kept = sum(op.count for op in delta.operations if isinstance(op, Copy))
    assert kept > delta.count - 20  # most of the list is runs of the old one
    assert received.bytes_received < 600_000  # the new chunks, not the file


def test_a_record_that_disagrees_with_the_server_fetches_the_whole_list(
    pair: tuple[SyncEngine, SyncEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = pair
    edited = a_big_file_synced_then_edited(a, b)
    held = b.index.entry("/big.bin")
    assert held is not None
    wrong = b.index.chunks_of("/big.bin")
    wrong[3] = (wrong[4][0], wrong[3][1])  # one id recorded wrongly, sizes unchanged
    b.index.put("/big.bin", held, wrong)
    deltas = spy(monkeypatch, b, "manifest_delta")
    whole = spy(monkeypatch, b, "manifest")

    received = b.sync_once()

    assert (received.downloaded, received.failed) == (1, [])
    assert (len(deltas), len(whole)) == (1, 1)  # asked, found not to add up, then the list
    assert (b.root / "big.bin").read_bytes() == edited


def test_an_older_server_without_deltas_is_asked_for_the_whole_list(
    pair: tuple[SyncEngine, SyncEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = pair
    edited = a_big_file_synced_then_edited(a, b)

    asked: list[object] = []

    def no_such_call(*args: Any, **_kwargs: Any) -> ManifestDelta:
        asked.append(args)
        raise ApiError("the server answered 404 Not Found", status=404, code="http_404")

    monkeypatch.setattr(b.api, "manifest_delta", no_such_call)
    whole = spy(monkeypatch, b, "manifest")

    received = b.sync_once()

    assert (received.downloaded, received.failed) == (1, [])
    assert (len(asked), len(whole)) == (1, 1)
    assert (b.root / "big.bin").read_bytes() == edited
