"""The framing of a chunk batch (`POST /chunks/batch`, `POST /chunks/fetch`): the chunks back to
back, each as its 32-byte id, its length as a 4-byte big-endian number, then its bytes."""

from __future__ import annotations

ID_BYTES = 32
LENGTH_BYTES = 4
HEADER_BYTES = ID_BYTES + LENGTH_BYTES


class FrameReader:
    """Chunks cut from a framed stream as its blocks arrive.

    Each block is looked at once; only the bytes of a chunk cut across blocks wait (and are
    copied) until the rest arrives, so a batch is never gathered whole and sliced again.
    """

    def __init__(self) -> None:
        self._pending = bytearray()

    def feed(self, block: bytes) -> list[tuple[str, bytes]]:
        """The chunks this block completes, in order (id in hex, bytes)."""
        if self._pending:
            self._pending += block
            data: bytes | bytearray = self._pending
        else:
            data = block
        chunks: list[tuple[str, bytes]] = []
        position, size = 0, len(data)
        with memoryview(data) as view:
            while size - position >= HEADER_BYTES:
                head = position + HEADER_BYTES
                end = head + int.from_bytes(view[position + ID_BYTES : head], "big")
                if end > size:
                    break
                chunks.append((view[position : position + ID_BYTES].hex(), bytes(view[head:end])))
                position = end
            rest = bytes(view[position:])
        self._pending = bytearray(rest)
        return chunks

    def finish(self) -> None:
        """The stream ended: ValueError if it ended inside a chunk."""
        if len(self._pending) >= HEADER_BYTES:
            raise ValueError("The chunk batch ends inside a chunk.")
        if self._pending:
            raise ValueError("The chunk batch ends inside a chunk header.")
