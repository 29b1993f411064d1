"""A request body streamed into a `ContentUpload` without holding a worker thread while waiting.

The body is read on the event loop (`BodyGuard` times out a stalled one); a thread is borrowed
only to cut, seal and store a megabyte that has arrived, then given back. A slow client thus
costs a coroutine and its buffer, never one of the few worker threads every request needs.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

import anyio.to_thread
from starlette.requests import Request

SEGMENT_BYTES = 1 << 20

T_co = TypeVar("T_co", covariant=True)


class PushedUpload(Protocol[T_co]):
    """What takes a body a block at a time: a file's `ContentUpload`, a chunked upload's part."""

    def write(self, block: bytes) -> None: ...

    def finish(self) -> T_co: ...

    def abort(self) -> None: ...


async def receive_into(request: Request, upload: PushedUpload[T_co]) -> T_co:
    """Feed the whole body to `upload` and finish it; on any failure it keeps nothing."""
    buffer = bytearray()
    try:
        async for block in request.stream():
            buffer += block
            if len(buffer) >= SEGMENT_BYTES:
                segment, buffer = bytes(buffer), bytearray()
                await anyio.to_thread.run_sync(upload.write, segment)
        # The last segment and the finish in one trip to a thread (a small file: its only one).
        return await anyio.to_thread.run_sync(_last, upload, bytes(buffer))
    except BaseException:
        upload.abort()
        raise


def _last(upload: PushedUpload[T_co], segment: bytes) -> T_co:
    if segment:
        upload.write(segment)
    return upload.finish()
