"""Opaque bearer secrets (session cookies, device tokens): random, and stored only as digests."""

from __future__ import annotations

import hashlib

from sfs.ports import Randomness

SECRET_BYTES = 32


def new_secret(randomness: Randomness, prefix: str = "") -> str:
    return prefix + randomness.token_urlsafe(SECRET_BYTES)


def digest(secret: str) -> str:
    """A high-entropy secret needs no slow hash: SHA-256 keeps a leaked table useless."""
    return hashlib.sha256(secret.encode()).hexdigest()
