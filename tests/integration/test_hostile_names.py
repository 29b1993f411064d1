"""Names that cannot live on Windows or macOS, or that pass for another name, are refused by
every door with the reason (`sfs.protocol.paths`), and nothing is stored."""

from __future__ import annotations

import html

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from sfs.app import Services
from tests.integration.test_api_http import token_for
from tests.integration.test_files_portal import Browser, error_of
from tests.signed_in import log_in
from tests.world import make_tenant

HOSTILE = [
    ("CON", "'CON' is a device name on Windows"),
    ("aux.txt", "'AUX' is a device name on Windows"),
    ("a<b>c:d|e?f*.txt", "must not contain '<'"),
    ("trailing dot.", "must not end with a space or a dot"),
    ("trailing space ", "must not end with a space or a dot"),
    ("..\\..\\win.txt", "must not contain '\\\\'"),
    ("C:\\Windows\\evil.dll", "must not contain ':'"),
    ("c1\x9bcontrol", "control characters"),
    ("gpj\u202eexe.txt", "text direction controls (U+202E)"),
    ("in\u200bvoice.pdf", "invisible characters (U+200B)"),
]
IDS = [reason.split(" ")[-1] + str(n) for n, (_, reason) in enumerate(HOSTILE)]
# The portal trims what is typed into its forms, so a trailing space never reaches the rule.
TYPED = [(case, id_) for case, id_ in zip(HOSTILE, IDS, strict=True) if case[0] == case[0].strip()]


@pytest.fixture
def auth(client: TestClient, services: Services) -> dict[str, str]:
    return token_for(client, make_tenant(services, "Acme").user.email)


@pytest.fixture
def browser(client: TestClient, services: Services) -> Browser:
    tenant = make_tenant(services, "Globex")
    log_in(client, tenant.user.email)
    return Browser(client, services, tenant)


def _refused(answer: Response, reason: str) -> None:
    assert answer.status_code == 422, answer.text
    assert reason in answer.json()["message"] and answer.json()["field"] == "path"


@pytest.mark.parametrize(("name", "reason"), HOSTILE, ids=IDS)
def test_the_api_refuses_the_name_with_the_reason_and_stores_nothing(
    client: TestClient, auth: dict[str, str], name: str, reason: str
) -> None:
    assert client.post("/api/v1/spaces/me/folders", json={"path": "/ok"}, headers=auth)
    upload = client.put(
        "/api/v1/spaces/me/content", params={"path": f"/{name}"}, content=b"x", headers=auth
    )
    _refused(upload, reason)
    folder = client.post("/api/v1/spaces/me/folders", json={"path": f"/ok/{name}"}, headers=auth)
    _refused(folder, reason)
    commit = {"path": f"/{name}", "manifest": [], "modified_at": "2026-01-01T00:00:00Z"}
    _refused(client.post("/api/v1/spaces/me/commit", json=commit, headers=auth), reason)
    moved = client.post(
        "/api/v1/spaces/me/move", json={"source": "/ok", "target": f"/{name}"}, headers=auth
    )
    _refused(moved, reason)
    listed = client.get("/api/v1/spaces/me/snapshot", headers=auth).json()["nodes"]
    assert [node["path"] for node in listed] == ["/ok"]


@pytest.mark.parametrize(("name", "reason"), [c for c, _ in TYPED], ids=[i for _, i in TYPED])
def test_the_portal_refuses_the_name_with_the_reason_and_stores_nothing(
    browser: Browser, name: str, reason: str
) -> None:
    browser.upload("", ("notes.txt", b"n"))
    for url, data in [
        ("/file/new-folder/", {"name": name}),
        ("/file/rename/notes.txt", {"name": name}),
    ]:
        answer = browser.post(url, data)
        assert answer.status_code == 422, url
        assert reason in html.unescape(error_of(answer))
    uploaded = browser.upload("", (name, b"x"))
    if name[1:3] == ":\\":  # a whole Windows path, as old browsers sent: its last part is taken
        assert browser.names() == ["evil.dll", "notes.txt"]
        return
    assert uploaded.status_code == 422 and reason in html.unescape(error_of(uploaded))
    assert browser.names() == ["notes.txt"]
