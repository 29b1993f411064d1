"""A disk that misbehaves under sync (after Syncthing's errorfs): permission denied, a full disk,
a file changing while it is read, names the server refuses, case-only renames. Each ends with a
warning or a failure named in the report, nothing lost on either side, and a later pass that
finishes once the disk behaves again."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from sfs.client.api import ApiError
from sfs.client.sync.engine import SyncEngine
from sfs.client.sync.folder_fs import FolderFS
from sfs.client.sync.ignore import TEMP_PREFIX
from sfs.client.sync.remote import SyncApi
from sfs.client.sync.report import Report
from tests.e2e.test_quick_start import RunningServer
from tests.e2e.test_sync_two_clients import settle, tree, write
from tests.errorfs import DISK_FULL, IO_ERROR, PERMISSION_DENIED, ErrorFS


class Pair:
    """Client A on a faulty disk, client B on a good one, one server."""

    def __init__(self, server: RunningServer, token: str, tmp_path: Path) -> None:
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        self.disk = ErrorFS(tmp_path / "a")
        self.a = SyncEngine(
            tmp_path / "a", SyncApi(server.base_url, token=token), device="a", fs=self.disk
        )
        self.b = SyncEngine(tmp_path / "b", SyncApi(server.base_url, token=token), device="b")

    def close(self) -> None:
        for engine in (self.a, self.b):
            engine.close()
            engine.api.close()


@pytest.fixture
def faulty(server: RunningServer, token: str, tmp_path: Path) -> Iterator[Pair]:
    made = Pair(server, token, tmp_path)
    yield made
    made.close()


def on_server(engine: SyncEngine) -> set[str]:
    return {path for path, entry in engine.api.snapshot().entries.items() if entry.kind == "file"}


def partial_files(root: Path) -> list[Path]:
    return list(root.rglob(f"{TEMP_PREFIX}*"))


def test_a_folder_the_disk_refuses_is_left_alone_not_deleted(faulty: Pair) -> None:
    write(faulty.a.root / "Private" / "salary.ods", b"numbers")
    write(faulty.a.root / "open.txt", b"open")
    settle(faulty.a, faulty.b)
    faulty.disk.fail("listdir", "Private", PERMISSION_DENIED)
    write(faulty.b.root / "Private" / "from-b.txt", b"written on b")
    faulty.b.sync_once()

    report = faulty.a.sync_once()

    assert ("/Private", "cannot read the folder: Permission denied") in report.warnings
    assert not report.failed and report.deleted_remote == 0
    assert {"/Private/salary.ods", "/Private/from-b.txt"} <= on_server(faulty.a)
    assert not (faulty.a.root / "Private" / "from-b.txt").exists()  # not written into it either
    faulty.disk.heal()
    settle(faulty.a, faulty.b)  # the change that waited behind the refusal arrives now
    assert (faulty.a.root / "Private" / "from-b.txt").read_bytes() == b"written on b"


def test_a_file_that_cannot_be_stat_ed_is_not_taken_for_deleted(faulty: Pair) -> None:
    write(faulty.a.root / "flaky.bin", b"on a bad sector")
    settle(faulty.a, faulty.b)
    faulty.disk.fail("lstat", "flaky.bin", IO_ERROR)

    report = faulty.a.sync_once()

    assert ("/flaky.bin", "cannot read: Input/output error") in report.warnings
    assert report.deleted_remote == 0 and "/flaky.bin" in on_server(faulty.a)


def test_a_file_the_disk_will_not_let_sync_read_fails_alone_and_is_sent_later(faulty: Pair) -> None:
    write(faulty.a.root / "locked.docx", b"locked by another program")
    write(faulty.a.root / "free.txt", b"free")
    faulty.disk.fail("open_read", "locked.docx", PERMISSION_DENIED)

    report = faulty.a.sync_once()

    assert report.failed == [("/locked.docx", "Permission denied")]
    assert report.uploaded == 1 and on_server(faulty.a) == {"/free.txt"}
    recorded = [(path, reason) for path, reason, _ in faulty.a.index.failures()]
    assert recorded == [("/locked.docx", "Permission denied")]
    faulty.disk.heal()
    settle(faulty.a, faulty.b)
    assert (faulty.b.root / "locked.docx").read_bytes() == b"locked by another program"
    assert faulty.a.index.failures() == []


def test_a_folder_sync_may_not_write_into_keeps_the_download_for_later(faulty: Pair) -> None:
    write(faulty.b.root / "Shared" / "notes.txt", b"notes")
    faulty.b.sync_once()
    faulty.a.sync_once()
    write(faulty.b.root / "Shared" / "new.txt", b"new from b")
    faulty.b.sync_once()
    faulty.disk.fail("write_file", "Shared/*", PERMISSION_DENIED)

    report = faulty.a.sync_once()

    assert report.failed == [("/Shared/new.txt", "Permission denied")]
    assert partial_files(faulty.a.root) == []
    faulty.disk.heal()
    settle(faulty.a, faulty.b)


def test_a_full_disk_stops_the_downloads_leaves_no_partial_file_and_loses_nothing(
    faulty: Pair,
) -> None:
    # Over the size fetched in groups: each film streams to disk on its own.
    bodies = {f"/film-{n}.mkv": os.urandom(1_200_000) for n in range(3)}
    for path, body in bodies.items():
        write(faulty.b.root / path.lstrip("/"), body)
    faulty.b.sync_once()
    faulty.disk.fail("write_file", "*", DISK_FULL, after_bytes=300_000)

    report = faulty.a.sync_once()

    full = "The local disk is full; free some space"
    assert [reason for _, reason in report.failed] == [full] * 3
    # The first download found the disk full; the other two were not even fetched.
    assert report.bytes_received <= 1_200_000
    assert faulty.disk.refused == [("write_file", faulty.disk.refused[0][1])]
    assert partial_files(faulty.a.root) == [] and report.deleted_remote == 0
    assert on_server(faulty.a) == set(bodies)
    faulty.disk.heal()  # space freed
    settle(faulty.a, faulty.b)
    assert {f"/{k}": v for k, v in tree(faulty.a.root).items()} == bodies


def test_a_file_written_to_while_sync_reads_it_is_sent_whole_next_pass(faulty: Pair) -> None:
    log = faulty.a.root / "build.log"
    write(log, b"first line\n" * 200_000)

    def another_program_appends(path: Path) -> None:
        with open(path, "ab") as handle:
            handle.write(b"one more line\n")

    faulty.disk.change_while_read("build.log", another_program_appends)

    report: Report = faulty.a.sync_once()

    assert report.failed == [("/build.log", "/build.log changed while it was read")]
    assert on_server(faulty.a) == set()  # no torn version was committed
    settle(faulty.a, faulty.b)
    assert (faulty.b.root / "build.log").read_bytes() == log.read_bytes()


def test_a_case_only_rename_travels_as_a_move_both_ways(faulty: Pair) -> None:
    write(faulty.a.root / "readme.md", b"# hello")
    settle(faulty.a, faulty.b)
    os.rename(faulty.a.root / "readme.md", faulty.a.root / "README.md")

    report = faulty.a.sync_once()

    assert report.moved == 1 and report.uploaded == 0
    assert on_server(faulty.a) == {"/README.md"}
    settle(faulty.a, faulty.b)
    assert sorted(os.listdir(faulty.b.root)) == [".sfs", "README.md"]


class CaseInsensitiveDisk(FolderFS):
    """Answers as macOS's and Windows's default disks do: 'A.txt' exists when 'a.txt' does."""

    def exists(self, path: Path) -> bool:
        return any(n.casefold() == path.name.casefold() for n in os.listdir(path.parent))

    def same_file(self, one: Path, other: Path) -> bool:
        return one.parent == other.parent and one.name.casefold() == other.name.casefold()


def test_a_case_only_rename_from_the_server_on_a_case_insensitive_disk(
    server: RunningServer, token: str, tmp_path: Path
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "mac").mkdir()
    a = SyncEngine(tmp_path / "a", SyncApi(server.base_url, token=token), device="a")
    mac = SyncEngine(
        tmp_path / "mac",
        SyncApi(server.base_url, token=token),
        device="mac",
        fs=CaseInsensitiveDisk(),
    )
    try:
        write(a.root / "photo.JPG", b"jpeg")
        settle(a, mac)
        os.rename(a.root / "photo.JPG", a.root / "photo.jpg")
        a.sync_once()

        report = mac.sync_once()

        assert report.moved == 1 and not report.failed
        assert sorted(os.listdir(mac.root)) == [".sfs", "photo.jpg"]
        assert (mac.root / "photo.jpg").read_bytes() == b"jpeg"
        settle(a, mac)
    finally:
        for engine in (a, mac):
            engine.close()
            engine.api.close()


def test_two_names_that_differ_only_in_case_one_synced_the_other_reported(faulty: Pair) -> None:
    write(faulty.a.root / "Report.txt", b"capital")
    faulty.a.sync_once()
    write(faulty.a.root / "report.txt", b"small")
    write(faulty.a.root / "other.txt", b"other")

    report = faulty.a.sync_once()

    assert [path for path, _ in report.failed] == ["/report.txt"]
    assert "already exists" in report.failed[0][1]
    assert on_server(faulty.a) == {"/Report.txt", "/other.txt"}
    assert (faulty.a.root / "report.txt").read_bytes() == b"small"  # kept here, never lost


class DroppingNetwork(SyncApi):
    """The network goes away after `allowed` chunk fetches."""

    def __init__(self, base_url: str, token: str, allowed: int) -> None:
        super().__init__(base_url, token=token)
        self.allowed = allowed

    def fetch_chunks(self, chunk_ids: Sequence[str]) -> dict[str, bytes]:
        if self.allowed <= 0:
            raise ApiError("cannot reach the server: network is down", status=None, code="x")
        self.allowed -= 1
        return super().fetch_chunks(chunk_ids)


def test_a_download_cut_by_the_network_resumes_from_the_chunks_it_had(
    server: RunningServer, token: str, tmp_path: Path
) -> None:
    body = os.urandom(24 * 1024 * 1024)
    write(tmp_path / "up" / "video.mp4", body)
    with SyncApi(server.base_url, token=token) as api:
        uploader = SyncEngine(tmp_path / "up", api)
        uploader.sync_once()
        uploader.close()
    (tmp_path / "down").mkdir()
    network = DroppingNetwork(server.base_url, token, allowed=2)
    down = SyncEngine(tmp_path / "down", network)
    try:
        with pytest.raises(ApiError, match="network is down"):  # the pass stops, says so once
            down.sync_once()
        assert not (down.root / "video.mp4").exists()
        [partial] = partial_files(down.root)  # kept for the next pass
        written = partial.stat().st_size
        assert written > 0

        network.allowed = 1000
        resumed = down.sync_once()

        assert (resumed.downloaded, resumed.failed) == (1, [])
        assert resumed.bytes_resumed == written
        assert resumed.bytes_received + resumed.bytes_resumed == len(body)
        assert (down.root / "video.mp4").read_bytes() == body
        assert partial_files(down.root) == []
    finally:
        down.close()
        network.close()


def test_a_partial_download_of_a_version_since_replaced_is_not_used(
    server: RunningServer, token: str, tmp_path: Path
) -> None:
    write(tmp_path / "up" / "report.pdf", os.urandom(3 * 1024 * 1024))
    with SyncApi(server.base_url, token=token) as api:
        uploader = SyncEngine(tmp_path / "up", api)
        uploader.sync_once()
        (tmp_path / "down").mkdir()
        network = DroppingNetwork(server.base_url, token, allowed=0)
        down = SyncEngine(tmp_path / "down", network)
        try:
            with pytest.raises(ApiError):
                down.sync_once()
            [stale] = partial_files(down.root)
            newer = os.urandom(2 * 1024 * 1024)
            write(tmp_path / "up" / "report.pdf", newer)
            uploader.sync_once()
            network.allowed = 1000

            report = down.sync_once()

            assert report.bytes_resumed == 0 and not stale.exists()
            assert (down.root / "report.pdf").read_bytes() == newer
            assert partial_files(down.root) == []
        finally:
            uploader.close()
            down.close()
            network.close()


def test_names_the_server_refuses_are_reported_and_the_rest_syncs(
    faulty: Pair,
) -> None:
    write(faulty.a.root / "line\nbreak.txt", b"a newline in a name")
    os.close(os.open(os.fsencode(faulty.a.root) + b"/caf\xe9.txt", os.O_CREAT | os.O_WRONLY))
    write(faulty.a.root / "fine.txt", b"fine")

    report = faulty.a.sync_once()

    refused = dict(report.failed)
    assert set(refused) == {"/line\nbreak.txt", "/caf\ufffd.txt"}  # shown printable
    assert "control characters" in refused["/line\nbreak.txt"]
    assert refused["/caf\ufffd.txt"] == "the name is not valid UTF-8; rename it to sync it"
    assert {path for path, _, _ in faulty.a.index.failures()} == set(refused)
    assert on_server(faulty.a) == {"/fine.txt"}
    again = faulty.a.sync_once()  # reported again, never stuck, nothing else disturbed
    assert set(dict(again.failed)) == set(refused) and again.uploaded == 0
    os.remove(faulty.a.root / "line\nbreak.txt")
    faulty.a.sync_once()
    assert {path for path, _, _ in faulty.a.index.failures()} == {"/caf\ufffd.txt"}
