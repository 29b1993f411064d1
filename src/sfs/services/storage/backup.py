"""Backup and restore of the embedded default: a SQLite database, a local chunk store, a master key.

**Backup, while the service runs.** The database is copied first, with SQLite's online backup
API (one step: a consistent snapshot taken inside one read transaction, writers carry on in the
WAL), then the blobs. Packs are immutable once written and named at random, so every pack the
snapshot names is already complete on disk and stays as it is; copying after the snapshot
therefore finds each of them. Only the garbage collector deletes packs; should it delete one the
snapshot still names while the copy runs, the check at the end finds it missing and the backup
fails rather than being silently incomplete.

**The master key is escrow, not data.** A backup holds it only when asked
(`include_master_key`); by default it records the key's fingerprint and nothing else. Every
chunk, the organisations' data keys and the TOTP secrets are sealed under that key, so a backup
without it is useless to whoever takes the backup media, which is what a provider wants of the
copies it sends off-site: the key is kept apart (a password vault, a sealed envelope, a second
custodian), and restore asks for it and checks it against the fingerprint.

**Restore, into nothing.** Restore writes only where nothing is: no database file, an empty chunk
store, a data folder empty but for (at most) the right master key. Blobs go first, the database
last, so an interrupted restore leaves no database that would start a server over missing
chunks. The restored journals are then moved on (`restart_journals`): sync clients that saw
changes made after the backup are told to list their spaces afresh.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sfs.blobs.local import LocalBackend
from sfs.blobs.packs import PACK_PREFIX
from sfs.crypto.master_key import read_master_key
from sfs.crypto.secret_box import derive_key
from sfs.domain.errors import AlreadyExists, InvalidInput
from sfs.metadata import migrate
from sfs.metadata.db import Database
from sfs.metadata.file_models import Chunk
from sfs.private_files import FILE_MODE, SQLITE_SIDE_FILES, make_private_folder, open_private
from sfs.services.files.changes import restart_journals

BACKUP_FORMAT = 1
MANIFEST = "sfs-backup.json"
DATABASE = "sfs.db"
BLOBS = "blobs"
MASTER_KEY = "master.key"


class BackupIncomplete(Exception):
    """Packs the database snapshot names were gone before they could be copied."""


@dataclass(frozen=True, slots=True)
class EmbeddedLayout:
    """Where an embedded deployment keeps its state."""

    data_dir: Path
    database_file: Path
    blob_root: Path
    master_key_file: Path


@dataclass(frozen=True, slots=True)
class BackupReport:
    blobs: int
    blob_bytes: int
    database_bytes: int
    includes_master_key: bool
    key_fingerprint: str


@dataclass(frozen=True, slots=True)
class RestoreReport:
    blobs: int
    spaces_moved_on: int
    master_key_source: str  # "backup", "given file", "already in place"
    created_at: str


def key_fingerprint(master_key: bytes) -> str:
    """Names the key without revealing it (a one-way derivation, never the key itself)."""
    return derive_key(master_key, "backup/fingerprint")[:12].hex()


def back_up(
    layout: EmbeddedLayout, destination: Path, *, include_master_key: bool, now: datetime
) -> BackupReport:
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise AlreadyExists(f"{destination} exists and is not an empty folder.")
    if not layout.database_file.is_file():
        raise InvalidInput(f"There is no database at {layout.database_file} to back up.")
    master_key = read_master_key(layout.master_key_file)
    make_private_folder(destination)
    database_bytes = _snapshot_database(layout.database_file, destination / DATABASE)
    named_packs = _packs_named_by(destination / DATABASE)

    source, target = LocalBackend(layout.blob_root), LocalBackend(destination / BLOBS)
    blobs = blob_bytes = 0
    for name in source.list():
        data = source.get(name)
        target.put(name, data)
        blobs, blob_bytes = blobs + 1, blob_bytes + len(data)
    copied = {name.removeprefix(PACK_PREFIX) for name in target.list(PACK_PREFIX)}
    missing = named_packs - copied
    if missing:
        raise BackupIncomplete(
            f"{len(missing)} pack(s) the database names were deleted during the backup "
            "(a garbage collection ran meanwhile?); back up again into an empty folder."
        )
    if include_master_key:
        _write_private(destination / MASTER_KEY, layout.master_key_file.read_bytes())
    fingerprint = key_fingerprint(master_key)
    manifest = {
        "format": BACKUP_FORMAT,
        "created_at": now.isoformat(),
        "database": DATABASE,
        "blobs": BLOBS,
        "blob_count": blobs,
        "master_key_included": include_master_key,
        "master_key_fingerprint": fingerprint,
    }
    # Written last: a folder without it is a backup that did not finish.
    _write_private(destination / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode())
    return BackupReport(blobs, blob_bytes, database_bytes, include_master_key, fingerprint)


def restore(layout: EmbeddedLayout, source: Path, *, master_key_file: Path | None) -> RestoreReport:
    manifest = _read_manifest(source)
    _refuse_anything_there(layout)
    key_bytes, key_source = _master_key_to_use(layout, source, manifest, master_key_file)

    make_private_folder(layout.data_dir)
    backed_up, target = LocalBackend(source / BLOBS), LocalBackend(layout.blob_root)
    blobs = 0
    for name in backed_up.list():
        target.put(name, backed_up.get(name))
        blobs += 1
    if key_bytes is not None:
        make_private_folder(layout.master_key_file.parent)
        _write_private(layout.master_key_file, key_bytes)
    make_private_folder(layout.database_file.parent)
    partial = layout.database_file.with_name(layout.database_file.name + ".restoring")
    _snapshot_database(source / str(manifest["database"]), partial, read_only=True)
    os.replace(partial, layout.database_file)

    database = Database.from_url(f"sqlite:///{layout.database_file}")
    try:
        migrate.upgrade(database.engine)  # a backup made by an older version of sfs
        moved_on = restart_journals(database)
    finally:
        database.dispose()
    return RestoreReport(blobs, moved_on, key_source, str(manifest["created_at"]))


def _snapshot_database(source: Path, target: Path, *, read_only: bool = False) -> int:
    """A consistent copy of a SQLite database, live or not, in one step of the backup API.

    The copy is a single self-contained file (rollback journal, not WAL), so a backup can be
    read from read-only media (`read_only`), where SQLite could not make a WAL's side files.
    """
    os.close(open_private(target, os.O_WRONLY | os.O_EXCL))  # 0600 before SQLite writes it
    origin = sqlite3.connect(f"file:{source}?mode=ro" if read_only else str(source), uri=True)
    try:
        copy = sqlite3.connect(target)
        try:
            origin.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")
            (verdict,) = copy.execute("PRAGMA quick_check").fetchone()
        finally:
            copy.close()
    finally:
        origin.close()
    if verdict != "ok":
        raise InvalidInput(f"The copy of {source} is damaged: {verdict}")
    return target.stat().st_size


def _packs_named_by(database_file: Path) -> set[str]:
    # Plain sqlite3, read-only: the engine of `sfs.metadata.db` would turn the copy to WAL.
    snapshot = sqlite3.connect(f"file:{database_file}?mode=ro", uri=True)
    try:
        rows = snapshot.execute(f"SELECT DISTINCT pack_id FROM {Chunk.__tablename__}")  # noqa: S608
        return {str(pack_id) for (pack_id,) in rows}
    finally:
        snapshot.close()


def _read_manifest(source: Path) -> dict[str, object]:
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except FileNotFoundError:
        raise InvalidInput(
            f"{source} holds no {MANIFEST}: not a backup made by `sfs admin backup`, "
            "or one that did not finish."
        ) from None
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"Cannot read {source / MANIFEST}: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != BACKUP_FORMAT:
        raise InvalidInput(f"{source} is a backup of a format this version of sfs cannot read.")
    return manifest


def _refuse_anything_there(layout: EmbeddedLayout) -> None:
    """Restore never overwrites: every place it writes to must hold nothing yet."""
    for path in [
        layout.database_file,
        *(Path(f"{layout.database_file}{s}") for s in SQLITE_SIDE_FILES),
    ]:
        if path.exists():
            raise AlreadyExists(f"{path} exists: restore only into an empty data folder.")
    if layout.blob_root.exists() and any(layout.blob_root.iterdir()):
        raise AlreadyExists(f"{layout.blob_root} is not empty: restore only into an empty one.")
    if layout.data_dir.exists():
        allowed = {layout.blob_root, layout.master_key_file}
        for entry in layout.data_dir.iterdir():
            if entry not in allowed:
                raise AlreadyExists(
                    f"{layout.data_dir} is not empty ({entry.name}): restore only into an empty "
                    "data folder."
                )


def _master_key_to_use(
    layout: EmbeddedLayout,
    source: Path,
    manifest: dict[str, object],
    given: Path | None,
) -> tuple[bytes | None, str]:
    """The key file's bytes to write (None: the right one is in place already), and whence."""
    expected = manifest.get("master_key_fingerprint")
    if given is not None:
        candidate, origin = given, "given file"
    elif manifest.get("master_key_included"):
        candidate, origin = source / MASTER_KEY, "backup"
    elif layout.master_key_file.exists():
        candidate, origin = layout.master_key_file, "already in place"
    else:
        raise InvalidInput(
            "This backup holds no master key: give the escrowed copy with --master-key FILE."
        )
    if key_fingerprint(read_master_key(candidate)) != expected:
        raise InvalidInput(
            f"The master key in {candidate} is not the one this backup was made under."
        )
    if candidate == layout.master_key_file:
        return None, origin
    if layout.master_key_file.exists():
        if layout.master_key_file.read_bytes().strip() != candidate.read_bytes().strip():
            raise AlreadyExists(
                f"{layout.master_key_file} holds another master key: restore only into an empty "
                "data folder."
            )
        return None, origin
    return candidate.read_bytes(), origin


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
