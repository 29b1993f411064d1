"""Per-organisation key material, stored wrapped by the server's master key.

Each organisation has two independent 32-byte keys:

- the **data key** (AES-256-GCM) that encrypts its chunks and pack trailers at rest;
- the **chunk-id key** (keyed BLAKE3) that names its chunks. Sync clients of the organisation
  receive this one to hash locally; it never decrypts anything.

Wrapping uses AES-256-GCM (`SecretBox`, under a key derived from the master key for this purpose)
rather than RFC 3394 AES key wrap, because GCM takes associated data: the organisation id is bound
into every wrapped value, so a wrapped key copied onto another organisation's row does not open,
and one tenant's data can never be silently sealed under another tenant's key.
Rotating the master key re-wraps these values only; no chunk is re-encrypted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sfs.crypto.secret_box import SealedSecretError, SecretBox
from sfs.ports import Randomness
from sfs.protocol.chunk_ids import CHUNK_ID_KEY_BYTES, derive_seed

DATA_KEY_BYTES = 32
_PURPOSE = "organisation-keys"
# A version prefix, so a later wrapping format can be told apart from this one.
_FORMAT = "k1:"


class KeyUnwrapError(Exception):
    """The wrapped keys do not open: wrong master key, wrong organisation, or tampered."""


def _associated(organization_id: uuid.UUID | str) -> bytes:
    return f"sfs/organisation-keys/v1/{organization_id}".encode()


@dataclass(frozen=True, slots=True, repr=False)
class OrganisationKeys:
    data_key: bytes
    chunk_id_key: bytes

    def __post_init__(self) -> None:
        if len(self.data_key) != DATA_KEY_BYTES or len(self.chunk_id_key) != CHUNK_ID_KEY_BYTES:
            raise ValueError("organisation keys are two 32-byte keys")

    def __repr__(self) -> str:  # keys never end up in logs or tracebacks
        return "OrganisationKeys(<secret>)"

    @classmethod
    def generate(cls, randomness: Randomness) -> OrganisationKeys:
        return cls(
            data_key=randomness.token_bytes(DATA_KEY_BYTES),
            chunk_id_key=randomness.token_bytes(CHUNK_ID_KEY_BYTES),
        )

    @property
    def chunking_seed(self) -> int:
        """The FastCDC gear seed of this organisation (derived from the chunk-id key)."""
        return derive_seed(self.chunk_id_key)

    def wrap(self, master_key: bytes, organization_id: uuid.UUID | str) -> str:
        """The keys sealed for storage in the organisation's row (ASCII, ~110 characters)."""
        box = SecretBox.for_purpose(master_key, _PURPOSE)
        sealed = box.seal(
            self.data_key + self.chunk_id_key, associated=_associated(organization_id)
        )
        return _FORMAT + sealed

    @classmethod
    def unwrap(
        cls, master_key: bytes, wrapped: str, organization_id: uuid.UUID | str
    ) -> OrganisationKeys:
        if not wrapped.startswith(_FORMAT):
            raise KeyUnwrapError("the wrapped organisation keys are in an unknown format")
        box = SecretBox.for_purpose(master_key, _PURPOSE)
        try:
            raw = box.open(wrapped.removeprefix(_FORMAT), associated=_associated(organization_id))
        except SealedSecretError:
            raise KeyUnwrapError(
                f"the keys of organisation {organization_id} do not open with this master key"
            ) from None
        if len(raw) != DATA_KEY_BYTES + CHUNK_ID_KEY_BYTES:
            raise KeyUnwrapError("the wrapped organisation keys have the wrong length")
        return cls(data_key=raw[:DATA_KEY_BYTES], chunk_id_key=raw[DATA_KEY_BYTES:])


def rewrap(
    old_master_key: bytes, new_master_key: bytes, wrapped: str, organization_id: uuid.UUID | str
) -> str:
    """Re-wrap an organisation's keys under a new master key (master key rotation)."""
    keys = OrganisationKeys.unwrap(old_master_key, wrapped, organization_id)
    return keys.wrap(new_master_key, organization_id)
