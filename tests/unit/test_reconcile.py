"""The three-way sync rules, one case each: nothing is lost, edits beat deletes, moves are moves."""

import uuid
from datetime import UTC, datetime

from sfs.client.api import ManifestEntry
from sfs.client.sync.reconcile import (
    FILE,
    FOLDER,
    Action,
    BaseEntry,
    Do,
    LocalEntry,
    RemoteEntry,
    base_after_restore,
    conflicted_copy_name,
    plan,
)
from sfs.client.sync.uploads import _PendingUpload, manifest_items

NODE = uuid.uuid4()


def base(
    size: int = 1, mtime: int = 1, inode: int = 7, etag: str = "e1", kind: str = FILE
) -> BaseEntry:
    return BaseEntry(
        kind, size, mtime, inode, 1 if kind == FILE else None, etag if kind == FILE else None, NODE
    )


def local(size: int = 1, mtime: int = 1, inode: int = 7, kind: str = FILE) -> LocalEntry:
    return LocalEntry(kind, size, mtime, inode)


def remote(
    etag: str = "e1", version: int = 1, kind: str = FILE, node: uuid.UUID = NODE
) -> RemoteEntry:
    return RemoteEntry(
        kind, 1, version if kind == FILE else None, etag if kind == FILE else None, node
    )


def test_nothing_changed_means_nothing_to_do() -> None:
    assert plan({"/a": base()}, {"/a": local()}, {"/a": remote()}) == []


def test_a_local_edit_is_uploaded_replacing_the_known_version() -> None:
    assert plan({"/a": base()}, {"/a": local(mtime=2)}, {"/a": remote()}) == [
        Action(Do.UPLOAD, "/a", base_version=1)
    ]


def test_a_remote_edit_is_downloaded() -> None:
    assert plan({"/a": base()}, {"/a": local()}, {"/a": remote(etag="e2", version=2)}) == [
        Action(Do.DOWNLOAD, "/a")
    ]


def test_both_edited_differently_is_a_conflict_and_alike_is_adopted() -> None:
    args = ({"/a": base()}, {"/a": local(mtime=2)}, {"/a": remote(etag="e2", version=2)})
    assert plan(*args) == [Action(Do.CONFLICT, "/a")]
    assert plan(*args, same_content={"/a": True}) == [Action(Do.ADOPT, "/a")]


def test_an_edit_beats_a_delete_on_either_side() -> None:
    assert plan({"/a": base()}, {}, {"/a": remote(etag="e2", version=2)}) == [
        Action(Do.DOWNLOAD, "/a")
    ]
    assert plan({"/a": base()}, {"/a": local(mtime=2)}, {}) == [
        Action(Do.UPLOAD, "/a", base_version=None)
    ]


def test_deletes_propagate_and_double_deletes_are_forgotten() -> None:
    assert plan({"/a": base()}, {}, {"/a": remote()}) == [Action(Do.DELETE_REMOTE, "/a")]
    assert plan({"/a": base()}, {"/a": local()}, {}) == [Action(Do.DELETE_LOCAL, "/a")]
    assert plan({"/a": base()}, {}, {}) == [Action(Do.FORGET, "/a")]


def test_a_folder_is_deleted_whole_unless_something_new_is_inside() -> None:
    known = {"/d": base(kind=FOLDER), "/d/x": base()}
    gone_here = plan(known, {}, {"/d": remote(kind=FOLDER), "/d/x": remote()})
    assert gone_here == [Action(Do.DELETE_REMOTE, "/d")]
    new_inside = plan(
        known,
        {},
        {"/d": remote(kind=FOLDER), "/d/x": remote(), "/d/new": remote(node=uuid.uuid4())},
    )
    assert Action(Do.DOWNLOAD, "/d/new") in new_inside
    assert Action(Do.DELETE_REMOTE, "/d") not in new_inside


def test_a_local_rename_is_a_move_and_a_remote_rename_too() -> None:
    assert plan({"/a": base()}, {"/b": local()}, {"/a": remote()}) == [
        Action(Do.MOVE_REMOTE, "/a", target="/b")
    ]
    assert plan({"/a": base()}, {"/a": local()}, {"/b": remote()}) == [
        Action(Do.MOVE_LOCAL, "/a", target="/b")
    ]


def test_a_move_that_kept_no_inode_is_recognised_by_its_content() -> None:
    copied = local(mtime=99, inode=8)  # a copy then a delete: new inode, new mtime
    assert plan({"/a": base()}, {"/b": copied}, {"/a": remote()}) == [
        Action(Do.DELETE_REMOTE, "/a"),
        Action(Do.UPLOAD, "/b"),
    ]
    assert plan({"/a": base()}, {"/b": copied}, {"/a": remote()}, moved_content={"/b": "/a"}) == [
        Action(Do.MOVE_REMOTE, "/a", target="/b")
    ]
    # Changed on the server meanwhile: not a clean move; both versions are kept by the rules.
    changed = {"/a": remote(etag="e2")}
    assert Action(Do.MOVE_REMOTE, "/a", target="/b") not in plan(
        {"/a": base()}, {"/b": copied}, changed, moved_content={"/b": "/a"}
    )


def test_a_renamed_folder_is_one_move_and_its_content_waits_for_the_next_pass() -> None:
    agreed = {
        "/Old": base(kind=FOLDER, inode=50),
        "/Old/a.txt": base(inode=51),
        "/Other.txt": base(inode=52),
    }
    here = {
        "/New": local(kind=FOLDER, inode=50),
        "/New/a.txt": local(mtime=99, inode=51),  # edited while the folder was renamed
        "/Other.txt": local(mtime=99, inode=52),
    }
    there = {
        "/Old": remote(kind=FOLDER),
        "/Old/a.txt": remote(),
        "/Other.txt": remote(),
    }
    assert plan(agreed, here, there) == [
        Action(Do.MOVE_REMOTE, "/Old", target="/New"),
        Action(Do.UPLOAD, "/Other.txt", base_version=1),
    ]
    # The server's folder moved or changed kind meanwhile: file by file, as before.
    assert Action(Do.MOVE_REMOTE, "/Old", target="/New") not in plan(
        agreed, here, {"/Other.txt": remote()}
    )


def test_new_folders_come_before_moves_into_them() -> None:
    actions = plan(
        {"/a": base()}, {"/Z": local(kind=FOLDER, inode=9), "/Z/a": local()}, {"/a": remote()}
    )
    assert actions == [
        Action(Do.MAKE_REMOTE_FOLDER, "/Z"),
        Action(Do.MOVE_REMOTE, "/a", target="/Z/a"),
    ]


def test_conflicted_copy_names() -> None:
    stamp = "2026-11-25 093000"
    assert conflicted_copy_name("Report.odt", stamp=stamp, device="laptop") == (
        "Report (conflicted copy 2026-11-25 093000 from laptop).odt"
    )
    assert conflicted_copy_name("Makefile", stamp=stamp, device="pc") == (
        "Makefile (conflicted copy 2026-11-25 093000 from pc)"
    )


def test_an_edited_manifest_is_sent_as_runs_of_the_base() -> None:
    base = [f"{n:064x}" for n in range(100)]
    new = [*base[:50], "f" * 64, *base[51:]]
    upload = _PendingUpload(
        path="/x",
        manifest=[ManifestEntry(c, 10) for c in new],
        local=LocalEntry(FILE, 1000, 1, 1),
        base_version=3,
        modified_at=datetime.now(UTC),
        base_chunks=base,
    )
    assert manifest_items(upload) == [
        {"from_base": 0, "count": 50},
        {"chunk_id": "f" * 64, "size": 10},
        {"from_base": 51, "count": 49},
    ]


def test_after_a_restore_only_what_the_server_still_agrees_with_is_believed() -> None:
    """A server restored from a backup forgot what came after it: a file it lacks is uploaded
    again (not deleted here), an edit it lacks is kept beside its older version (not
    overwritten), and what it holds as agreed stays quiet."""
    agreed = {
        "/same.txt": base(etag="same"),
        "/made-after-backup.txt": base(etag="new"),
        "/edited-after-backup.txt": base(etag="edited"),
        "/gone-both-sides.txt": base(etag="gone"),
    }
    here = {p: local() for p in ("/same.txt", "/made-after-backup.txt", "/edited-after-backup.txt")}
    there = {"/same.txt": remote(etag="same"), "/edited-after-backup.txt": remote(etag="older")}
    trusted = base_after_restore(agreed, here, there)
    assert set(trusted) == {"/same.txt", "/gone-both-sides.txt"}
    actions = {a.path: a.do for a in plan(trusted, here, there)}
    assert actions == {
        "/made-after-backup.txt": Do.UPLOAD,
        "/edited-after-backup.txt": Do.CONFLICT,
        "/gone-both-sides.txt": Do.FORGET,
    }
    # Against the forgotten base, the restored server would have won both:
    naive = {a.path: a.do for a in plan(agreed, here, there)}
    assert naive["/made-after-backup.txt"] is Do.DELETE_LOCAL
    assert naive["/edited-after-backup.txt"] is Do.DOWNLOAD
