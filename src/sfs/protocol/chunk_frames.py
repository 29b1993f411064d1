"""The framing of a chunk batch (`POST /chunks/batch`, `POST /chunks/fetch`): the chunks back to
back, each as its 32-byte id, its length as a 4-byte big-endian number, then its bytes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

ID_BYTES = 32
LENGTH_BYTES = 4
HEADER_BYTES = ID_BYTES + LENGTH_BYTES

# The largest batch body the server takes, told to clients by `GET /chunking`. Each batch costs
# the server a request, a pack written and fsynced, and a metadata transaction, whatever its
# size: 16 MiB batches (one 16 MiB pack each) cost ~1.5 s less server CPU per GiB than 6 MiB.
BATCH_MAX_BYTES = 24 * 1024 * 1024
# What a server that does not say takes (those before `batch_max_bytes` was in /chunking).
OLD_BATCH_MAX_BYTES = 8 * 1024 * 1024


class FrameReader:
    """Chunks cut from a framed stream as its blocks arrive.

    Each byte is copied once when its chunk lies whole in one block, twice when the chunk is
    cut across blocks (its pieces, then their join); the rest of a block is never copied again
    to wait for the next one, so a batch is never gathered whole and sliced again. `feed_views`
    does not even copy a chunk that lies whole in one block: it hands out a view of the block.
    """

    def __init__(self) -> None:
        self._head = bytearray()  # the start of a header cut across blocks
        self._chunk_id: str | None = None  # the chunk being read, once its header is whole
        self._left = 0  # bytes of its content still to come
        self._pieces: list[bytes] = []  # its content so far

    def feed(self, block: bytes) -> list[tuple[str, bytes]]:
        """The chunks this block completes, in order (id in hex, bytes)."""
        return [
            (chunk_id, content if isinstance(content, bytes) else bytes(content))
            for chunk_id, content in self.feed_views(block)
        ]

    def feed_views(self, block: bytes) -> list[tuple[str, bytes | memoryview]]:
        """`feed`, with each chunk that lies whole in this block as a view of it (which keeps
        the block alive as long as the view): the server's upload path, where a copy of every
        chunk cost more CPU than the parsing."""
        chunks: list[tuple[str, bytes | memoryview]] = []
        position, size = 0, len(block)
        with memoryview(block) as view:
            while position < size:
                if self._chunk_id is None:
                    if not self._head and size - position >= HEADER_BYTES:
                        header: bytes | bytearray | memoryview = view[
                            position : position + HEADER_BYTES
                        ]
                        position += HEADER_BYTES
                    else:
                        take = min(HEADER_BYTES - len(self._head), size - position)
                        self._head += view[position : position + take]
                        position += take
                        if len(self._head) < HEADER_BYTES:
                            break
                        header, self._head = self._head, bytearray()
                    self._chunk_id = header[:ID_BYTES].hex()
                    self._left = int.from_bytes(header[ID_BYTES:HEADER_BYTES], "big")
                take = min(self._left, size - position)
                content: bytes | memoryview
                if take == self._left and not self._pieces:
                    content = view[position : position + take]
                else:
                    self._pieces.append(bytes(view[position : position + take]))
                    if take < self._left:
                        self._left -= take
                        break
                    content, self._pieces = b"".join(self._pieces), []
                position += take
                chunks.append((self._chunk_id, content))
                self._chunk_id, self._left = None, 0
        return chunks

    def finish(self) -> None:
        """The stream ended: ValueError if it ended inside a chunk."""
        if self._chunk_id is not None:
            raise ValueError("The chunk batch ends inside a chunk.")
        if self._head:
            raise ValueError("The chunk batch ends inside a chunk header.")


def framed_blocks(
    chunks: Iterable[tuple[str, int, Callable[[memoryview], None]]], block_size: int
) -> Iterator[memoryview]:
    """Chunks framed into blocks of about `block_size` bytes (larger for a larger chunk), each
    chunk's content written into its place in the block by its function (given the exact space
    for it): no copy of each chunk into the block, nor of the block as it is handed out.

    Each block is new: a block handed out is never written again."""
    block = bytearray(block_size)
    used = 0
    for chunk_id, size, write in chunks:
        frame = HEADER_BYTES + size
        if used + frame > len(block):
            if used:
                yield memoryview(block)[:used]
            block, used = bytearray(max(block_size, frame)), 0
        with memoryview(block) as view:
            view[used : used + ID_BYTES] = bytes.fromhex(chunk_id)
            view[used + ID_BYTES : used + HEADER_BYTES] = size.to_bytes(LENGTH_BYTES, "big")
            write(view[used + HEADER_BYTES : used + frame])
        used += frame
    if used:
        yield memoryview(block)[:used]
