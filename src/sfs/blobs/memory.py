"""A blob backend in a dict, for tests and benchmarks."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from sfs.blobs.backend import BlobNotFound, check_name, check_range


class MemoryBackend:
    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        self.blobs: dict[str, bytes] = {}
        self.written_at: dict[str, datetime] = {}
        self._now = now or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()

    def put(self, name: str, data: bytes | bytearray) -> None:
        check_name(name)
        with self._lock:
            self.blobs[name] = bytes(data)
            self.written_at[name] = self._now()

    def get(self, name: str, offset: int = 0, length: int | None = None) -> bytes:
        check_range(offset, length)
        try:
            data = self.blobs[check_name(name)]
        except KeyError:
            raise BlobNotFound(name) from None
        end = len(data) if length is None else offset + length
        return data[offset:end]

    def delete(self, name: str) -> None:
        with self._lock:
            self.blobs.pop(check_name(name), None)
            self.written_at.pop(name, None)

    def exists(self, name: str) -> bool:
        return check_name(name) in self.blobs

    def list(self, prefix: str = "") -> Iterator[str]:
        with self._lock:
            names = [name for name in self.blobs if name.startswith(prefix)]
        return iter(names)

    def size(self, name: str) -> int:
        try:
            return len(self.blobs[check_name(name)])
        except KeyError:
            raise BlobNotFound(name) from None

    def modified(self, name: str) -> datetime:
        try:
            return self.written_at[check_name(name)]
        except KeyError:
            raise BlobNotFound(name) from None
