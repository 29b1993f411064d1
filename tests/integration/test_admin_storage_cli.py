"""`sfs admin fsck`, `gc` and `rotate-master-key` as an operator runs them, against each database.

The service and the command share a data folder: its master key file and its local blob folder.
"""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from sfs.app import Services, build_services
from sfs.auth import totp
from sfs.auth.throttle import RateLimiters
from sfs.cli.main import main
from sfs.config import Settings, load_settings
from sfs.crypto.passwords import PasswordHasher
from sfs.domain.actor import Actor
from sfs.mail.outbox import OutboxMailer
from sfs.metadata.db import Database
from sfs.metadata.file_models import Chunk
from sfs.metadata.models import EmailCode
from sfs.ports import SystemRandomness
from sfs.services.storage import master_key_rotation
from sfs.services.storage.master_key_rotation import rotate_master_key
from tests.support import FAST_HASH, FakeClock
from tests.world import CLIENT, actor, make_tenant

Run = Callable[..., Result]
MODIFIED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return load_settings(data_dir=tmp_path / "data", database_url=database_url)


def open_services(settings: Settings, clock: FakeClock) -> Services:
    """Services that read the master key from the data folder, as `sfs serve` does."""
    return build_services(
        settings,
        database=Database.from_url(settings.database_url),
        clock=clock,
        mailer=OutboxMailer(settings.outbox_dir),
        hasher=PasswordHasher(FAST_HASH),
        limiters=RateLimiters.from_storage_uri("memory://"),
    )


@pytest.fixture
def services(settings: Settings, clock: FakeClock) -> Iterator[Services]:
    built = open_services(settings, clock)
    yield built
    built.database.dispose()


@pytest.fixture
def run(settings: Settings) -> Run:
    environment = {
        "SFS_DATA_DIR": str(settings.data_dir),
        "SFS_DATABASE_URL": settings.database_url,
    }

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), env=environment)

    return invoke


@pytest.fixture
def user(services: Services) -> Actor:
    return actor(services, make_tenant(services, "Acme").user)


def upload(services: Services, who: Actor, path: str, data: bytes) -> None:
    services.file_content.upload(
        who,
        space_id=services.spaces.my_files(who).id,
        path=path,
        source=[data],
        modified_at=MODIFIED,
        base_version=None,
        client=CLIENT,
    )


def download(services: Services, who: Actor, path: str) -> bytes:
    space_id = services.spaces.my_files(who).id
    return b"".join(services.file_content.download(who, space_id=space_id, path=path).body)


def pack_file(settings: Settings, services: Services, path_chunk: str) -> Path:
    with services.database.transaction() as session:
        pack_id = session.scalars(select(Chunk.pack_id).where(Chunk.chunk_id == path_chunk)).one()
    return settings.data_dir / "blobs" / "packs" / pack_id[:2] / pack_id


def first_chunk_of(services: Services, who: Actor, path: str) -> str:
    space_id = services.spaces.my_files(who).id
    plan = services.file_versions.read_plan(who, space_id=space_id, path=path)
    return plan.chunks[0][0].chunk_id


def test_fsck_is_clean_then_names_the_file_with_a_flipped_byte(
    run: Run, settings: Settings, services: Services, user: Actor
) -> None:
    upload(services, user, "/fine.txt", os.urandom(40_000))
    upload(services, user, "/ledger.xlsx", os.urandom(60_000))
    clean = run("admin", "fsck")
    assert clean.exit_code == 0, clean.output
    assert "No damage found." in clean.output

    pack = pack_file(settings, services, first_chunk_of(services, user, "/ledger.xlsx"))
    raw = bytearray(pack.read_bytes())
    raw[100] ^= 0x01
    pack.write_bytes(bytes(raw))

    damaged = run("admin", "fsck")
    assert damaged.exit_code == 1
    assert "DAMAGED Acme / My Files of user@acme.example.com: /ledger.xlsx version 1" in (
        damaged.output
    )
    assert "authentication tag does not match" in damaged.output
    assert "/fine.txt" not in damaged.output


def test_fsck_reports_a_missing_pack_by_file(
    run: Run, settings: Settings, services: Services, user: Actor
) -> None:
    upload(services, user, "/gone.txt", os.urandom(40_000))
    pack_file(settings, services, first_chunk_of(services, user, "/gone.txt")).unlink()
    result = run("admin", "fsck")
    assert result.exit_code == 1
    assert "/gone.txt version 1 (current)" in result.output
    assert "is missing from the blob store" in result.output


def test_gc_deletes_purged_content_with_no_grace(
    run: Run, settings: Settings, services: Services, user: Actor
) -> None:
    upload(services, user, "/old.bin", os.urandom(100_000))
    space_id = services.spaces.my_files(user).id
    services.file_tree.delete(user, space_id=space_id, path="/old.bin", client=CLIENT)
    (trashed,) = services.file_tree.trash(user, space_id=space_id)
    services.file_tree.purge(user, space_id=space_id, node_id=trashed.id, client=CLIENT)
    # The rows carry the fake clock's time, in the past: the default grace period is over.
    result = run("admin", "gc", "--grace", "0")
    assert result.exit_code == 0, result.output
    assert "and 1 pack(s)" in result.output
    assert not [p for p in (settings.data_dir / "blobs").rglob("*") if p.is_file()]
    assert run("admin", "gc", "--grace", "soon").exit_code == 2


def test_rotation_keeps_files_and_authenticator_codes_working(
    run: Run, settings: Settings, services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    user, admin = actor(services, acme.user), actor(services, acme.admin)
    data = os.urandom(70_000)
    upload(services, user, "/keep.bin", data)
    setup = services.second_factor.begin_totp(user, client=CLIENT)
    services.second_factor.complete_enrolment(
        user,
        method="totp",
        code=totp.code_at_step(setup.secret, totp.time_step(clock.now())),
        client=CLIENT,
    )
    # An email code open by the system clock, which the command runs on.
    clock.current = datetime.now(UTC)
    services.second_factor.begin_email(admin, client=CLIENT)
    key_file = settings.master_key_path
    old_key = key_file.read_bytes()

    result = run("admin", "rotate-master-key")
    assert result.exit_code == 0, result.output
    assert "re-wrapped the keys of 1 organisation(s), re-sealed 1 authenticator secret(s)" in (
        result.output
    )
    assert "closed 1 open email code(s)" in result.output
    (copy,) = key_file.parent.glob("master.key.old-*")
    assert str(copy) in result.output and "delete it" in result.output
    assert copy.read_bytes() == old_key
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_bytes() != old_key
    assert not master_key_rotation.staged_key_path(key_file).exists()

    restarted = open_services(settings, clock)
    try:
        assert download(restarted, user, "/keep.bin") == data
        clock.advance(seconds=30)
        code = totp.code_at_step(setup.secret, totp.time_step(clock.now()))
        restarted.second_factor.verify(user, code=code, client=CLIENT)
        with restarted.database.transaction() as session:
            assert all(row.closed_at for row in session.scalars(select(EmailCode)))
    finally:
        restarted.database.dispose()


def test_a_rotation_interrupted_before_the_rename_is_finished_by_the_next_run(
    settings: Settings,
    services: Services,
    user: Actor,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = os.urandom(30_000)
    upload(services, user, "/keep.bin", data)
    key_file = settings.master_key_path
    old_key = key_file.read_bytes()

    def crash(staged: Path, key_path: Path) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(master_key_rotation, "_install", crash)
    with pytest.raises(OSError, match="power cut"):
        rotate_master_key(
            database=services.database,
            key_path=key_file,
            clock=clock,
            randomness=SystemRandomness(),
        )
    monkeypatch.undo()
    staged = master_key_rotation.staged_key_path(key_file)
    assert key_file.read_bytes() == old_key and staged.exists()
    new_key = staged.read_bytes()

    report = rotate_master_key(
        database=services.database, key_path=key_file, clock=clock, randomness=SystemRandomness()
    )
    assert report.completed_interrupted
    assert key_file.read_bytes() == new_key and not staged.exists()
    assert len(base64.b64decode(new_key.strip())) == 32
    restarted = open_services(settings, clock)
    try:
        assert download(restarted, user, "/keep.bin") == data
    finally:
        restarted.database.dispose()


def test_gc_drops_chunked_uploads_idle_for_a_day(
    run: Run, services: Services, user: Actor, clock: FakeClock
) -> None:
    space_id = services.spaces.my_files(user).id
    # The command runs on the system clock: place the uploads around it.
    clock.current = datetime.now(UTC) - timedelta(hours=25)
    services.upload_sessions.open(user, space_id=space_id, transfer_id="abandoned")
    clock.current = datetime.now(UTC) - timedelta(hours=1)
    services.upload_sessions.open(user, space_id=space_id, transfer_id="recent")
    result = run("admin", "gc")
    assert result.exit_code == 0, result.output
    assert "Dropped 1 chunked upload(s) nobody touched for a day." in result.output
    clock.current = datetime.now(UTC)
    assert [u.transfer_id for u in services.upload_sessions.uploads(user)] == ["recent"]
