"""A blob backend that counts its failures (for the `sfs_blob_store_errors` metric) and
otherwise passes every call through unchanged. A missing blob is an answer, not a failure."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TypeVar

from sfs.blobs.backend import BlobBackend, BlobNotFound

T = TypeVar("T")


class MeteredBackend:
    def __init__(self, inner: BlobBackend, count_failure: Callable[[str], None]) -> None:
        self.inner = inner
        self._count_failure = count_failure

    def _call(self, operation: str, call: Callable[[], T]) -> T:
        try:
            return call()
        except (BlobNotFound, ValueError):  # answers about the name, not the store failing
            raise
        except Exception:
            self._count_failure(operation)
            raise

    def put(self, name: str, data: bytes | bytearray) -> None:
        self._call("put", lambda: self.inner.put(name, data))

    def get(self, name: str, offset: int = 0, length: int | None = None) -> bytes:
        return self._call("get", lambda: self.inner.get(name, offset, length))

    def delete(self, name: str) -> None:
        self._call("delete", lambda: self.inner.delete(name))

    def exists(self, name: str) -> bool:
        return self._call("exists", lambda: self.inner.exists(name))

    def list(self, prefix: str = "") -> Iterator[str]:
        names = self._call("list", lambda: iter(self.inner.list(prefix)))
        while True:
            try:
                name = self._call("list", lambda: next(names))
            except StopIteration:
                return
            yield name

    def size(self, name: str) -> int:
        return self._call("size", lambda: self.inner.size(name))

    def modified(self, name: str) -> datetime:
        return self._call("modified", lambda: self.inner.modified(name))
