"""The server's master key: wraps the organisations' data keys. Generated on first start."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

from sfs.ports import Randomness

MASTER_KEY_BYTES = 32


class MasterKeyError(Exception):
    pass


def load_or_create_master_key(path: Path, randomness: Randomness) -> bytes:
    if path.exists():
        return read_master_key(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = randomness.token_bytes(MASTER_KEY_BYTES)
    # O_EXCL: two instances starting at once must not both write (and disagree on) a key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_master_key(path)
    with os.fdopen(fd, "wb") as handle:
        handle.write(base64.b64encode(key) + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    return key


def read_master_key(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
        raw = path.read_bytes()
    except OSError as exc:
        raise MasterKeyError(f"cannot read the master key file {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise MasterKeyError(
            f"the master key file {path} is readable by others; run: chmod 600 {path}"
        )
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except ValueError:
        raise MasterKeyError(f"the master key file {path} is not valid base64") from None
    if len(key) != MASTER_KEY_BYTES:
        raise MasterKeyError(
            f"the master key in {path} must be {MASTER_KEY_BYTES} bytes, not {len(key)}"
        )
    return key
