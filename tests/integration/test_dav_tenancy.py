"""Tenant and ownership matrix: every WebDAV method, aimed at another account's files, by each
role, from the same organisation and from another, is answered 404 and changes nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sfs.app import Services
from sfs.metadata.dav_models import DavLock, NodeProperty
from sfs.metadata.file_models import JournalEntry
from tests.dav import DavUser, dav_user
from tests.world import Tenant, make_tenant

LOCK_BODY = (
    '<d:lockinfo xmlns:d="DAV:"><d:lockscope><d:exclusive/></d:lockscope>'
    "<d:locktype><d:write/></d:locktype></d:lockinfo>"
)
PATCH_BODY = (
    '<d:propertyupdate xmlns:d="DAV:" xmlns:z="urn:z"><d:set><d:prop><z:x>1</z:x></d:prop>'
    "</d:set></d:propertyupdate>"
)
# (method, path below the victim's root, headers, body): every route of the door.
ROUTES = [
    ("GET", "/secret.txt", {}, ""),
    ("HEAD", "/secret.txt", {}, ""),
    ("PROPFIND", "/", {"Depth": "1"}, ""),
    ("PROPFIND", "/secret.txt", {"Depth": "0"}, ""),
    ("PROPPATCH", "/secret.txt", {}, PATCH_BODY),
    ("PUT", "/secret.txt", {}, "overwritten"),
    ("PUT", "/new.txt", {}, "planted"),
    ("MKCOL", "/planted", {}, ""),
    ("DELETE", "/secret.txt", {}, ""),
    ("COPY", "/secret.txt", {"Destination": "{root}/copy.txt"}, ""),
    ("MOVE", "/secret.txt", {"Destination": "{root}/moved.txt"}, ""),
    ("LOCK", "/secret.txt", {}, LOCK_BODY),
    ("UNLOCK", "/secret.txt", {"Lock-Token": "<opaquelocktoken:x>"}, ""),
]


@pytest.fixture
def world(services: Services, client: TestClient) -> dict[str, DavUser]:
    acme: Tenant = make_tenant(services, "Acme")
    globex: Tenant = make_tenant(services, "Globex")
    people = {
        "victim": dav_user(services, acme.user),
        "same_org_admin": dav_user(services, acme.admin),
        "other_org_admin": dav_user(services, globex.admin),
        "other_org_user": dav_user(services, globex.user),
    }
    victim = people["victim"]
    assert (
        client.put("/dav/secret.txt", content=b"secret", headers=victim.headers).status_code == 201
    )
    return people


def state(services: Services) -> tuple[int, int, int]:
    with services.database.transaction() as session:
        return (
            session.scalar(select(func.count()).select_from(JournalEntry)) or 0,
            session.scalar(select(func.count()).select_from(NodeProperty)) or 0,
            session.scalar(select(func.count()).select_from(DavLock)) or 0,
        )


@pytest.mark.parametrize("attacker", ["same_org_admin", "other_org_admin", "other_org_user"])
@pytest.mark.parametrize(("method", "path", "headers", "body"), ROUTES)
def test_nobody_reaches_another_accounts_files(
    client: TestClient,
    services: Services,
    world: dict[str, DavUser],
    attacker: str,
    method: str,
    path: str,
    headers: dict[str, str],
    body: str,
) -> None:
    victim, intruder = world["victim"], world[attacker]
    before = state(services)
    for root in (victim.root, f"/remote.php/dav/files/{victim.view.email}"):
        filled = {k: v.format(root=root) for k, v in headers.items()}
        answer = client.request(
            method, root + path, headers={**intruder.headers, **filled}, content=body.encode()
        )
        assert answer.status_code == 404, (method, path, answer.status_code, answer.text)
        assert "secret" not in answer.text
    assert state(services) == before
    assert client.get("/dav/secret.txt", headers=victim.headers).content == b"secret"


@pytest.mark.parametrize("method", ["COPY", "MOVE"])
def test_a_destination_in_another_accounts_files_is_refused(
    client: TestClient, services: Services, world: dict[str, DavUser], method: str
) -> None:
    victim, intruder = world["victim"], world["other_org_user"]
    client.put("/dav/mine.txt", content=b"mine", headers=intruder.headers)
    before = state(services)
    answer = client.request(
        method,
        "/dav/mine.txt",
        headers={**intruder.headers, "Destination": f"{victim.root}/dropped.txt"},
    )
    assert answer.status_code == 502
    assert state(services) == before
    assert client.get("/dav/dropped.txt", headers=victim.headers).status_code == 404


def test_each_role_reaches_its_own_files_by_both_doors(
    client: TestClient, world: dict[str, DavUser]
) -> None:
    for who in world.values():
        for root in ("/dav", who.root):
            answer = client.request("PROPFIND", root + "/", headers={**who.headers, "Depth": "0"})
            assert answer.status_code == 207, root
