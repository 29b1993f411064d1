"""Small secrets sealed at rest (TOTP secrets): AES-256-GCM under a key derived from the master key.

Each purpose gets its own key (HKDF-SHA256), and each sealed value is bound to its owner through
the associated data, so a sealed secret copied onto another account does not open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


def derive_key(master_key: bytes, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"sfs/{purpose}".encode()
    ).derive(master_key)


class SealedSecretError(Exception):
    """The sealed value was tampered with, belongs to someone else, or the key changed."""


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    @classmethod
    def for_purpose(cls, master_key: bytes, purpose: str) -> SecretBox:
        return cls(derive_key(master_key, purpose))

    def seal(self, plaintext: bytes, *, associated: bytes) -> str:
        nonce = os.urandom(NONCE_BYTES)
        return base64.b64encode(nonce + self._aead.encrypt(nonce, plaintext, associated)).decode()

    def open(self, sealed: str, *, associated: bytes) -> bytes:
        try:
            raw = base64.b64decode(sealed, validate=True)
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated)
        except (InvalidTag, ValueError) as exc:
            raise SealedSecretError("a sealed secret could not be opened") from exc


class KeyedDigest:
    """HMAC-SHA256 of short codes: useless to whoever has the table but not the key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def for_purpose(cls, master_key: bytes, purpose: str) -> KeyedDigest:
        return cls(derive_key(master_key, purpose))

    def digest(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    def matches(self, text: str, expected_digest: str) -> bool:
        return hmac.compare_digest(self.digest(text), expected_digest)
