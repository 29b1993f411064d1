"""A file version's chunk list told against a version the reader holds already.

A device that holds version A of a big file and must fetch version B learns B's manifest as
runs of A's chunks that B keeps, plus the chunks that are new, in a compact binary form: a
1 MiB edit of a 1 GiB file is a few dozen entries, not the 40,000 of the whole list (~4 MB of
JSON). Shared by the server, which writes it, and the client, which reads it; no I/O here.

The encoding (integers are unsigned LEB128 varints, a time is zigzag-encoded first):

    b"SFMD" 0x01                      magic and format
    version, size, modified_at        the new version: number, bytes, microseconds since the
                                      Unix epoch (UTC)
    digest                            32 bytes: the new version's content digest (its etag)
    base_count, count                 chunks in the base (as the writer saw it) and in the new
                                      version
    then operations to the end:
      0x01 start n                    n chunks of the base from position `start` on
      0x02 n (id size)*n              n new chunks: a 32-byte id and a size each

A reader that rebuilds the list checks the count, the total size and the digest, so a base
that differs from the writer's is found out, never silently assembled into a wrong file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MAGIC = b"SFMD\x01"
_COPY = 0x01
_NEW = 0x02
_ID_BYTES = 32
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Entry = tuple[str, int]  # (chunk id in hex, size)


@dataclass(frozen=True, slots=True)
class Copy:
    """`count` chunks of the base from position `start` on."""

    start: int
    count: int


Operation = Copy | Entry


@dataclass(frozen=True)
class ManifestDelta:
    version: int
    size: int
    modified_at: datetime
    digest: str  # hex, the new version's content digest
    base_count: int
    count: int
    operations: list[Operation]


def content_digest(chunk_ids: Sequence[str]) -> str:
    """A manifest's digest as the server records it (a version's etag)."""
    return hashlib.sha256(b"".join(c.encode() + b"\n" for c in chunk_ids)).hexdigest()


def diff(base: Sequence[str], entries: Sequence[Entry]) -> list[Operation]:
    """`entries` as runs of `base` where they repeat it, and new entries between: one pass,
    each new chunk looked up once (continuing the current run first, so a run is not cut
    short by an earlier copy of the same chunk)."""
    first: dict[str, int] = {}
    for position, chunk in enumerate(base):
        first.setdefault(chunk, position)
    operations: list[Operation] = []
    index, next_in_base = 0, -1
    while index < len(entries):
        chunk = entries[index][0]
        if 0 <= next_in_base < len(base) and base[next_in_base] == chunk:
            start = next_in_base
        else:
            start = first.get(chunk, -1)
        if start < 0:
            operations.append(entries[index])
            index += 1
            next_in_base = -1
            continue
        count = 1
        while (
            index + count < len(entries)
            and start + count < len(base)
            and base[start + count] == entries[index + count][0]
        ):
            count += 1
        operations.append(Copy(start, count))
        index += count
        next_in_base = start + count
    return operations


def encode(delta: ManifestDelta) -> bytes:
    out = bytearray(MAGIC)
    when = delta.modified_at
    if when.tzinfo is None:  # stored times are UTC
        when = when.replace(tzinfo=UTC)
    micros = (when - _EPOCH) // timedelta(microseconds=1)
    for number in (delta.version, delta.size, _zigzag(micros)):
        _varint(out, number)
    digest = bytes.fromhex(delta.digest)
    if len(digest) != _ID_BYTES:
        raise ValueError("a content digest is 32 bytes")
    out += digest
    _varint(out, delta.base_count)
    _varint(out, delta.count)
    pending: list[Entry] = []
    for operation in [*delta.operations, None]:
        if isinstance(operation, tuple):
            pending.append(operation)
            continue
        if pending:
            out.append(_NEW)
            _varint(out, len(pending))
            for chunk, size in pending:
                out += bytes.fromhex(chunk)
                _varint(out, size)
            pending = []
        if operation is not None:
            out.append(_COPY)
            _varint(out, operation.start)
            _varint(out, operation.count)
    return bytes(out)


def decode(data: bytes) -> ManifestDelta:
    """ValueError for anything that is not a well-formed delta."""
    if not data.startswith(MAGIC):
        raise ValueError("not a manifest delta (format 1)")
    reader = _Reader(data, len(MAGIC))
    version, size, micros = reader.varint(), reader.varint(), _unzigzag(reader.varint())
    digest = reader.take(_ID_BYTES).hex()
    base_count, count = reader.varint(), reader.varint()
    operations: list[Operation] = []
    while not reader.done:
        kind = reader.take(1)[0]
        if kind == _COPY:
            operations.append(Copy(reader.varint(), reader.varint()))
        elif kind == _NEW:
            for _ in range(reader.varint()):
                chunk = reader.take(_ID_BYTES).hex()
                operations.append((chunk, reader.varint()))
        else:
            raise ValueError(f"unknown operation {kind} in a manifest delta")
    try:
        modified_at = _EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        raise ValueError("a manifest delta's time is out of range") from None
    return ManifestDelta(version, size, modified_at, digest, base_count, count, operations)


def apply(delta: ManifestDelta, base: Sequence[Entry]) -> list[Entry]:
    """The new version's chunk list, from the base the reader holds. ValueError when it does
    not add up (a run past the base, or a count, size or digest other than the delta's): the
    reader's base is not the one the delta was made against."""
    if len(base) != delta.base_count:
        raise ValueError(f"the delta is against {delta.base_count} chunks, not {len(base)}")
    entries: list[Entry] = []
    for operation in delta.operations:
        if isinstance(operation, Copy):
            if operation.count < 1 or operation.start + operation.count > len(base):
                raise ValueError("a run of a manifest delta reaches past its base")
            entries.extend(base[operation.start : operation.start + operation.count])
        else:
            entries.append(operation)
    if len(entries) != delta.count or sum(size for _, size in entries) != delta.size:
        raise ValueError("a manifest delta does not add up to its version's count and size")
    if content_digest([chunk for chunk, _ in entries]) != delta.digest:
        raise ValueError("a manifest delta does not match its version's digest")
    return entries


def _varint(out: bytearray, number: int) -> None:
    if number < 0:
        raise ValueError("varints are unsigned")
    while number >= 0x80:
        out.append((number & 0x7F) | 0x80)
        number >>= 7
    out.append(number)


def _zigzag(number: int) -> int:
    return number * 2 if number >= 0 else -number * 2 - 1


def _unzigzag(number: int) -> int:
    return number // 2 if number % 2 == 0 else -(number + 1) // 2


class _Reader:
    def __init__(self, data: bytes, position: int) -> None:
        self._data = data
        self._position = position

    @property
    def done(self) -> bool:
        return self._position >= len(self._data)

    def take(self, count: int) -> bytes:
        end = self._position + count
        if end > len(self._data):
            raise ValueError("a manifest delta ends early")
        piece, self._position = self._data[self._position : end], end
        return piece

    def varint(self) -> int:
        number, shift = 0, 0
        while True:
            byte = self.take(1)[0]
            number |= (byte & 0x7F) << shift
            if byte < 0x80:
                return number
            shift += 7
            if shift > 63:
                raise ValueError("a varint in a manifest delta is too long")
