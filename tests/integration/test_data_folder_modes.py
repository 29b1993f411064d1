"""The data folder is the service's alone: under umask 022, every folder is 0700 and every file
0600, from the SQLite database and its WAL to the mail outbox, the chunk store and the master key;
and a data folder left readable by an earlier version is tightened at start."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from sfs.app import Services, build_services, prepare_first_start
from sfs.config import load_settings
from sfs.crypto.passwords import PasswordHasher
from sfs.mail.outbox import OutboxMailer
from sfs.metadata.db import create_database_engine
from tests.support import FAST_HASH
from tests.world import CLIENT, actor, make_tenant


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The umask most systems give a service that sets none: files readable by everyone."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def started(data_dir: Path) -> Services:
    settings = load_settings(data_dir=data_dir)
    services = build_services(
        settings, hasher=PasswordHasher(FAST_HASH), mailer=OutboxMailer(settings.outbox_dir)
    )
    prepare_first_start(services)
    return services


def readable_by_others(folder: Path) -> list[str]:
    found = [folder, *folder.rglob("*")]
    return [
        f"{path.relative_to(folder.parent)} {stat.filemode(path.stat().st_mode)}"
        for path in found
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)
    ]


def use_every_store(services: Services) -> None:
    acme = make_tenant(services, "Acme")  # database rows (and their audit events)
    services.password_reset.request(email=acme.user.email, client=CLIENT)  # a live reset link
    services.notifier.background.flush()  # its mail is written by the background sender
    me = actor(services, acme.user)
    services.file_content.upload(  # chunks into a pack of the local blob store
        me,
        space_id=services.spaces.my_files(me).id,
        path="/salary.ods",
        source=[os.urandom(200_000)],
        modified_at=services.clock.now(),
        base_version=None,
        client=CLIENT,
    )


def test_under_umask_022_nothing_in_the_data_folder_is_readable_by_others(
    tmp_path: Path, loose_umask: None
) -> None:
    data_dir = tmp_path / "sfs-data"
    services = started(data_dir)
    try:
        use_every_store(services)
        made = {p.relative_to(data_dir).as_posix() for p in data_dir.rglob("*")}
        # SQLite's WAL and shared memory are there while the database is open
        assert {"sfs.db", "sfs.db-wal", "sfs.db-shm", "master.key", "outbox"} <= made
        assert any(p.endswith(".eml") for p in made) and any(p.startswith("blobs/") for p in made)
        assert readable_by_others(data_dir) == []
    finally:
        services.database.dispose()


def test_a_data_folder_an_earlier_version_left_readable_is_tightened_at_start(
    tmp_path: Path, loose_umask: None
) -> None:
    data_dir = tmp_path / "sfs-data"
    (data_dir / "outbox").mkdir(parents=True)
    (data_dir / "blobs").mkdir()
    (data_dir / "outbox" / "reset.eml").write_text("a live reset link")
    engine = create_database_engine(f"sqlite:///{data_dir / 'sfs.db'}")
    engine.dispose()
    for path in [data_dir, *data_dir.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)  # as umask 022 made them before
    assert readable_by_others(data_dir)

    services = started(data_dir)
    try:
        assert readable_by_others(data_dir) == []
    finally:
        services.database.dispose()
