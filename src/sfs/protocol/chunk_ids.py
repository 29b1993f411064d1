"""Chunk ids: BLAKE3 keyed with the organisation's 32-byte chunk-id key, as 64 hex digits.

Keyed, so identical content deduplicates within one organisation and never across two (their
keys differ), and an id says nothing about content to anyone without the key. The sync client
holds its organisation's chunk-id key (never the data key) to hash locally before it uploads.
"""

from __future__ import annotations

import re

from blake3 import blake3

CHUNK_ID_KEY_BYTES = 32
CHUNK_ID_HEX_LENGTH = 64

_CHUNK_ID = re.compile(r"[0-9a-f]{64}")


def chunk_id(key: bytes, data: bytes | bytearray | memoryview) -> str:
    """The id of a chunk of plaintext under an organisation's chunk-id key."""
    if len(key) != CHUNK_ID_KEY_BYTES:
        raise ValueError(f"a chunk-id key is {CHUNK_ID_KEY_BYTES} bytes, not {len(key)}")
    return blake3(data, key=key).hexdigest()


def is_chunk_id(text: str) -> bool:
    """Whether `text` is well-formed as a chunk id (lowercase hex, 64 digits)."""
    return _CHUNK_ID.fullmatch(text) is not None


def derive_seed(key: bytes) -> int:
    """A 63-bit chunking seed derived from the chunk-id key (BLAKE3's key derivation mode)."""
    material = blake3(key, derive_key_context="sfs 2026 chunking gear seed v1").digest(8)
    return int.from_bytes(material, "big") >> 1
