"""What a server's database may hold that the server itself now refuses: names that would climb
out of the synced folder on some platform, and modification times at the ends of the calendar.
Planted directly in the database (the API refuses them), they must never be written outside
the folder, never end a pass, and leave no partial download."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import update

from sfs.client.sync.engine import SyncEngine
from sfs.client.sync.ignore import TEMP_PREFIX
from sfs.metadata.db import Database
from sfs.metadata.file_models import JournalEntry, Node, Version
from sfs.protocol.limits import EARLIEST_TIME, LATEST_TIME
from sfs.protocol.paths import name_key
from tests.e2e.test_quick_start import RunningServer
from tests.e2e.test_sync_two_clients import tree, write

HOSTILE_NAMES = {
    "victim1.txt": "../../outside.txt",  # a name holding slashes: out of any folder
    "victim2.txt": "..\\..\\win.txt",  # out of a folder on Windows
    "victim3.txt": "C:\\Windows\\evil.dll",
    "victim4.txt": "CON",
    "victim5.txt": "gpj\u202eexe.txt",
    "Escape": "..",  # a folder: /../inner.txt
}


def server_database(server: RunningServer) -> Database:
    return Database.from_url(f"sqlite:///{server.data_dir / 'sfs.db'}")


def rename_on_the_server(server: RunningServer, old: str, new: str) -> None:
    database = server_database(server)
    try:
        with database.transaction() as session:
            session.execute(
                update(Node).where(Node.name == old).values(name=new, name_key=name_key(new))
            )
    finally:
        database.dispose()


def date_on_the_server(server: RunningServer, name: str, moment: datetime) -> None:
    database = server_database(server)
    try:
        with database.transaction() as session:
            node = session.query(Node).filter(Node.name == name).one()
            node.modified_at = moment
            session.execute(
                update(Version).where(Version.node_id == node.id).values(modified_at=moment)
            )
    finally:
        database.dispose()


def everything_under(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


def test_hostile_names_on_the_server_never_leave_the_folder_and_the_rest_syncs(
    pair: tuple[SyncEngine, SyncEngine], server: RunningServer, tmp_path: Path
) -> None:
    a, b = pair
    for name in HOSTILE_NAMES:
        write(a.root / name if name != "Escape" else a.root / "Escape" / "inner.txt", b"bait")
    write(a.root / "Sub" / "fine.txt", b"fine")
    assert not a.sync_once().failed
    for old, new in HOSTILE_NAMES.items():
        rename_on_the_server(server, old, new)
    outside_before = everything_under(tmp_path.parent) - everything_under(b.root)

    report = b.sync_once()

    assert report.failed == []  # the pass finished
    warned = dict(report.warnings)
    for shown in [
        "/../../outside.txt",
        "/..\\..\\win.txt",
        "/C:\\Windows\\evil.dll",
        "/CON",
        "/gpj\u202eexe.txt",
        "/..",
        "/../inner.txt",
    ]:
        assert warned[shown].startswith("kept on the server, not synced here"), shown
    assert "device name on Windows" in warned["/CON"]
    assert tree(b.root) == {"Sub": None, "Sub/fine.txt": b"fine"}
    assert everything_under(tmp_path.parent) - everything_under(b.root) == outside_before
    assert not (tmp_path.parent / "outside.txt").exists() and not (tmp_path / "inner.txt").exists()

    # Later, through the change feed: a new file whose journal entry says it lies outside.
    write(a.root / "later.txt", b"later")
    a.sync_once()
    database = server_database(server)
    try:
        with database.transaction() as session:
            session.execute(
                update(JournalEntry)
                .where(JournalEntry.path == "/later.txt")
                .values(path="/../../later-outside.txt")
            )
    finally:
        database.dispose()
    outside_before = everything_under(tmp_path.parent) - everything_under(b.root)
    again = b.sync_once()
    assert again.failed == [] and "/../../later-outside.txt" in dict(again.warnings)
    assert not (tmp_path.parent / "later-outside.txt").exists()
    assert everything_under(tmp_path.parent) - everything_under(b.root) == outside_before
    # what the server keeps under those names is still there, and a's copies are untouched
    assert (a.root / "victim1.txt").read_bytes() == b"bait"


def test_times_at_the_ends_of_the_calendar_on_the_server_do_not_stop_a_pass(
    pair: tuple[SyncEngine, SyncEngine], server: RunningServer
) -> None:
    a, b = pair
    write(a.root / "future.txt", b"from 9999")
    write(a.root / "past.txt", b"from year 1")
    write(a.root / "big-future.bin", os.urandom(3 * 1024 * 1024))  # downloaded on its own
    write(a.root / "fine.txt", b"fine")
    assert not a.sync_once().failed
    last = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    date_on_the_server(server, "future.txt", last)
    date_on_the_server(server, "big-future.bin", last)
    date_on_the_server(server, "past.txt", datetime(1, 1, 1, tzinfo=UTC))

    report = b.sync_once()

    assert (report.failed, report.downloaded) == ([], 4)
    assert tree(b.root) == tree(a.root)
    assert list(b.root.rglob(f"{TEMP_PREFIX}*")) == []
    latest = LATEST_TIME.timestamp() - 1
    assert os.stat(b.root / "future.txt").st_mtime == latest  # the nearest time the window holds
    assert os.stat(b.root / "big-future.bin").st_mtime == latest
    assert os.stat(b.root / "past.txt").st_mtime == EARLIEST_TIME.timestamp()
    again = b.sync_once()
    assert again.failed == [] and not again.changed_anything  # settled: nothing sent back
