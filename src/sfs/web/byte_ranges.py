"""The HTTP `Range` header, read the same way by every door that sends file content (the REST
API, WebDAV, public share links): one `bytes=a-b` range (also `a-` and `-n`); several ranges or
anything malformed mean the whole file (RFC 9110 lets a server ignore Range), and a range that
starts at or past the end is answered 416 by the caller."""

from __future__ import annotations

import re

from sfs.services.files.content import ByteRange

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_byte_range(header: str | None, size: int) -> ByteRange | None:
    """The one range asked for, not yet clamped to the file; None for the whole file."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None or match.group(0) == "bytes=-":
        return None
    first, last = match.groups()
    if not first:  # the last n bytes
        if int(last) == 0:
            return ByteRange(start=size, end=size)  # the last 0 bytes: not satisfiable
        return ByteRange(start=max(size - int(last), 0), end=max(size - 1, 0))
    return ByteRange(start=int(first), end=int(last) if last else max(size - 1, int(first)))


def satisfiable(byte_range: ByteRange, size: int) -> bool:
    return byte_range.start < size and byte_range.end >= byte_range.start


def clamped(byte_range: ByteRange, size: int) -> ByteRange:
    """A satisfiable range cut to the file's end (`bytes=0-999` of a 10-byte file)."""
    return ByteRange(byte_range.start, min(byte_range.end, size - 1))


def content_range(byte_range: ByteRange, size: int) -> str:
    return f"bytes {byte_range.start}-{byte_range.end}/{size}"


def unsatisfied_range(size: int) -> str:
    return f"bytes */{size}"
