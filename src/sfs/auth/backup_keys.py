"""Backup keys: 160 random bits, shown once in groups, stored only as an argon2id hash."""

from __future__ import annotations

import base64
import re

BACKUP_KEY_BYTES = 20
_GROUP = 4


def new_backup_key(random_bytes: bytes) -> str:
    """Such as 'K7MQ-2XHE-…': 32 base32 characters in eight groups of four."""
    if len(random_bytes) < BACKUP_KEY_BYTES:
        raise ValueError(f"a backup key needs {BACKUP_KEY_BYTES} random bytes")
    text = base64.b32encode(random_bytes[:BACKUP_KEY_BYTES]).decode()
    return "-".join(text[i : i + _GROUP] for i in range(0, len(text), _GROUP))


def normalize_backup_key(typed: str) -> str:
    """What the user typed, in the canonical form that was hashed (case, spaces, dashes ignored)."""
    compact = re.sub(r"[\s-]", "", typed).upper()
    return "-".join(compact[i : i + _GROUP] for i in range(0, len(compact), _GROUP))
