"""The portal's Files menu over HTTP: browse, upload, download, folders, trash, versions."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import update

from sfs.app import Services
from sfs.domain.actor import Actor
from sfs.metadata.models import Organization
from sfs.services.files.nodes import NodeView
from tests.signed_in import log_in, make_provider_admin, page_csrf_token
from tests.world import Tenant, actor, make_tenant


@dataclass
class Browser:
    client: TestClient
    services: Services
    tenant: Tenant

    def token(self, path: str = "/files") -> str:
        return page_csrf_token(self.client, path)

    def post(self, url: str, data: dict[str, str] | None = None) -> Response:
        return self.client.post(
            url, data={"csrf_token": self.token(), **(data or {})}, follow_redirects=False
        )

    def upload(self, folder: str, *files: tuple[str, bytes]) -> Response:
        return self.client.post(
            f"/file/upload{folder}",
            data={"csrf_token": self.token()},
            files=[("files", (name, data, "application/octet-stream")) for name, data in files],
            follow_redirects=False,
        )

    def listing(self, path: str = "/") -> list[NodeView]:
        space = self.services.spaces.my_files(self.actor)
        return self.services.file_tree.list_folder(self.actor, space_id=space.id, path=path)

    def names(self, path: str = "/") -> list[str]:
        return [node.name for node in self.listing(path)]

    @property
    def actor(self) -> Actor:
        return actor(self.services, self.tenant.user)


@pytest.fixture
def browser(client: TestClient, services: Services) -> Browser:
    tenant = make_tenant(services, "Acme")
    log_in(client, tenant.user.email)
    return Browser(client, services, tenant)


def notice_of(page: Response) -> str:
    match = re.search(r'<p class="notice" role="status">(.*?)</p>', page.text, re.S)
    assert match, page.text
    return match.group(1)


def error_of(page: Response) -> str:
    match = re.search(r'<p class="error" role="alert">(.*?)</p>', page.text, re.S)
    assert match, page.text
    return match.group(1)


def test_every_organisation_user_has_a_files_link_and_an_empty_top_folder(
    browser: Browser,
) -> None:
    page = browser.client.get("/")
    assert '<a href="/files">Files</a>' in page.text
    files = browser.client.get("/files")
    assert files.status_code == 200
    assert "<h1>Files</h1>" in files.text and "This folder is empty." in files.text
    assert 'aria-current="page">My Files</a>' in files.text


def test_a_provider_admin_has_no_files_link_and_no_files(
    client: TestClient, services: Services
) -> None:
    admin = make_provider_admin(services)
    log_in(client, admin.email)
    assert 'href="/files"' not in client.get("/").text
    assert client.get("/files").status_code == 403


def test_upload_several_files_then_download_identical_bytes(browser: Browser) -> None:
    first, second = os.urandom(300_000), b"hello, world\n"
    answer = browser.upload("", ("Report final.bin", first), ("notes.txt", second))
    assert answer.status_code == 303
    page = browser.client.get(answer.headers["location"])
    assert notice_of(page) == "2 files uploaded."
    assert "Report final.bin" in page.text and "300.0 kB" in page.text
    assert browser.names() == ["notes.txt", "Report final.bin"]
    download = browser.client.get("/files/Report%20final.bin")
    assert download.status_code == 200 and download.content == first
    assert "filename*=UTF-8''Report%20final.bin" in download.headers["content-disposition"]
    assert browser.client.get("/files/notes.txt").content == second


def test_uploading_onto_an_existing_name_makes_a_new_version_and_says_so(
    browser: Browser,
) -> None:
    browser.upload("", ("notes.txt", b"first"))
    answer = browser.upload("", ("notes.txt", b"second"))
    page = browser.client.get(answer.headers["location"])
    assert "1 file uploaded." in notice_of(page)
    assert "replaced an existing file as its new version" in notice_of(page)
    (node,) = browser.listing()
    assert node.version == 2
    assert browser.client.get("/files/notes.txt").content == b"second"
    assert browser.client.get("/files/notes.txt?version=1").content == b"first"


def test_the_script_upload_streams_one_file_with_the_token_in_a_header(
    browser: Browser,
) -> None:
    token = browser.token()
    data = os.urandom(100_000)
    answer = browser.client.put(
        "/file/upload/a%20b.bin",
        content=data,
        headers={"X-CSRF-Token": token, "X-Modified-At": "1767225600000"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"message": "a b.bin: uploaded.", "version": 1, "replaced": False}
    again = browser.client.put(
        "/file/upload/a%20b.bin", content=b"x", headers={"X-CSRF-Token": token}
    )
    assert again.json()["message"] == "a b.bin: saved as version 2 of the existing file."
    (node,) = browser.listing()
    assert node.size == 1 and node.version == 2
    refused = browser.client.put("/file/upload/c.bin", content=b"x", headers={"X-CSRF-Token": "no"})
    assert refused.status_code == 403 and "form expired" in refused.json()["message"]
    assert browser.names() == ["a b.bin"]


def test_new_folder_browse_and_breadcrumbs(browser: Browser) -> None:
    answer = browser.post("/file/new-folder/", {"name": "Projects"})
    assert answer.status_code == 303
    assert notice_of(browser.client.get(answer.headers["location"])) == "The folder was created."
    answer = browser.post("/file/new-folder/Projects", {"name": "2025 & more"})
    assert answer.headers["location"].startswith("/files/Projects?")
    browser.upload("/Projects/2025%20%26%20more", ("plan.txt", b"plan"))
    page = browser.client.get("/files/Projects/2025%20%26%20more")
    assert '<a href="/files/Projects" title="Projects">Projects</a>' in page.text
    assert 'aria-current="page">2025 &amp; more</a>' in page.text
    assert 'href="/files/Projects/2025%20%26%20more/plan.txt"' in page.text
    assert browser.client.get("/files/Projects/2025%20%26%20more/plan.txt").content == b"plan"


def test_rename_and_move(browser: Browser) -> None:
    browser.post("/file/new-folder/", {"name": "Archive"})
    browser.upload("", ("draft.txt", b"text"))
    form = browser.client.get("/file/rename/draft.txt")
    assert '<label for="name">New name</label>' in form.text
    renamed = browser.post("/file/rename/draft.txt", {"name": "final.txt"})
    assert notice_of(browser.client.get(renamed.headers["location"])) == "Renamed to final.txt."
    moved = browser.post("/file/move/final.txt", {"folder": "/Archive"})
    assert moved.headers["location"].startswith("/files/Archive?")
    assert browser.names() == ["Archive"]
    assert browser.names("/Archive") == ["final.txt"]


@pytest.mark.parametrize(
    ("url", "data", "message"),
    [
        ("/file/new-folder/", {"name": "Taken"}, "already exists"),
        ("/file/new-folder/", {"name": "a/b"}, "must not contain &#39;/&#39;"),
        ("/file/rename/notes.txt", {"name": "taken"}, "/taken already exists."),
        ("/file/rename/notes.txt", {"name": ".."}, "is not allowed as a name"),
        ("/file/move/notes.txt", {"folder": "/Nowhere"}, "/Nowhere does not exist."),
        ("/file/move/Taken", {"folder": "/Taken"}, "cannot be moved into itself"),
    ],
    ids=["folder-taken", "folder-bad-name", "rename-taken", "rename-bad", "move-gone", "into-self"],
)
def test_refused_changes_show_the_services_message_and_change_nothing(
    browser: Browser, url: str, data: dict[str, str], message: str
) -> None:
    browser.post("/file/new-folder/", {"name": "Taken"})
    browser.upload("", ("notes.txt", b"n"))
    before = browser.listing()
    answer = browser.post(url, data)
    assert answer.status_code in (404, 409, 422)
    assert message in error_of(answer)
    assert browser.listing() == before


def test_quota_exceeded_is_shown_and_nothing_is_stored(
    browser: Browser, services: Services
) -> None:
    with services.database.transaction() as session:
        session.execute(
            update(Organization)
            .where(Organization.id == browser.tenant.organisation.id)
            .values(quota_bytes=10_000)
        )
    answer = browser.upload("", ("big.bin", os.urandom(50_000)))
    assert answer.status_code == 507
    assert "Quota exceeded" in error_of(answer)
    assert browser.listing() == []


def test_a_stale_version_is_refused_by_restore_with_the_message(browser: Browser) -> None:
    browser.upload("", ("notes.txt", b"one"))
    answer = browser.post("/file/versions/notes.txt", {"number": "7"})
    assert answer.status_code == 404
    assert "/notes.txt has no version 7." in error_of(answer)


def test_delete_trash_restore_and_purge(browser: Browser) -> None:
    browser.upload("", ("a.txt", b"a"), ("b.txt", b"b"))
    deleted = browser.post("/file/delete/a.txt")
    page = browser.client.get(deleted.headers["location"])
    assert "a.txt was moved to the trash." in notice_of(page)
    assert browser.names() == ["b.txt"]
    browser.post("/file/delete/b.txt")
    trash = browser.client.get("/file/trash")
    assert "<h1>Trash</h1>" in trash.text
    ids = dict(
        (name, node_id)
        for node_id, name in re.findall(
            r'action="/file/trash/([0-9a-f-]+)/restore".*?> (\S+)</span>', trash.text, re.S
        )
    )
    assert set(ids) == {"a.txt", "b.txt"}
    restored = browser.post(f"/file/trash/{ids['a.txt']}/restore")
    assert notice_of(browser.client.get(restored.headers["location"])) == "/a.txt was restored."
    assert browser.names() == ["a.txt"]
    assert browser.client.get("/files/a.txt").content == b"a"
    confirm = browser.client.get(f"/file/trash/{ids['b.txt']}/purge")
    assert "This cannot be undone." in confirm.text
    purged = browser.post(f"/file/trash/{ids['b.txt']}/purge")
    assert "was deleted for good" in notice_of(browser.client.get(purged.headers["location"]))
    assert "The trash is empty." in browser.client.get("/file/trash").text


def test_versions_page_and_restoring_an_old_version(browser: Browser) -> None:
    browser.upload("", ("notes.txt", b"first"))
    browser.upload("", ("notes.txt", b"second"))
    page = browser.client.get("/file/versions/notes.txt")
    assert "<h1>Versions of notes.txt</h1>" in page.text
    assert 'href="/files/notes.txt?version=1"' in page.text
    restored = browser.post("/file/versions/notes.txt", {"number": "1"})
    assert restored.status_code == 303
    shown = browser.client.get(restored.headers["location"])
    assert "Version 1 was restored" in notice_of(shown)
    (node,) = browser.listing()
    assert node.version == 3
    assert browser.client.get("/files/notes.txt").content == b"first"


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/file/new-folder/", {"name": "X"}),
        ("/file/rename/notes.txt", {"name": "other.txt"}),
        ("/file/move/notes.txt", {"folder": "/Box"}),
        ("/file/delete/notes.txt", {}),
        ("/file/versions/notes.txt", {"number": "1"}),
    ],
)
def test_a_form_without_the_sessions_token_is_refused(
    browser: Browser, url: str, data: dict[str, str]
) -> None:
    browser.post("/file/new-folder/", {"name": "Box"})
    browser.upload("", ("notes.txt", b"n"))
    before = browser.listing()
    answer = browser.client.post(url, data={"csrf_token": "forged", **data})
    assert answer.status_code == 403 and "Your form expired" in answer.text
    upload = browser.client.post(
        "/file/upload/", data={"csrf_token": "forged"}, files=[("files", ("x.txt", b"x"))]
    )
    assert upload.status_code == 403
    assert browser.listing() == before


def test_trash_forms_without_the_token_are_refused(browser: Browser) -> None:
    browser.upload("", ("a.txt", b"a"))
    browser.post("/file/delete/a.txt")
    node_id = re.findall(
        r"/file/trash/([0-9a-f-]+)/restore", browser.client.get("/file/trash").text
    )[0]
    for action in ("restore", "purge"):
        answer = browser.client.post(f"/file/trash/{node_id}/{action}", data={"csrf_token": "x"})
        assert answer.status_code == 403
    assert len(browser.client.get("/file/trash").text.split("/restore")) == 2


def test_another_organisations_user_gets_404_for_every_files_url(
    browser: Browser, client: TestClient, services: Services
) -> None:
    browser.post("/file/new-folder/", {"name": "Secret"})
    browser.upload("/Secret", ("plan.txt", b"plan"))
    browser.post("/file/delete/Secret/plan.txt")
    node_id = re.findall(
        r"/file/trash/([0-9a-f-]+)/restore", browser.client.get("/file/trash").text
    )[0]
    browser.upload("/Secret", ("plan.txt", b"plan 2"))
    other = make_tenant(services, "Globex")
    client.cookies.clear()
    log_in(client, other.user.email)
    token = page_csrf_token(client, "/files")
    for url in (
        "/files/Secret",
        "/files/Secret/plan.txt",
        "/file/versions/Secret/plan.txt",
        "/file/rename/Secret/plan.txt",
        "/file/move/Secret/plan.txt",
        f"/file/trash/{node_id}/purge",
    ):
        assert client.get(url).status_code == 404, url
    for url in (f"/file/trash/{node_id}/restore", f"/file/trash/{node_id}/purge"):
        assert client.post(url, data={"csrf_token": token}).status_code == 404, url
    assert browser.names("/Secret") == ["plan.txt"]


def test_the_dutch_files_page(browser: Browser, client: TestClient) -> None:
    page = client.get("/files", headers={"Accept-Language": "nl"})
    assert page.headers["content-language"] == "nl"
    assert "<h1>Bestanden</h1>" in page.text and "Deze map is leeg." in page.text


def test_the_script_upload_refuses_a_bad_name_with_the_reason(browser: Browser) -> None:
    answer = browser.client.put(
        "/file/upload/bad%01name", content=b"x", headers={"X-CSRF-Token": browser.token()}
    )
    assert answer.status_code == 422
    assert answer.json()["message"] == "A name must not contain control characters (or NUL)."
    assert browser.listing() == []


def test_restoring_an_item_whose_folder_is_in_the_trash_says_what_to_do(
    browser: Browser,
) -> None:
    browser.post("/file/new-folder/", {"name": "Box"})
    browser.upload("/Box", ("a.txt", b"a"))
    browser.post("/file/delete/Box/a.txt")
    browser.post("/file/delete/Box")
    space = browser.services.spaces.my_files(browser.actor)
    trashed = browser.services.file_tree.trash(browser.actor, space_id=space.id)
    node_id = next(node.id for node in trashed if node.name == "a.txt")
    answer = browser.post(f"/file/trash/{node_id}/restore")
    assert answer.status_code == 409
    assert "restore that folder first" in error_of(answer)
    assert browser.names() == []
