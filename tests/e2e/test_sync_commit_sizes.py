"""Uploads are committed in calls the server accepts whatever the manifests weigh: batches split
by the JSON they carry, and a manifest too big for any batch sent in a commit of its own."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pytest

from sfs.client.sync import uploads
from sfs.client.sync.engine import SyncEngine
from sfs.client.sync.remote import CommitOutcome
from tests.e2e.test_sync_two_clients import settle, tree, write


def test_commits_are_split_by_size_and_an_oversized_manifest_goes_alone(
    pair: tuple[SyncEngine, SyncEngine], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = pair
    batches: list[int] = []
    singles: list[str] = []
    real_batch, real_one = a.api.commit_batch, a.api.commit_one

    def commit_batch(commits: Sequence[dict[str, Any]]) -> list[CommitOutcome]:
        batches.append(len(commits))
        return real_batch(commits)

    def commit_one(commit: dict[str, Any]) -> CommitOutcome:
        singles.append(str(commit["path"]))
        return real_one(commit)

    monkeypatch.setattr(a.api, "commit_batch", commit_batch)
    monkeypatch.setattr(a.api, "commit_one", commit_one)
    # A small ceiling stands in for the real 16 MiB: each of these files' manifests (~5 chunks,
    # ~500 bytes of JSON) fits alone in 1,200 bytes, two do not; the big file's (~40) fits none.
    monkeypatch.setattr(uploads, "COMMIT_BATCH_BYTES", 1200)
    for n in range(6):
        write(a.root / f"small-{n}.bin", os.urandom(100 * 1024))
    write(a.root / "big.bin", os.urandom(1024 * 1024))
    settle(a, b)
    assert tree(b.root) == tree(a.root)
    assert singles == ["/big.bin"]
    assert sum(batches) == 6 and len(batches) >= 3
