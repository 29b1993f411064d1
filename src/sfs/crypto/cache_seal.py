"""Derived data kept at rest (thumbnails): AES-256-GCM under the organisation's data key, like
the chunks it was made from, bound by the associated data to what it was derived from, so a
sealed value copied onto another row (or another organisation) does not open."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sfs.crypto.keys import OrganisationKeys

NONCE_BYTES = 12


class SealedCacheError(Exception):
    """The sealed value was altered or belongs to another row; make it again."""


def seal_derived(keys: OrganisationKeys, label: bytes, plaintext: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(keys.data_key).encrypt(nonce, plaintext, b"sfs/derived/v1/" + label)


def open_derived(keys: OrganisationKeys, label: bytes, sealed: bytes) -> bytes:
    try:
        return AESGCM(keys.data_key).decrypt(
            sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], b"sfs/derived/v1/" + label
        )
    except (InvalidTag, ValueError):
        raise SealedCacheError("a sealed cache entry could not be opened") from None
