"""Debian's `nextcloudcmd` (the Nextcloud desktop client's engine) against a real `sfs serve`
with an app password: two local folders and the server change files and folders on all three
sides over several passes and converge; a file over 10 MB goes up through chunked upload v2;
a pass with nothing to do costs one PROPFIND.

Some files never change: a client that would see every file change in one pass asks the user
first, and with --non-interactive it waits forever (hence also the timeout on every pass).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from sfs.app import build_services
from sfs.config import load_settings
from sfs.crypto.passwords import PasswordHasher
from tests.e2e.nextcloud_support import NextcloudUser, local_tree, nextcloud_user, write
from tests.e2e.test_quick_start import RunningServer
from tests.support import FAST_HASH

BIG = 12 * 1024 * 1024  # over the client's 10 MB: sent in chunks


@pytest.fixture(scope="module")
def nina(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NextcloudUser]:
    data_dir = tmp_path_factory.mktemp("nextcloud") / "sfs-data"
    server = RunningServer(data_dir)
    try:
        server.wait_until_ready()
        services = build_services(
            load_settings(data_dir=data_dir), hasher=PasswordHasher(FAST_HASH)
        )
        user = nextcloud_user(server, services, "nina@acme.example.com")
        yield user
        user.api.close()
        services.database.dispose()
    finally:
        server.stop()


def converge(nina: NextcloudUser, a: Path, b: Path) -> None:
    """Sync both folders until neither has anything left to do; all three must agree."""
    for _ in range(3):
        nina.sync(a)
        nina.sync(b)
    on_server = nina.server_tree()
    assert local_tree(a) == on_server
    assert local_tree(b) == on_server


def test_two_folders_and_the_server_converge(nina: NextcloudUser, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    for n in range(4):
        write(a, f"keep/k{n}.txt", f"never changes {n}\n".encode())
    write(a, "docs/a.txt", b"alpha\n")
    write(a, "docs/b.txt", b"beta\n")
    write(a, "photos/p1.jpg", os.urandom(50_000))
    write(a, "tomove.txt", b"the server moves me\n")
    write(a, "todelete.txt", b"the server deletes me\n")
    write(a, "server-edits.txt", b"v1\n")
    big = os.urandom(BIG)
    write(a, "big.bin", big)

    mark = nina.log_mark()
    nina.sync(a)
    requests = nina.requests_since(mark)
    assert any(r.startswith("MKCOL /remote.php/dav/uploads/") for r in requests), requests
    assert any(r.startswith("MOVE /remote.php/dav/uploads/") for r in requests)
    assert not any(r.startswith("PUT /remote.php/dav/files/") and "big.bin" in r for r in requests)
    assert nina.server_tree()["big.bin"] == big
    converge(nina, a, b)

    # Round one: each side changes something of its own.
    write(a, "docs/a.txt", b"alpha, edited in a\n")
    write(a, "docs/new-from-a.txt", b"new in a\n")
    (a / "photos" / "p1.jpg").unlink()
    (a / "docs" / "b.txt").rename(a / "docs" / "b-renamed.txt")
    write(a, "from-a/inside.txt", b"a folder made in a\n")
    write(b, "notes-b/x.txt", b"made in b\n")
    shutil.move(b / "keep" / "k3.txt", b / "notes-b" / "k3-moved.txt")
    nina.mkdir("/server-made")
    nina.put("/server-made/s.txt", b"made on the server\n")
    nina.put("/server-edits.txt", b"v2, on the server\n")
    nina.move("/tomove.txt", "/server-made/tomove.txt")
    nina.delete("/todelete.txt")
    converge(nina, a, b)
    tree = local_tree(a)
    assert tree["docs/a.txt"] == b"alpha, edited in a\n"
    assert tree["server-edits.txt"] == b"v2, on the server\n"
    assert tree["server-made/tomove.txt"] == b"the server moves me\n"
    assert "photos/p1.jpg" not in tree and "todelete.txt" not in tree
    assert tree["docs/b-renamed.txt"] == b"beta\n" and "docs/b.txt" not in tree
    assert tree["notes-b/k3-moved.txt"] == b"never changes 3\n"

    # Round two: folders renamed and moved on each side, a big file replaced.
    (a / "from-a").rename(a / "from-a-renamed")
    shutil.move(b / "notes-b", b / "docs" / "notes-b")
    nina.move("/server-made", "/docs/server-made")
    big = os.urandom(BIG + 1)
    write(b, "big.bin", big)
    converge(nina, a, b)
    tree = local_tree(b)
    assert tree["from-a-renamed/inside.txt"] == b"a folder made in a\n"
    assert tree["docs/notes-b/x.txt"] == b"made in b\n"
    assert tree["docs/server-made/s.txt"] == b"made on the server\n"
    assert local_tree(a)["big.bin"] == big

    # Nothing changed anywhere: the client asks once, for the top folder, and stops there.
    nina.sync(a)
    mark = nina.log_mark()
    nina.sync(a)
    requests = nina.requests_since(mark)
    propfinds = [r for r in requests if r.startswith("PROPFIND")]
    assert len(propfinds) == 1, requests
    assert [r for r in requests if "/remote.php/" in r] == propfinds, requests
