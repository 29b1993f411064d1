"""A ZIP archive written as it is sent: stored (no compression), sizes in data descriptors.

`zipfile` writes to a sink that cannot seek, so it puts each entry's CRC and sizes after its
data; nothing is buffered beyond the block being written, and no copy of the folder is made.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sfs.domain.errors import InvalidInput
from sfs.i18n import N_

PIECE = 1 << 20


@dataclass(frozen=True)
class ZipEntry:
    parts: tuple[str, ...]  # the path below the archive's root, one name per part
    size: int
    modified_at: datetime
    is_folder: bool = False


class _Sink:
    """What zipfile writes to: collects bytes for the generator to hand on."""

    def __init__(self) -> None:
        self.blocks: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self.blocks.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        out = b"".join(self.blocks)
        self.blocks.clear()
        self.size = 0
        return out


def entry_name(parts: tuple[str, ...], *, folder: bool = False) -> str:
    """The name inside the archive; refuses what could climb out of the folder it unpacks to."""
    if not parts:
        raise InvalidInput(N_("An archive entry needs a name."), field="path")
    for part in parts:
        if part in ("", ".", "..") or "/" in part or "\\" in part or "\x00" in part:
            raise InvalidInput(
                N_("%(part)s cannot be a name in an archive.", part=repr(part)), field="path"
            )
    if len(parts[0]) >= 2 and parts[0][1] == ":":
        raise InvalidInput(
            N_("%(parts)s looks like a drive letter.", parts=repr(parts[0])), field="path"
        )
    return "/".join(parts) + ("/" if folder else "")


def stream_zip(
    entries: Iterable[ZipEntry], open_entry: Callable[[ZipEntry], Iterable[bytes]]
) -> Iterator[bytes]:
    """The archive's bytes; `open_entry` gives a file's content block by block."""
    sink = _Sink()
    with zipfile.ZipFile(
        sink, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True
    ) as archive:
        for entry in entries:
            stamp = entry.modified_at.timetuple()[:6]
            when = stamp if stamp[0] >= 1980 else (1980, 1, 1, 0, 0, 0)
            info = zipfile.ZipInfo(entry_name(entry.parts, folder=entry.is_folder), when)
            info.compress_type = zipfile.ZIP_STORED
            if entry.is_folder:
                info.external_attr = 0o40755 << 16 | 0x10
                archive.writestr(info, b"")
                continue
            info.external_attr = 0o644 << 16
            # The size told in advance lets zipfile choose ZIP64 for files over 4 GiB.
            info.file_size = entry.size
            with archive.open(info, mode="w", force_zip64=entry.size >= zipfile.ZIP64_LIMIT) as out:
                for block in open_entry(entry):
                    out.write(block)
                    # Pieces of about 1 MiB: each one crosses from the worker thread to the
                    # event loop, so many small files are not many small writes.
                    if sink.size >= PIECE:
                        yield sink.take()
    yield sink.take()
