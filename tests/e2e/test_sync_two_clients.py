"""Two sync clients and one real server on loopback: changes flow both ways and nothing is lost."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import unicodedata
import uuid
from pathlib import Path

import pytest

from sfs.client.sync.engine import SyncEngine
from sfs.client.sync.errors import BoundElsewhere
from sfs.client.sync.remote import SyncApi
from tests.e2e.test_quick_start import RunningServer

SFS = str(Path(sys.executable).with_name("sfs"))


def tree(root: Path) -> dict[str, bytes | None]:
    """Every file (with content) and folder (None) under root, but the client's own state."""
    found: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if relative == ".sfs" or relative.startswith(".sfs/"):
            continue
        found[relative] = None if path.is_dir() else path.read_bytes()
    return found


def settle(a: SyncEngine, b: SyncEngine) -> None:
    """Sync until neither side changes anything (at most a few passes), then compare."""
    for _ in range(4):
        reports = [a.sync_once(), b.sync_once()]
        assert not any(r.failed for r in reports), [r.failed for r in reports]
        if not any(r.changed_anything for r in reports):
            break
    assert tree(a.root) == tree(b.root)


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_files_and_folders_flow_both_ways(pair: tuple[SyncEngine, SyncEngine]) -> None:
    a, b = pair
    write(a.root / "Docs" / "plan.txt", b"version one")
    (a.root / "Empty").mkdir()
    write(a.root / "big.bin", os.urandom(3 * 1024 * 1024))
    settle(a, b)
    assert (b.root / "Docs" / "plan.txt").read_bytes() == b"version one"
    assert (b.root / "Empty").is_dir()
    write(b.root / "Docs" / "plan.txt", b"version two, from b")
    settle(b, a)
    assert (a.root / "Docs" / "plan.txt").read_bytes() == b"version two, from b"


def test_deletes_propagate(pair: tuple[SyncEngine, SyncEngine]) -> None:
    a, b = pair
    write(a.root / "x.txt", b"x")
    write(a.root / "Old" / "y.txt", b"y")
    settle(a, b)
    (b.root / "x.txt").unlink()
    (b.root / "Old" / "y.txt").unlink()
    (b.root / "Old").rmdir()
    settle(b, a)
    assert tree(a.root) == {}
    trash = a.api.trash()
    assert sorted(n.path for n in trash) == ["/Old", "/x.txt"]


def test_a_rename_is_sent_as_a_move(pair: tuple[SyncEngine, SyncEngine]) -> None:
    a, b = pair
    write(a.root / "draft.txt", b"the text" * 1000)
    settle(a, b)
    cursor = a.cursor
    (a.root / "Final").mkdir()
    os.rename(a.root / "draft.txt", a.root / "Final" / "report.txt")
    report = a.sync_once()
    assert report.moved == 1 and report.bytes_sent == 0
    changes = a.api._object("GET", "/spaces/me/changes", params={"cursor": cursor})["changes"]
    assert [(c["operation"], c["path"], c["old_path"]) for c in changes] == [
        ("create", "/Final", None),
        ("move", "/Final/report.txt", "/draft.txt"),
    ]
    received = b.sync_once()
    assert received.moved == 1 and received.bytes_received == 0
    assert tree(b.root) == {"Final": None, "Final/report.txt": b"the text" * 1000}


def test_a_move_that_kept_no_inode_is_sent_as_a_move(pair: tuple[SyncEngine, SyncEngine]) -> None:
    a, b = pair
    write(a.root / "photos" / "IMG_0001.jpg", os.urandom(300_000))
    write(a.root / "same-size.bin", os.urandom(300_000))  # same size, other content
    settle(a, b)
    # As a copy to another disk and back, or a file manager's copy-then-delete, would do.
    (a.root / "Holiday").mkdir()
    shutil.copyfile(a.root / "photos" / "IMG_0001.jpg", a.root / "Holiday" / "beach.jpg")
    os.remove(a.root / "photos" / "IMG_0001.jpg")

    report = a.sync_once()

    assert (report.moved, report.uploaded, report.bytes_sent) == (1, 0, 0)
    received = b.sync_once()
    assert received.moved == 1 and received.bytes_received == 0
    assert tree(b.root) == tree(a.root)


def test_server_side_moves_deletes_copies_and_restores_reach_the_folder_from_the_feed(
    pair: tuple[SyncEngine, SyncEngine], server: RunningServer, token: str
) -> None:
    a, b = pair
    write(a.root / "Docs" / "x.txt", b"x")
    write(a.root / "Docs" / "Sub" / "y.txt", b"y")
    write(a.root / "Docs2" / "z.txt", b"z")  # a name sharing a prefix: untouched
    settle(a, b)
    api = b.api  # the web portal or another program, not a sync client
    api.create_folder("/Archive")
    api.move("/Docs", "/Archive/Docs")
    api.copy("/Archive/Docs/x.txt", "/copy.txt")
    api.delete("/Archive/Docs/Sub")
    [trashed] = [n for n in api.trash() if n.name == "Sub"]
    api.restore_from_trash(trashed.id)
    api.delete("/Docs2/z.txt")

    report = a.sync_once()

    assert not report.failed and report.bytes_received == 0  # all of it from the folder itself
    assert tree(a.root) == {
        "Archive": None,
        "Archive/Docs": None,
        "Archive/Docs/x.txt": b"x",
        "Archive/Docs/Sub": None,
        "Archive/Docs/Sub/y.txt": b"y",
        "copy.txt": b"x",
        "Docs2": None,
    }
    (a.root.parent / "check").mkdir()
    check = SyncEngine(a.root.parent / "check", SyncApi(server.base_url, token=token))
    try:
        check.sync_once()  # a first pass: the full listing
        assert tree(check.root) == tree(a.root)
    finally:
        check.close()
        check.api.close()


def test_a_renamed_folder_goes_to_the_server_as_one_move(
    pair: tuple[SyncEngine, SyncEngine],
) -> None:
    a, b = pair
    for n in range(300):
        write(a.root / "Projects" / "2026" / f"note-{n:03}.txt", f"note {n}".encode())
    settle(a, b)
    cursor = a.cursor
    os.rename(a.root / "Projects", a.root / "Archive")
    write(a.root / "Archive" / "2026" / "note-007.txt", b"edited during the rename")

    report = a.sync_once()

    assert (report.moved, report.uploaded, report.failed) == (1, 1, [])
    changes = a.api._object("GET", "/spaces/me/changes", params={"cursor": cursor})["changes"]
    assert [(c["operation"], c["path"], c["old_path"]) for c in changes] == [
        ("move", "/Archive", "/Projects"),
        ("update", "/Archive/2026/note-007.txt", None),
    ]
    received = b.sync_once()
    assert received.bytes_received < 100 and not received.failed
    assert tree(b.root) == tree(a.root)
    assert a.sync_once().changed_anything is False


def test_a_file_changed_on_both_sides_keeps_both(pair: tuple[SyncEngine, SyncEngine]) -> None:
    a, b = pair
    write(a.root / "notes.md", b"shared start")
    settle(a, b)
    write(a.root / "notes.md", b"edited on a")
    write(b.root / "notes.md", b"edited on b!")
    a.sync_once()
    report = b.sync_once()
    assert report.conflicts == 1
    settle(a, b)
    files = tree(b.root)
    assert files["notes.md"] == b"edited on a"
    copies = [name for name in files if name.startswith("notes (conflicted copy ")]
    assert len(copies) == 1 and copies[0].endswith(" from laptop-b).md")
    assert files[copies[0]] == b"edited on b!"


def test_an_edit_beats_a_delete(pair: tuple[SyncEngine, SyncEngine]) -> None:
    a, b = pair
    write(a.root / "keep.txt", b"original")
    settle(a, b)
    (a.root / "keep.txt").unlink()
    write(b.root / "keep.txt", b"edited while a deleted it")
    a.sync_once()
    b.sync_once()
    settle(a, b)
    assert (a.root / "keep.txt").read_bytes() == b"edited while a deleted it"


def test_ignored_files_stay_local(pair: tuple[SyncEngine, SyncEngine]) -> None:
    a, b = pair
    write(a.root / ".sfsignore", b"build/\n*.log\n")
    write(a.root / "build" / "out.o", b"object")
    write(a.root / "debug.log", b"log")
    write(a.root / "~$report.docx", b"lock")
    write(a.root / ".DS_Store", b"finder")
    write(a.root / "report.docx", b"real")
    a.sync_once()
    b.sync_once()
    assert sorted(tree(b.root)) == [".sfsignore", "report.docx"]


def test_a_download_reuses_chunks_the_folder_already_has(
    pair: tuple[SyncEngine, SyncEngine],
) -> None:
    a, b = pair
    body = os.urandom(2 * 1024 * 1024)
    write(a.root / "v1.bin", body)
    settle(a, b)
    write(a.root / "v2.bin", body[: 1024 * 1024] + b"inserted" + body[1024 * 1024 :])
    sent = a.sync_once()
    assert 0 < sent.bytes_sent < 200 * 1024
    received = b.sync_once()
    assert received.downloaded == 1 and 0 < received.bytes_received < 200 * 1024
    assert (b.root / "v2.bin").read_bytes() == (a.root / "v2.bin").read_bytes()


def test_the_command_line_syncs_once_and_reports_status(
    server: RunningServer, token: str, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "credentials.json").write_text(
        f'{{"server_url": "{server.base_url}", "token": "{token}", "email": "x@example.com", '
        '"device_name": "cli"}'
    )
    os.chmod(config / "credentials.json", 0o600)
    folder = tmp_path / "synced"
    write(folder / "hello.txt", b"hello")
    environment = {**os.environ, "SFS_CLIENT_CONFIG_DIR": str(config)}
    first = subprocess.run(
        [SFS, "sync", str(folder), "--once", "--json"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 0, first.stderr
    assert '"event": "uploaded", "path": "/hello.txt"' in first.stdout
    events = [json.loads(line) for line in first.stdout.splitlines()]
    progress = [e for e in events if e["event"] == "progress"]
    assert progress[-1]["files_done"] == progress[-1]["files_total"] == 1
    assert progress[-1]["bytes_done"] == progress[-1]["bytes_total"] == len(b"hello")
    status = subprocess.run(
        [SFS, "status", str(folder)], env=environment, capture_output=True, text=True, timeout=60
    )
    assert status.stdout.startswith("up to date")
    write(folder / "new.txt", b"new")
    pending = subprocess.run(
        [SFS, "status", str(folder)], env=environment, capture_output=True, text=True, timeout=60
    )
    assert "pending  new      /new.txt" in pending.stdout


def test_an_edit_in_a_big_file_sends_little_more_than_the_edit(
    pair: tuple[SyncEngine, SyncEngine],
) -> None:
    a, b = pair
    body = os.urandom(8 * 1024 * 1024)
    write(a.root / "video.bin", body)
    settle(a, b)
    middle = len(body) // 2
    write(a.root / "video.bin", body[:middle] + b"an insertion" + body[middle:])
    report = a.sync_once()
    # A few new chunks plus a manifest of runs: far below the 8 MiB file and its 350-chunk list.
    assert report.uploaded == 1 and report.bytes_sent_total < 300 * 1024
    assert b.sync_once().downloaded == 1
    assert (b.root / "video.bin").read_bytes() == (a.root / "video.bin").read_bytes()


def test_a_folder_stays_bound_to_the_space_it_was_first_synced_with(
    server: RunningServer, token: str, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "credentials.json").write_text(
        json.dumps(
            {"server_url": server.base_url, "token": token, "email": "x", "device_name": "cli"}
        )
    )
    os.chmod(config / "credentials.json", 0o600)
    environment = {**os.environ, "SFS_CLIENT_CONFIG_DIR": str(config)}
    folder = tmp_path / "synced"
    write(folder / "mine.txt", b"mine")

    def sync_cli(*options: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SFS, "sync", str(folder), "--once", *options],
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )

    unknown = sync_cli("--space", "Marketing")
    assert unknown.returncode == 2
    assert "no space named 'Marketing' here; you can sync: 'My Files'" in unknown.stderr
    assert not (folder / ".sfs").exists()  # nothing was started
    assert sync_cli("--space", "My Files").returncode == 0
    assert sync_cli().returncode == 0  # the same space, named by default

    with SyncApi(server.base_url, token=token) as api:
        api.space = str(uuid.uuid4())  # as if another user's space, or another server
        engine = SyncEngine(folder, api)
        with pytest.raises(BoundElsewhere, match="is kept in sync with"):
            engine.sync_once()
        engine.close()
    assert (folder / "mine.txt").read_bytes() == b"mine"


def test_empty_files_nfd_names_and_symbolic_links(pair: tuple[SyncEngine, SyncEngine]) -> None:
    a, b = pair
    write(a.root / "empty.txt", b"")
    nfd = unicodedata.normalize("NFD", "Café menu.txt")  # as macOS hands names out
    write(a.root / nfd, b"soup")
    write(a.root / "target.txt", b"linked to")
    os.symlink(a.root / "target.txt", a.root / "link.txt")

    report = a.sync_once()

    assert ("/link.txt", "a symbolic link: not followed, not synced") in report.warnings
    assert (report.uploaded, report.failed) == (3, [])
    assert b.sync_once().downloaded == 3
    assert (b.root / "empty.txt").read_bytes() == b""
    assert (b.root / "Café menu.txt").read_bytes() == b"soup"  # NFC on the server and on b
    assert not (b.root / "link.txt").exists()
    write(a.root / nfd, b"soup of the day")  # an edit under the NFD name updates the same file
    edited = a.sync_once()
    assert (edited.uploaded, edited.failed) == (1, [])
    assert b.sync_once().downloaded == 1
    assert (b.root / "Café menu.txt").read_bytes() == b"soup of the day"
    assert sorted(os.listdir(a.root)) == sorted(
        [".sfs", "empty.txt", nfd, "target.txt", "link.txt"]
    )


def test_an_edit_inside_a_folder_renamed_on_the_other_side_is_kept(
    pair: tuple[SyncEngine, SyncEngine],
) -> None:
    a, b = pair
    write(a.root / "Docs" / "c.txt", b"first")
    settle(a, b)
    os.rename(a.root / "Docs", a.root / "Papers")
    write(b.root / "Docs" / "c.txt", b"edited on b")  # b has not seen the rename yet
    write(b.root / "Docs" / "new.txt", b"added on b")
    a.sync_once()

    report = b.sync_once()

    assert not report.failed  # the folder is made again on the server for the edit to land in
    settle(a, b)
    assert tree(a.root) == {
        "Papers": None,
        "Papers/c.txt": b"first",
        "Docs": None,
        "Docs/c.txt": b"edited on b",
        "Docs/new.txt": b"added on b",
    }


def test_what_arrives_in_a_folder_while_it_is_renamed_here_is_not_lost(
    pair: tuple[SyncEngine, SyncEngine],
) -> None:
    a, b = pair
    write(a.root / "Docs" / "c.txt", b"first")
    settle(a, b)
    write(b.root / "Docs" / "from-b.txt", b"from b")
    b.sync_once()
    os.rename(a.root / "Docs", a.root / "Papers")

    a.sync_once()  # the folder move, then its content: from-b.txt arrives under the new name

    assert (a.root / "Papers" / "from-b.txt").read_bytes() == b"from b"
    settle(a, b)
    assert tree(b.root) == {
        "Papers": None,
        "Papers/c.txt": b"first",
        "Papers/from-b.txt": b"from b",
    }
