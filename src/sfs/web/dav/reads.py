"""OPTIONS, GET and HEAD: what the door can do, and file content streamed out (with Range)."""

from __future__ import annotations

import mimetypes
from collections.abc import AsyncIterator, Iterator

import anyio.to_thread
from starlette.responses import Response, StreamingResponse

from sfs.services.files.content import Download
from sfs.services.files.nodes import NodeView
from sfs.web.byte_ranges import (
    clamped,
    content_range,
    parse_byte_range,
    satisfiable,
    unsatisfied_range,
)
from sfs.web.dav.conditions import etag_matches
from sfs.web.dav.context import DavContext

# Content is read from the chunk store a batch at a time in a worker thread: one thread hop per
# megabyte, not per ~24 KiB chunk.
BATCH_BYTES = 1 << 20
FOLDER_TEXT = b"This is a folder of Secure File Sync. Open it with a WebDAV client.\n"


def options(allowed: str) -> Response:
    """Answered without credentials: it tells nothing about anyone's files."""
    return Response(
        status_code=200,
        headers={
            "DAV": "1, 2",
            "MS-Author-Via": "DAV",
            "Allow": allowed,
            "Accept-Ranges": "bytes",
            "Content-Length": "0",
        },
    )


async def get(context: DavContext) -> Response:
    return await _read(context, with_body=True)


async def head(context: DavContext) -> Response:
    return await _read(context, with_body=False)


async def _read(context: DavContext, *, with_body: bool) -> Response:
    request = context.request
    node = await context.call(_stat_checked, context)
    etag = f'"{node.etag}"'
    headers = {"ETag": etag, "Last-Modified": http_date(node), "Accept-Ranges": "bytes"}
    if node.kind == "folder":
        return Response(FOLDER_TEXT if with_body else b"", headers=headers, media_type="text/plain")
    headers["OC-ETag"] = etag
    headers["OC-FileId"] = node.id.hex
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    media_type = content_type(node)
    byte_range = parse_byte_range(request.headers.get("range"), node.size)
    if request.headers.get("if-range") not in (None, etag):
        byte_range = None  # changed since the client's copy: the whole file
    if byte_range is not None and not satisfiable(byte_range, node.size):
        return Response(
            status_code=416, headers={**headers, "Content-Range": unsatisfied_range(node.size)}
        )
    status = 200
    length = node.size
    if byte_range is not None:
        byte_range = clamped(byte_range, node.size)
        status, length = 206, byte_range.length
        headers["Content-Range"] = content_range(byte_range, node.size)
    headers["Content-Length"] = str(length)
    if not with_body:
        return Response(status_code=status, headers=headers, media_type=media_type)
    download: Download = await context.call(
        context.services.file_content.download,
        context.actor,
        space_id=context.space_id,
        path=node.path,
        byte_range=byte_range,
    )
    first = await anyio.to_thread.run_sync(_take, download.body)  # damage becomes a proper error
    return StreamingResponse(
        _stream(first, download.body), status_code=status, headers=headers, media_type=media_type
    )


def _stat_checked(context: DavContext) -> NodeView:
    context.require_conditions()
    return context.listing(context.where.path, with_children=False).node


async def _stream(first: bytes, body: Iterator[bytes]) -> AsyncIterator[bytes]:
    piece = first
    while piece:
        yield piece
        piece = await anyio.to_thread.run_sync(_take, body)


def _take(body: Iterator[bytes]) -> bytes:
    batch = bytearray()
    for block in body:
        batch += block
        if len(batch) >= BATCH_BYTES:
            break
    return bytes(batch)


def content_type(node: NodeView) -> str:
    guessed, _ = mimetypes.guess_type(node.name, strict=False)
    return guessed or "application/octet-stream"


def http_date(node: NodeView) -> str:
    return node.modified_at.strftime("%a, %d %b %Y %H:%M:%S GMT")
