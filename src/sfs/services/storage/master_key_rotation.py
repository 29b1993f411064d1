"""Master key rotation: a new key file, and everything sealed under the old key re-sealed.

What the master key protects, and what rotation does with it, all in **one** transaction:

- each organisation's wrapped data and chunk-id keys: re-wrapped (`sfs.crypto.keys.rewrap`); no
  chunk is re-encrypted;
- each user's sealed TOTP secret (`SecretBox.for_purpose(master, "totp-secrets")`, bound to the
  user id): opened with the old key, sealed with the new one, or authenticator apps stop working;
- open email codes (a keyed digest under the old key, valid for ten minutes): closed; the user
  asks for a new one.

Order, so that a crash at any point loses nothing:

1. the new key is written to `master.key.new` (0600, fsync) and the old one copied to
   `master.key.old-<timestamp>` (0600, fsync);
2. the database transaction commits;
3. `master.key.new` is renamed over `master.key` (atomic), and the folder fsynced.

A crash between 2 and 3 leaves `master.key.new` beside a database already under it: the next run
of the command notices (the database's keys open with the staged key) and only finishes the rename.
A staged key that does not open them is the leftover of a rotation that never committed; it is
discarded.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from sfs.crypto.keys import KeyUnwrapError, OrganisationKeys, rewrap
from sfs.crypto.master_key import MASTER_KEY_BYTES, read_master_key
from sfs.crypto.secret_box import SealedSecretError, SecretBox
from sfs.metadata.db import Database
from sfs.metadata.file_models import OrganizationKeys
from sfs.metadata.models import EmailCode, User
from sfs.ports import Clock, Randomness

TOTP_PURPOSE = "totp-secrets"


class RotationError(Exception):
    """Rotation is impossible as things stand (nothing was changed)."""


@dataclass(frozen=True)
class RotationReport:
    organisations: int
    totp_secrets: int
    email_codes_closed: int
    old_key_copy: Path | None
    # True when this run only finished a rotation that a crash had interrupted.
    completed_interrupted: bool = False


def staged_key_path(key_path: Path) -> Path:
    return key_path.with_name(key_path.name + ".new")


def rotate_master_key(
    *, database: Database, key_path: Path, clock: Clock, randomness: Randomness
) -> RotationReport:
    old_key = read_master_key(key_path)
    staged = staged_key_path(key_path)
    if staged.exists():
        if _database_opens_with(database, read_master_key(staged)):
            _install(staged, key_path)
            return RotationReport(0, 0, 0, None, completed_interrupted=True)
        staged.unlink()
    now = clock.now()
    new_key = randomness.token_bytes(MASTER_KEY_BYTES)
    if new_key == old_key:
        raise RotationError("the new master key equals the old one; is the randomness broken?")
    copy = key_path.with_name(f"{key_path.name}.old-{now:%Y%m%dT%H%M%SZ}")
    _write_key_file(copy, old_key)
    _write_key_file(staged, new_key)
    try:
        with database.transaction() as session:
            rows = list(session.scalars(select(OrganizationKeys)))
            for row in rows:
                row.wrapped = rewrap(old_key, new_key, row.wrapped, row.organization_id)
                row.rewrapped_at = now
            old_box = SecretBox.for_purpose(old_key, TOTP_PURPOSE)
            new_box = SecretBox.for_purpose(new_key, TOTP_PURPOSE)
            users = list(session.scalars(select(User).where(User.totp_secret_sealed.is_not(None))))
            for user in users:
                assert user.totp_secret_sealed is not None
                secret = old_box.open(user.totp_secret_sealed, associated=user.id.bytes)
                user.totp_secret_sealed = new_box.seal(secret, associated=user.id.bytes)
            codes = list(
                session.scalars(
                    select(EmailCode).where(
                        EmailCode.closed_at.is_(None), EmailCode.expires_at > now
                    )
                )
            )
            for code in codes:
                code.closed_at = now
    except (KeyUnwrapError, SealedSecretError) as error:
        staged.unlink(missing_ok=True)
        copy.unlink(missing_ok=True)
        raise RotationError(
            f"a value sealed under the master key does not open with it ({error}); "
            "nothing was changed"
        ) from None
    except BaseException:
        staged.unlink(missing_ok=True)
        copy.unlink(missing_ok=True)
        raise
    _install(staged, key_path)
    return RotationReport(len(rows), len(users), len(codes), copy)


def _database_opens_with(database: Database, key: bytes) -> bool:
    """Whether the stored organisation keys and TOTP secrets are sealed under `key`."""
    with database.transaction() as session:
        row = session.scalars(select(OrganizationKeys).limit(1)).first()
        if row is not None:
            try:
                OrganisationKeys.unwrap(key, row.wrapped, row.organization_id)
            except KeyUnwrapError:
                return False
            return True
        user = session.scalars(
            select(User).where(User.totp_secret_sealed.is_not(None)).limit(1)
        ).first()
        if user is not None and user.totp_secret_sealed is not None:
            try:
                SecretBox.for_purpose(key, TOTP_PURPOSE).open(
                    user.totp_secret_sealed, associated=user.id.bytes
                )
            except SealedSecretError:
                return False
            return True
    return False  # nothing sealed at all: either key would do, keep the installed one


def _write_key_file(path: Path, key: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(base64.b64encode(key) + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    _fsync_folder(path.parent)


def _install(staged: Path, key_path: Path) -> None:
    os.replace(staged, key_path)
    _fsync_folder(key_path.parent)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
