"""The first field of a multipart form, read before the rest of the body.

The upload form puts its CSRF token first (browsers send fields in page order), so the token
can be checked before a single file byte is read or spooled; the bytes read for it are handed
back, unchanged, to the form parser that reads the rest.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.types import Message

# The token field is ~200 bytes with its part headers; a form that has not shown it by then
# does not carry it first.
PREFIX_LIMIT = 8 * 1024
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_NAME = re.compile(rb'content-disposition:[^\r\n]*?\bname="([^"]*)"', re.IGNORECASE)


async def leading_field(request: Request, name: str) -> tuple[str, Request]:
    """The value of field `name` when it is the form's first field, else ""; and the request
    to read the whole form from."""
    match = _BOUNDARY.search(request.headers.get("content-type", ""))
    if match is None:
        return "", request
    boundary = match.group(1).encode()
    messages: list[Message] = []
    prefix = b""
    found: tuple[bytes, bytes] | None = None
    while found is None and len(prefix) <= PREFIX_LIMIT:
        message = await request.receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        prefix += message.get("body", b"")
        found = first_field(prefix, boundary)
        if not message.get("more_body", False):
            break
    replay = iter(messages)

    async def receive() -> Message:
        return next(replay, None) or await request.receive()

    value = ""
    if found is not None and found[0] == name.encode():
        value = found[1].decode("utf-8", errors="replace")
    return value, Request(request.scope, receive)


def first_field(prefix: bytes, boundary: bytes) -> tuple[bytes, bytes] | None:
    """(name, value) of the first part once `prefix` holds all of it; None until then (or
    never, for a body that does not start as multipart should)."""
    opening = b"--" + boundary + b"\r\n"
    if not prefix.startswith(opening):
        return None
    head_end = prefix.find(b"\r\n\r\n", len(opening))
    if head_end < 0:
        return None
    value_end = prefix.find(b"\r\n--" + boundary, head_end + 4)
    if value_end < 0:
        return None
    named = _NAME.search(prefix[len(opening) : head_end])
    if named is None:
        return None
    return named.group(1), prefix[head_end + 4 : value_end]
