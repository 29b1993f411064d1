"""The blob backend interface: a flat namespace of immutable byte strings, local disk or S3.

Names are `/`-separated segments of `[A-Za-z0-9_.-]` not starting with `.` (so a backend may use
dot-names for its own temporary files). Blobs are written whole and never modified.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Protocol

_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}")


class BlobNotFound(Exception):
    """No blob of this name exists."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no blob named {name!r}")
        self.name = name


class BlobBackend(Protocol):
    def put(self, name: str, data: bytes | bytearray) -> None:
        """Store `data` under `name` atomically: readers see all of it or no blob at all.

        Idempotent: putting the same name again replaces the blob whole. A backend that keeps
        the bytes keeps a copy, never `data` itself (a caller may reuse its buffer).
        """
        ...

    def get(self, name: str, offset: int = 0, length: int | None = None) -> bytes:
        """Bytes `[offset, offset + length)` of the blob, fewer if it ends sooner.

        Raises `BlobNotFound` when the blob does not exist.
        """
        ...

    def delete(self, name: str) -> None:
        """Remove the blob; deleting a blob that does not exist is not an error."""
        ...

    def exists(self, name: str) -> bool: ...

    def list(self, prefix: str = "") -> Iterator[str]:
        """Names starting with `prefix` (a plain string prefix), in no particular order."""
        ...

    def size(self, name: str) -> int:
        """The blob's length in bytes; `BlobNotFound` when it does not exist."""
        ...

    def modified(self, name: str) -> datetime:
        """When the blob was written (timezone-aware UTC); `BlobNotFound` when it does not exist.

        The garbage collector judges by it whether a pack no chunk row names is an orphan of a
        crashed upload or the fresh pack of an upload still in flight.
        """
        ...


def check_name(name: str) -> str:
    """`name` if it is a valid blob name, else `ValueError` (guards against path traversal)."""
    segments = name.split("/")
    if len(name) > 1024 or not all(_SEGMENT.fullmatch(segment) for segment in segments):
        raise ValueError(f"invalid blob name {name!r}")
    return name


def check_range(offset: int, length: int | None) -> None:
    if offset < 0 or (length is not None and length < 0):
        raise ValueError("a blob range needs a non-negative offset and length")
