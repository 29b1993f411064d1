"""One chunk sealed at rest: AES-256-GCM under the organisation's data key.

Layout of a sealed chunk: 12-byte random nonce, ciphertext, 16-byte tag (`SEAL_OVERHEAD` = 28
bytes more than the plaintext). The chunk id is the associated data, so a sealed chunk moved to
another chunk's location fails its tag; opening also recomputes the keyed hash of the plaintext
and compares it with the id, so a chunk is served only if it is exactly the content named.

Random 96-bit nonces under one key are safe for up to 2**32 seals (NIST SP 800-38D), i.e. ~200 TiB
of ~48 KiB chunks per organisation; a data key can be rotated long before that.
"""

from __future__ import annotations

import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sfs.crypto.keys import OrganisationKeys
from sfs.domain.errors import CorruptChunk
from sfs.protocol.chunk_ids import chunk_id as keyed_chunk_id

NONCE_BYTES = 12
TAG_BYTES = 16
SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES


def _associated(chunk_id: str) -> bytes:
    return b"sfs/chunk/v1/" + chunk_id.encode("ascii")


def seal_chunk(keys: OrganisationKeys, chunk_id: str, plaintext: bytes) -> bytes:
    """Encrypt one chunk whose id the caller computed with `sfs.protocol.chunk_ids.chunk_id`."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(keys.data_key).encrypt(nonce, plaintext, _associated(chunk_id))


class ChunkSealer:
    """Seals chunks straight into a caller's buffer (a pack being filled), in the same layout as
    `seal_chunk`: no sealed copy of each chunk to allocate and then copy into the pack, which
    cost a sync upload more server CPU than the encryption itself."""

    def __init__(self, keys: OrganisationKeys) -> None:
        self._aead = AESGCM(keys.data_key)

    def seal_into(self, chunk_id: str, plaintext: bytes | memoryview, out: memoryview) -> None:
        """Write the sealed chunk to `out`, exactly `len(plaintext) + SEAL_OVERHEAD` bytes."""
        if len(out) != len(plaintext) + SEAL_OVERHEAD:
            raise ValueError("the space for a sealed chunk is its plaintext plus the overhead")
        # Always the system's randomness: a repeated nonce under one key would break GCM.
        nonce = os.urandom(NONCE_BYTES)
        out[:NONCE_BYTES] = nonce
        self._aead.encrypt_into(nonce, plaintext, _associated(chunk_id), out[NONCE_BYTES:])


def open_chunk(keys: OrganisationKeys, chunk_id: str, sealed: bytes | memoryview) -> bytes:
    """Decrypt and verify one chunk; `CorruptChunk` rather than any byte that is not the chunk."""
    return ChunkOpener(keys).open(chunk_id, sealed)


class ChunkOpener:
    """Opens chunks of one organisation, checked as `open_chunk` checks them, with one AES-GCM
    context for all of them, and straight into a caller's buffer if asked (a download's answer
    being built): no plaintext object per chunk to allocate and then copy."""

    def __init__(self, keys: OrganisationKeys) -> None:
        self._aead = AESGCM(keys.data_key)
        self._chunk_id_key = keys.chunk_id_key

    def open(self, chunk_id: str, sealed: bytes | memoryview) -> bytes:
        if len(sealed) < SEAL_OVERHEAD:
            raise CorruptChunk(chunk_id, reason="it is truncated")
        try:
            plaintext = self._aead.decrypt(
                sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _associated(chunk_id)
            )
        except InvalidTag:
            raise CorruptChunk(chunk_id, reason="its authentication tag does not match") from None
        self._check(chunk_id, plaintext)
        return plaintext

    def open_into(self, chunk_id: str, sealed: bytes | memoryview, out: memoryview) -> None:
        """Write the chunk's plaintext to `out`, exactly `len(sealed) - SEAL_OVERHEAD` bytes.

        On `CorruptChunk`, `out` holds bytes that are not the chunk: the caller must not use
        them (the download that asked is cut off instead)."""
        if len(sealed) < SEAL_OVERHEAD:
            raise CorruptChunk(chunk_id, reason="it is truncated")
        if len(out) != len(sealed) - SEAL_OVERHEAD:
            raise ValueError("the space for a chunk is its sealed length less the overhead")
        try:
            self._aead.decrypt_into(
                sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _associated(chunk_id), out
            )
        except InvalidTag:
            raise CorruptChunk(chunk_id, reason="its authentication tag does not match") from None
        self._check(chunk_id, out)

    def _check(self, chunk_id: str, plaintext: bytes | memoryview) -> None:
        if not hmac.compare_digest(keyed_chunk_id(self._chunk_id_key, plaintext), chunk_id):
            raise CorruptChunk(chunk_id, reason="its content does not match its id")
