"""The Files page as a file product, over HTTP: team folders by `?space=` (a Viewer may read and
not write), sorting, paging, search, storage against the quota, selections (ZIP, move, delete)
and image thumbnails sealed at rest, each scoped to what the reader may reach."""

from __future__ import annotations

import io
import os
import re
import threading
import uuid
import zipfile
from collections.abc import Iterable

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import inspect, select

from sfs.app import Services
from sfs.domain.actor import Actor, operator
from sfs.metadata.file_models import Thumbnail
from tests.signed_in import log_in, page_csrf_token
from tests.world import CLIENT, Tenant, actor, make_tenant


@pytest.fixture
def acme(services: Services) -> Tenant:
    return make_tenant(services, "Acme")


def put(services: Services, who: Actor, path: str, data: bytes, space: str = "") -> None:
    space_id = services.spaces.my_files(who).id if not space else uuid.UUID(space)
    parent = path.rpartition("/")[0]
    parts = [part for part in parent.split("/") if part]
    levels = ["/" + "/".join(parts[: n + 1]) for n in range(len(parts))]
    if levels:
        services.file_tree.create_folders(who, space_id=space_id, paths=levels, client=CLIENT)
    services.file_content.upload(
        who,
        space_id=space_id,
        path=path,
        source=[data],
        modified_at=services.clock.now(),
        base_version=None,
        client=CLIENT,
    )


def names_in(page: str) -> list[str]:
    return re.findall(r'class="entry-name (?:folder|file)"[^>]*title="([^"]*)"', page)


def png(width: int = 300, height: int = 200) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def test_sorting_by_each_column_puts_folders_first_and_works_without_script(
    client: TestClient, services: Services, acme: Tenant
) -> None:
    me = actor(services, acme.user)
    put(services, me, "/b-medium.txt", b"x" * 2000)
    services.clock.advance(minutes=5)  # type: ignore[attr-defined]
    put(services, me, "/a-large.txt", b"x" * 9000)
    services.clock.advance(minutes=5)  # type: ignore[attr-defined]
    put(services, me, "/C-small.txt", b"x" * 10)
    services.file_tree.create_folders(
        me, space_id=services.spaces.my_files(me).id, paths=["/Zed"], client=CLIENT
    )
    log_in(client, acme.user.email)
    assert names_in(client.get("/files").text) == [
        "Zed",
        "a-large.txt",
        "b-medium.txt",
        "C-small.txt",
    ]
    by_size = client.get("/files?sort=size&order=desc").text
    assert names_in(by_size) == ["Zed", "a-large.txt", "b-medium.txt", "C-small.txt"]
    assert 'aria-sort="descending"' in by_size
    assert names_in(client.get("/files?sort=size").text)[1:] == [
        "C-small.txt",
        "b-medium.txt",
        "a-large.txt",
    ]
    newest_first = client.get("/files?sort=modified&order=desc").text
    assert names_in(newest_first)[1:] == ["C-small.txt", "a-large.txt", "b-medium.txt"]
    # an unknown column falls back to names; the header links toggle the order
    assert names_in(client.get("/files?sort=owner").text)[1] == "a-large.txt"
    assert 'href="/files/?sort=name&amp;order=desc"' in client.get("/files").text


def test_a_folder_of_a_thousand_entries_is_paged(
    client: TestClient, services: Services, acme: Tenant
) -> None:
    me = actor(services, acme.user)
    space_id = services.spaces.my_files(me).id
    paths = [f"/Big/entry {n:04d}" for n in range(1000)]
    services.file_tree.create_folders(me, space_id=space_id, paths=["/Big"], client=CLIENT)
    services.file_tree.create_folders(me, space_id=space_id, paths=paths, client=CLIENT)
    log_in(client, acme.user.email)
    first = client.get("/files/Big").text
    assert len(names_in(first)) == 200 and names_in(first)[0] == "entry 0000"
    assert "1\N{EN DASH}200 of 1000" in first and 'rel="next"' in first
    last = client.get("/files/Big?page=5").text
    assert names_in(last)[-1] == "entry 0999" and 'rel="next"' not in last


def test_search_finds_names_in_the_space_only_and_not_in_the_trash(
    client: TestClient, services: Services, acme: Tenant
) -> None:
    me, admin = actor(services, acme.user), actor(services, acme.admin)
    put(services, me, "/Reports/2025/Budget Q1.ods", b"q1")
    put(services, me, "/Old/budget 2019.ods", b"old")
    put(services, me, "/notes.txt", b"n")
    put(services, admin, "/Budget of the admin.ods", b"theirs")
    services.file_tree.delete(
        me, space_id=services.spaces.my_files(me).id, path="/Old", client=CLIENT
    )
    log_in(client, acme.user.email)
    page = client.get("/files?q=BUDGET").text
    assert names_in(page) == ["Budget Q1.ods"]
    assert 'title="/Reports/2025/Budget Q1.ods">/Reports/2025</span>' in page
    assert "admin" not in " ".join(names_in(page))
    assert "No names contain “nothing-like-this”." in client.get("/files?q=nothing-like-this").text
    # a '%' is a character like any other, not a wildcard
    assert names_in(client.get("/files?q=%25").text) == []


def test_storage_used_is_shown_against_the_quota(
    client: TestClient, services: Services, acme: Tenant
) -> None:
    me = actor(services, acme.user)
    log_in(client, acme.user.email)
    assert "0 B used; no quota applies." in client.get("/files").text
    services.retention.set_quota(
        operator(),
        organization_id=acme.organisation.id,
        user_id=acme.user.id,
        quota_bytes=10 * 1024 * 1024,
        client=CLIENT,
    )
    put(services, me, "/big.bin", os.urandom(1024 * 1024))  # random: stored as large as it is
    page = client.get("/files").text
    assert "1.0 MB of 10.5 MB used (10%)" in page, page  # SI: 10 MiB is 10.5 MB
    assert '<meter id="storage-meter" min="0" max="10485760"' in page


def test_a_team_folder_is_browsed_and_changed_through_the_space_parameter(
    client: TestClient, services: Services, acme: Tenant
) -> None:
    admin = actor(services, acme.admin)
    plans = services.team_folders.create(admin, "Plans", client=CLIENT)
    services.team_folders.set_user_role(admin, plans.id, acme.admin.email, "manager", client=CLIENT)
    services.team_folders.set_user_role(admin, plans.id, acme.user.email, "editor", client=CLIENT)
    put(services, admin, "/Drawings/floor.txt", b"floor", space=str(plans.id))
    log_in(client, acme.user.email)
    home = client.get("/files").text
    assert f'href="/files/?space={plans.id}"' in home
    page = client.get(f"/files/Drawings?space={plans.id}").text
    assert names_in(page) == ["floor.txt"]
    assert f'href="/files/Drawings/floor.txt?space={plans.id}"' in page
    assert client.get(f"/files/Drawings/floor.txt?space={plans.id}").content == b"floor"
    token = page_csrf_token(client, "/files")
    uploaded = client.post(
        f"/file/upload/Drawings?space={plans.id}",
        data={"csrf_token": token},
        files=[("files", ("roof.txt", b"roof", "text/plain"))],
        follow_redirects=False,
    )
    assert uploaded.status_code == 303
    assert uploaded.headers["location"].startswith(f"/files/Drawings?space={plans.id}&")
    dropped = client.put(
        f"/file/upload/Drawings/Sub/deeper/wall.txt?space={plans.id}",
        content=b"wall",
        headers={"X-CSRF-Token": token, "X-Make-Folders": "1"},
    )
    assert dropped.status_code == 200, dropped.text
    listing = services.file_tree.list_folder(admin, space_id=plans.id, path="/Drawings")
    assert sorted(node.name for node in listing) == ["Sub", "floor.txt", "roof.txt"]
    # nothing landed in the member's own files
    assert (
        services.file_tree.list_folder(
            actor(services, acme.user),
            space_id=services.spaces.my_files(actor(services, acme.user)).id,
            path="/",
        )
        == []
    )
    trash = client.post(
        f"/file/delete/Drawings/roof.txt?space={plans.id}",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert trash.status_code == 303
    assert "roof.txt" in client.get(f"/file/trash?space={plans.id}").text
    versions = client.get(f"/file/versions/Drawings/floor.txt?space={plans.id}")
    assert versions.status_code == 200 and "Versions of floor.txt" in versions.text


def test_a_viewer_sees_no_upload_and_the_server_refuses_every_change(
    client: TestClient, services: Services, acme: Tenant
) -> None:
    admin = actor(services, acme.admin)
    plans = services.team_folders.create(admin, "Plans", client=CLIENT)
    services.team_folders.set_user_role(admin, plans.id, acme.admin.email, "manager", client=CLIENT)
    services.team_folders.set_user_role(admin, plans.id, acme.user.email, "viewer", client=CLIENT)
    put(services, admin, "/floor.txt", b"floor", space=str(plans.id))
    log_in(client, acme.user.email)
    page = client.get(f"/files/?space={plans.id}").text
    assert names_in(page) == ["floor.txt"]
    assert 'class="upload"' not in page and "New folder" not in page
    assert "Rename" not in page and 'value="delete"' not in page
    assert "Download as ZIP" in page and "You are a Viewer of this team folder" in page
    token = page_csrf_token(client, "/files")
    space = f"?space={plans.id}"
    refused = [
        client.post(
            f"/file/upload/{space}",
            data={"csrf_token": token},
            files=[("files", ("x.txt", b"x", "text/plain"))],
        ),
        client.put(f"/file/upload/x.txt{space}", content=b"x", headers={"X-CSRF-Token": token}),
        client.post(f"/file/new-folder/{space}", data={"csrf_token": token, "name": "New"}),
        client.post(f"/file/delete/floor.txt{space}", data={"csrf_token": token}),
        client.post(f"/file/rename/floor.txt{space}", data={"csrf_token": token, "name": "y"}),
        client.post(
            f"/file/selection/{space}",
            data={"csrf_token": token, "action": "delete", "items": ["floor.txt"]},
        ),
    ]
    assert [answer.status_code for answer in refused] == [403] * len(refused)
    listing = services.file_tree.list_folder(admin, space_id=plans.id, path="/")
    assert [node.name for node in listing] == ["floor.txt"]


def test_a_selection_downloads_as_one_zip_streamed_from_the_store(
    client: TestClient, services: Services, acme: Tenant
) -> None:
    me = actor(services, acme.user)
    put(services, me, "/Work/a.txt", b"alpha")
    put(services, me, "/Work/Sub/b.txt", b"beta")
    put(services, me, "/Work/c.txt", b"not selected")
    services.file_tree.create_folders(
        me, space_id=services.spaces.my_files(me).id, paths=["/Work/Sub/Empty"], client=CLIENT
    )
    log_in(client, acme.user.email)
    token = page_csrf_token(client, "/files")
    answer = client.post(
        "/file/selection/Work",
        data={"csrf_token": token, "action": "zip", "items": ["a.txt", "Sub"]},
    )
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    assert "Work.zip" in answer.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    assert sorted(archive.namelist()) == ["Sub/", "Sub/Empty/", "Sub/b.txt", "a.txt"]
    assert archive.read("Sub/b.txt") == b"beta" and archive.read("a.txt") == b"alpha"
    missing = client.post(
        "/file/selection/Work",
        data={"csrf_token": token, "action": "zip", "items": ["nope.txt"]},
    )
    assert missing.status_code == 404
    nothing = client.post("/file/selection/Work", data={"csrf_token": token, "action": "zip"})
    assert nothing.status_code == 422 and "Select at least one file or folder." in nothing.text
    forged = client.post(
        "/file/selection/Work", data={"csrf_token": "x", "action": "zip", "items": ["a.txt"]}
    )
    assert forged.status_code == 403


def test_a_selection_moves_and_deletes_together(
    client: TestClient, services: Services, acme: Tenant
) -> None:
    me = actor(services, acme.user)
    space_id = services.spaces.my_files(me).id
    for name in ("one.txt", "two.txt", "three.txt"):
        put(services, me, f"/{name}", name.encode())
    services.file_tree.create_folders(me, space_id=space_id, paths=["/Archive"], client=CLIENT)
    log_in(client, acme.user.email)
    token = page_csrf_token(client, "/files")
    moved = client.post(
        "/file/selection/",
        data={
            "csrf_token": token,
            "action": "move",
            "items": ["one.txt", "two.txt"],
            "destination": "/Archive",
        },
        follow_redirects=False,
    )
    assert moved.status_code == 303
    assert "2 items were moved here." in client.get(moved.headers["location"]).text
    names = [n.name for n in services.file_tree.list_folder(me, space_id=space_id, path="/Archive")]
    assert sorted(names) == ["one.txt", "two.txt"]
    deleted = client.post(
        "/file/selection/Archive",
        data={"csrf_token": token, "action": "delete", "items": ["one.txt", "two.txt"]},
        follow_redirects=False,
    )
    assert "2 items were moved to the trash." in client.get(deleted.headers["location"]).text
    assert services.file_tree.list_folder(me, space_id=space_id, path="/Archive") == []
    clash = client.post(
        "/file/selection/",
        data={
            "csrf_token": token,
            "action": "move",
            "items": ["three.txt"],
            "destination": "/None",
        },
    )
    assert clash.status_code == 404


def test_thumbnails_are_made_once_kept_sealed_and_cached_by_the_browser(
    client: TestClient, services: Services, acme: Tenant
) -> None:
    me = actor(services, acme.user)
    source = png(600, 300)
    put(services, me, "/Photos/beach.png", source)
    put(services, me, "/Photos/notes.txt", b"not an image")
    log_in(client, acme.user.email)
    page = client.get("/files/Photos").text
    match = re.search(r'<img class="thumb" src="([^"]+)"', page)
    assert match is not None and "notes.txt" not in match.group(1)
    url = match.group(1).replace("&amp;", "&")
    answer = client.get(url)
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/webp"
    assert answer.headers["cache-control"] == "private, max-age=86400"
    with Image.open(io.BytesIO(answer.content)) as image:
        assert image.size == (64, 32)
    again = client.get(url, headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    big = client.get("/file/thumbnail/Photos/beach.png?size=256")
    with Image.open(io.BytesIO(big.content)) as image:
        assert image.size == (256, 128)
    with services.database.transaction() as session:
        rows = session.scalars(select(Thumbnail).where(Thumbnail.sealed.is_not(None))).all()
        assert sorted(row.edge for row in rows) == [64, 256]
        for row in rows:
            assert row.sealed is not None
            assert b"RIFF" not in row.sealed and b"WEBP" not in row.sealed
    assert client.get("/file/thumbnail/Photos/notes.txt").status_code == 404
    assert client.get("/file/thumbnail/Photos/beach.png?size=5000").status_code == 422
    # A sealed thumbnail altered at rest does not open: it is made again from the image.
    with services.database.transaction() as session:
        row = session.scalars(
            select(Thumbnail).where(Thumbnail.edge == 64, Thumbnail.sealed.is_not(None))
        ).one()
        assert row.sealed is not None
        row.sealed = row.sealed[:-1] + bytes([row.sealed[-1] ^ 1])
        altered = row.sealed
    remade = client.get(url)
    assert remade.status_code == 200 and remade.content[:4] == b"RIFF"
    with services.database.transaction() as session:
        row = session.scalars(
            select(Thumbnail).where(Thumbnail.edge == 64, Thumbnail.sealed.is_not(None))
        ).one()
        assert row.sealed is not None and row.sealed != altered


def test_a_decompression_bomb_or_a_broken_image_makes_no_thumbnail(
    client: TestClient, services: Services, acme: Tenant
) -> None:
    me = actor(services, acme.user)
    # A PNG that claims 100,000 x 100,000 pixels: refused from its header, never decoded.
    header = png(1, 1)
    bomb = header[:16] + (100_000).to_bytes(4, "big") * 2 + header[24:]
    put(services, me, "/bomb.png", bomb)
    put(services, me, "/broken.jpg", b"\xff\xd8\xff\xe0 not really a jpeg")
    log_in(client, acme.user.email)
    for name in ("bomb.png", "broken.jpg"):
        assert client.get(f"/file/thumbnail/{name}").status_code == 404
        assert client.get(f"/file/thumbnail/{name}").status_code == 404  # the answer is kept
    with services.database.transaction() as session:
        rows = session.scalars(select(Thumbnail)).all()
        assert len(rows) == 2 and all(row.sealed is None for row in rows)


def test_images_are_decoded_a_few_at_a_time(services: Services, acme: Tenant) -> None:
    """With two decode slots, a third thumbnail waits for a slot; none is lost."""
    me = actor(services, acme.user)
    for n in range(3):
        put(services, me, f"/p{n}.png", png(40 + n, 30))
    thumbnails = services.thumbnails
    space_id = services.spaces.my_files(me).id
    inside, release, most_inside = [0], threading.Event(), [0]
    lock, make = threading.Lock(), thumbnails._make

    def held_make(source: bytes, edge: int) -> bytes | None:
        with lock:
            inside[0] += 1
            most_inside[0] = max(most_inside[0], inside[0])
        release.wait(timeout=30)
        try:
            return make(source, edge)
        finally:
            with lock:
                inside[0] -= 1

    thumbnails._make = held_make  # type: ignore[method-assign]
    done: list[bytes] = []
    workers = [
        threading.Thread(
            target=lambda n=n: done.append(
                thumbnails.thumbnail(me, space_id=space_id, path=f"/p{n}.png", edge=64).data
            )
        )
        for n in range(3)
    ]
    for worker in workers:
        worker.start()
    while inside[0] < 2:  # two decodes are in; the third must be waiting for a slot
        threading.Event().wait(0.01)
    threading.Event().wait(0.2)
    assert inside[0] == 2
    release.set()
    for worker in workers:
        worker.join(timeout=30)
    assert len(done) == 3 and most_inside[0] == 2


def _urls(space: str, node_id: str) -> Iterable[str]:
    query = f"?space={space}"
    yield f"/files/{query}"
    yield f"/files/secret.png{query}"
    yield f"/file/thumbnail/secret.png{query}"
    yield f"/file/versions/secret.png{query}"
    yield f"/file/rename/secret.png{query}"
    yield f"/file/share/secret.png{query}"
    yield f"/file/trash{query}"
    yield f"/file/trash/{node_id}/purge{query}"


def test_another_members_or_organisations_spaces_and_thumbnails_are_not_found(
    client: TestClient, services: Services, acme: Tenant
) -> None:
    globex = make_tenant(services, "Globex")
    owner = actor(services, acme.user)
    put(services, owner, "/secret.png", png())
    put(services, owner, "/gone.txt", b"x")
    mine = services.spaces.my_files(owner).id
    services.file_tree.delete(owner, space_id=mine, path="/gone.txt", client=CLIENT)
    node_id = str(services.file_tree.trash(owner, space_id=mine)[0].id)
    admin = actor(services, acme.admin)
    hidden = services.team_folders.create(admin, "Board", client=CLIENT)
    services.team_folders.set_user_role(admin, hidden.id, acme.admin.email, "editor", client=CLIENT)
    put(services, admin, "/secret.png", png(), space=str(hidden.id))
    theirs = services.team_folders.create(actor(services, globex.admin), "Ext", client=CLIENT)
    for email in (acme.admin.email, globex.user.email, acme.user.email):
        client.cookies.clear()
        log_in(client, email)
        token = page_csrf_token(client, "/files")
        targets = {acme.admin.email: [mine], globex.user.email: [mine, hidden.id]}
        spaces = targets.get(email, [hidden.id, theirs.id])
        for space in spaces:
            for url in _urls(str(space), node_id):
                assert client.get(url).status_code == 404, (email, url)
            for url in (
                f"/file/selection/?space={space}",
                f"/file/delete/secret.png?space={space}",
                f"/file/trash/{node_id}/restore?space={space}",
            ):
                answer = client.post(
                    url, data={"csrf_token": token, "action": "zip", "items": ["secret.png"]}
                )
                assert answer.status_code == 404, (email, url)
        assert client.get("/files/?space=not-a-space").status_code == 404
    # the owner, for contrast, gets the thumbnail
    assert client.get("/file/thumbnail/secret.png").status_code == 200


def test_the_thumbnails_migration_keeps_existing_files_and_serves_them_after_upgrade(
    client: TestClient, services: Services, acme: Tenant
) -> None:
    """One revision down (before thumbnails) and up again, with files in the store: the files are
    untouched and an existing image gets its thumbnail, sealed, after the upgrade."""
    from alembic import command

    from sfs.metadata import migrate

    me = actor(services, acme.user)
    put(services, me, "/old.png", png(80, 40))
    engine = services.database.engine
    config = migrate.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0020-1")  # the revision before thumbnails
    assert "thumbnails" not in inspect(engine).get_table_names()
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    log_in(client, acme.user.email)
    assert client.get("/files/old.png").content == png(80, 40)
    assert client.get("/file/thumbnail/old.png").status_code == 200
    with services.database.transaction() as session:
        assert [row.edge for row in session.scalars(select(Thumbnail))] == [64]


def test_a_folder_shared_as_editor_is_changed_in_the_files_page_and_no_further(
    client: TestClient, services: Services, acme: Tenant
) -> None:
    """A recipient opens a shared folder in the Files page (from Shared with me) and, as Editor,
    uploads into it; the owner's other files stay out of reach, and a Viewer may not write."""
    owner = actor(services, acme.admin)
    put(services, owner, "/Plans/q1.txt", b"q1")
    put(services, owner, "/private.txt", b"mine")
    share = services.shares.create(
        owner,
        space_id=services.spaces.my_files(owner).id,
        path="/Plans",
        role="editor",
        client=CLIENT,
        user_email=acme.user.email,
    )
    log_in(client, acme.user.email)
    assert f'href="/files/?space={share.id}"' in client.get("/shared").text
    page = client.get(f"/files/?space={share.id}").text
    assert names_in(page) == ["q1.txt"]
    token = page_csrf_token(client, "/files")
    uploaded = client.put(
        f"/file/upload/notes.txt?space={share.id}",
        content=b"notes",
        headers={"X-CSRF-Token": token},
    )
    assert uploaded.status_code == 200, uploaded.text
    owners = services.file_tree.list_folder(
        owner, space_id=services.spaces.my_files(owner).id, path="/Plans"
    )
    assert sorted(node.name for node in owners) == ["notes.txt", "q1.txt"]
    # Paths stay inside the share: the owner's other file is not reached by climbing out.
    for outside in ("/files/../private.txt", "/files/%2e%2e/private.txt"):
        assert b"mine" not in client.get(f"{outside}?space={share.id}").content
    assert client.get(f"/files/private.txt?space={share.id}").status_code == 404
    services.shares.update(owner, share.id, role="viewer", client=CLIENT)
    refused = client.put(
        f"/file/upload/more.txt?space={share.id}",
        content=b"more",
        headers={"X-CSRF-Token": token},
    )
    assert refused.status_code == 403
    assert "more.txt" not in [
        node.name
        for node in services.file_tree.list_folder(
            owner, space_id=services.spaces.my_files(owner).id, path="/Plans"
        )
    ]
