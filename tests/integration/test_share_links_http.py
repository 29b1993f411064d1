"""The public pages of share links over HTTP: file, folder, ZIP, password, drop zone, and each
refusal as a clear page with its status (404, 410, 413, 429, 403), in English and Dutch."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date

import pytest
from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.domain.actor import Actor
from sfs.metadata.models import User
from sfs.services.sharing.links import CreatedLink, LinkOptions
from tests.signed_in import log_in
from tests.support import FakeClock, csrf_token_in
from tests.world import CLIENT, Tenant, actor, make_tenant

PASSWORD = "hunter-2-link-pass"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def owner(services: Services) -> Actor:
    tenant: Tenant = make_tenant(services, "Acme")
    return actor(services, tenant.user)


def put(services: Services, who: Actor, path: str, data: bytes) -> None:
    services.file_content.upload(
        who,
        space_id=services.spaces.my_files(who).id,
        path=path,
        source=[data],
        modified_at=services.clock.now(),
        base_version=None,
        client=CLIENT,
    )


def mkdir(services: Services, who: Actor, path: str) -> None:
    space = services.spaces.my_files(who).id
    services.file_tree.create_folder(who, space_id=space, path=path, client=CLIENT)


def link(services: Services, who: Actor, path: str, **options: object) -> CreatedLink:
    return services.share_links.create(
        who,
        space_id=services.spaces.my_files(who).id,
        path=path,
        options=LinkOptions(**options),  # type: ignore[arg-type]
        client=CLIENT,
    )


def test_a_file_page_shows_name_size_and_download(
    client: TestClient, services: Services, owner: Actor
) -> None:
    put(services, owner, "Quarterly report.pdf", b"%PDF-1.4 data")
    created = link(services, owner, "Quarterly report.pdf")
    page = client.get(created.path)
    assert page.status_code == 200
    assert "Quarterly report.pdf" in page.text
    assert f'href="{created.path}/download"' in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    got = client.get(created.path + "/download")
    assert got.status_code == 200
    assert got.content == b"%PDF-1.4 data"
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"].startswith("attachment;")


def test_previews_are_sandboxed_and_html_or_svg_never_inline(
    client: TestClient, services: Services, owner: Actor
) -> None:
    put(services, owner, "photo.png", PNG)
    put(services, owner, "notes.txt", b"<script>alert(1)</script>")
    put(services, owner, "evil.svg", b"<svg onload='alert(1)'/>")
    put(services, owner, "evil.html", b"<script>alert(1)</script>")
    photo = link(services, owner, "photo.png")
    assert f'<img class="link-preview" src="{photo.path}/preview"' in client.get(photo.path).text
    shown = client.get(photo.path + "/preview")
    assert shown.content == PNG
    assert shown.headers["content-type"] == "image/png"
    assert shown.headers["content-disposition"].startswith("inline;")
    assert shown.headers["content-security-policy"].startswith("sandbox;")
    assert shown.headers["x-content-type-options"] == "nosniff"
    text = client.get(link(services, owner, "notes.txt").path + "/preview")
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.headers["content-security-policy"].startswith("sandbox;")
    for name in ("evil.svg", "evil.html"):
        created = link(services, owner, name)
        assert "/preview" not in client.get(created.path).text
        assert client.get(created.path + "/preview").status_code == 404
        download = client.get(created.path + "/download")
        assert download.headers["content-disposition"].startswith("attachment;")
        assert download.headers["content-type"] == "application/octet-stream"


def test_unknown_and_gone_links_are_clear_pages(
    client: TestClient, services: Services, owner: Actor, clock: FakeClock
) -> None:
    unknown = client.get("/s/" + "A" * 43)
    assert unknown.status_code == 404
    assert "Link not found" in unknown.text
    put(services, owner, "f.txt", b"x")
    created = link(services, owner, "f.txt", expires_on=date(2026, 11, 25))
    clock.advance(days=1)
    gone = client.get(created.path)
    assert gone.status_code == 410
    assert "no longer available" in gone.text
    assert client.get(created.path + "/download").status_code == 410
    dutch = client.get(created.path, headers={"Accept-Language": "nl"})
    assert dutch.status_code == 410
    assert dutch.headers["content-language"] == "nl"
    assert "Deze link is niet meer beschikbaar" in dutch.text


def test_guessing_tokens_gets_a_429_page(client: TestClient) -> None:
    for number in range(30):
        assert client.get(f"/s/{'B' * 40}{number:03d}").status_code == 404
    throttled = client.get("/s/" + "C" * 43)
    assert throttled.status_code == 429
    assert "retry-after" in throttled.headers


def test_a_password_form_then_wrong_then_right(
    client: TestClient, services: Services, owner: Actor
) -> None:
    put(services, owner, "secret.txt", b"s3cret")
    created = link(services, owner, "secret.txt", password=PASSWORD)
    page = client.get(created.path)
    assert 'name="password"' in page.text
    assert "secret.txt" not in page.text
    assert client.get(created.path + "/download").status_code == 401
    token = csrf_token_in(page.text)
    wrong = client.post(
        created.path + "/unlock", data={"password": "not-it-at-all", "csrf_token": token}
    )
    assert wrong.status_code == 401
    assert "The password is not right." in wrong.text
    right = client.post(
        created.path + "/unlock",
        data={"password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert right.status_code == 303
    assert f"Path=/s/{created.token}" in right.headers["set-cookie"]
    assert client.get(created.path + "/download").content == b"s3cret"
    for _ in range(10):
        client.post(created.path + "/unlock", data={"password": "nope-nope", "csrf_token": token})
    assert (
        client.post(
            created.path + "/unlock", data={"password": PASSWORD, "csrf_token": token}
        ).status_code
        == 429
    )


def test_a_folder_lists_browses_and_refuses_traversal(
    client: TestClient, services: Services, owner: Actor
) -> None:
    mkdir(services, owner, "private")
    put(services, owner, "private/secret.txt", b"no")
    mkdir(services, owner, "shared")
    mkdir(services, owner, "shared/sub")
    put(services, owner, "shared/a.txt", b"aaa")
    put(services, owner, "shared/sub/b.txt", b"bbb")
    created = link(services, owner, "shared")
    page = client.get(created.path)
    assert "a.txt" in page.text and "sub/" in page.text
    sub = client.get(created.path + "/browse/sub")
    assert "b.txt" in sub.text
    assert client.get(created.path + "/download/sub/b.txt").content == b"bbb"
    for bad in ("/browse/..%2Fprivate", "/download/sub%2F..%2F..%2Fprivate%2Fsecret.txt"):
        refused = client.get(created.path + bad)
        assert refused.status_code in (404, 422)
        assert refused.content != b"no"


def test_the_folder_zip_streams_the_tree(
    client: TestClient, services: Services, owner: Actor
) -> None:
    mkdir(services, owner, "shared")
    mkdir(services, owner, "shared/sub")
    files = {"a.txt": b"aaa", "sub/b.bin": bytes(range(256)) * 4096, "sub/c.txt": b""}
    for name, data in files.items():
        put(services, owner, "shared/" + name, data)
    created = link(services, owner, "shared")
    got = client.get(created.path + "/zip")
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/zip"
    assert "shared.zip" in got.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(got.content))
    assert archive.testzip() is None
    assert {name: archive.read(name) for name in files} == files
    assert sorted(archive.namelist()) == ["a.txt", "sub/", "sub/b.bin", "sub/c.txt"]
    inner = zipfile.ZipFile(io.BytesIO(client.get(created.path + "/zip/sub").content))
    assert sorted(inner.namelist()) == ["b.bin", "c.txt"]
    services.link_access.zip_max_entries = 2
    too_big = client.get(created.path + "/zip")
    assert too_big.status_code == 413
    assert "too large" in too_big.text


def test_a_file_drop_takes_files_and_shows_nothing(
    client: TestClient, services: Services, owner: Actor
) -> None:
    mkdir(services, owner, "drop")
    put(services, owner, "drop/cv.pdf", b"mine")
    created = link(services, owner, "drop", upload_only=True)
    page = client.get(created.path)
    assert 'type="file"' in page.text
    assert "cv.pdf" not in page.text
    assert '/static/link_drop.js"></script>' in page.text
    assert client.get(created.path + "/browse/").status_code == 200  # the drop zone again
    assert client.get(created.path + "/download/cv.pdf").status_code == 403
    assert client.get(created.path + "/zip").status_code == 403
    sent = client.post(
        created.path + "/upload",
        data={"csrf_token": csrf_token_in(page.text)},
        files=[("files", ("cv.pdf", b"theirs", "application/pdf"))],
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert "added=cv%20%282%29.pdf" in sent.headers["location"]
    space = services.spaces.my_files(owner).id
    stored = services.file_content.download(owner, space_id=space, path="drop/cv (2).pdf")
    assert b"".join(stored.body) == b"theirs"
    bad = client.post(
        created.path + "/upload",
        data={"csrf_token": csrf_token_in(page.text)},
        files=[("files", ("a" * 300, b"x", "text/plain"))],
    )
    assert bad.status_code == 422
    forged = client.post(
        created.path + "/upload",
        data={"csrf_token": "forged"},
        files=[("files", ("x.txt", b"x", "text/plain"))],
    )
    assert forged.status_code == 403
    names = {n.name for n in services.file_tree.list_folder(owner, space_id=space, path="drop")}
    assert names == {"cv.pdf", "cv (2).pdf"}


def test_the_page_speaks_dutch(client: TestClient, services: Services, owner: Actor) -> None:
    put(services, owner, "f.txt", b"x")
    created = link(services, owner, "f.txt")
    page = client.get(created.path, headers={"Accept-Language": "nl-NL,nl;q=0.9"})
    assert page.headers["content-language"] == "nl"
    assert re.search(r'<html lang="nl"', page.text)


def test_a_signed_in_visitor_sees_the_language_chosen_on_my_account(
    client: TestClient, services: Services, owner: Actor
) -> None:
    put(services, owner, "f.txt", b"x")
    created = link(services, owner, "f.txt")
    colleague = make_tenant(services, "Globex").user
    with services.database.transaction() as session:
        row = session.get(User, colleague.id)
        assert row is not None
        row.language = "nl"
    log_in(client, colleague.email)
    page = client.get(created.path, headers={"Accept-Language": "en"})
    assert page.headers["content-language"] == "nl"
    assert "Gedeeld door" in page.text
