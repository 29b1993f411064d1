"""Nextcloud's OCS Share API as its clients call it (form bodies as the desktop client sends
them, JSON bodies, the query string; JSON and XML answers; v1 ok = 100, v2 ok = 200): links
(share type 3) over the link service, shares with a colleague (0) and a group (1) over the share
service, the capabilities that state the caller's organisation's policy, and the tenancy of
every route (another organisation's ids, another member's private ids, each role)."""

from __future__ import annotations

import pytest
from defusedxml.ElementTree import fromstring
from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.services.sharing.link_policy import LinkPolicyView
from tests.dav import DavUser, dav_user
from tests.world import CLIENT, Tenant, actor, make_tenant

SHARES = "/ocs/v{}.php/apps/files_sharing/api/v1/shares"
JSON = {"OCS-APIREQUEST": "true"}


@pytest.fixture
def acme(services: Services) -> Tenant:
    return make_tenant(services, "Acme")


@pytest.fixture
def alice(services: Services, acme: Tenant) -> DavUser:
    return dav_user(services, acme.user)


@pytest.fixture
def admin(services: Services, acme: Tenant) -> DavUser:
    return dav_user(services, acme.admin)


def upload(client: TestClient, who: DavUser, path: str, data: bytes = b"data") -> None:
    assert client.put(who.root + path, content=data, headers=who.headers).status_code in (201, 204)


def mkcol(client: TestClient, who: DavUser, path: str) -> None:
    assert client.request("MKCOL", who.root + path, headers=who.headers).status_code == 201


def ocs(answer: object) -> dict[str, object]:
    return answer.json()["ocs"]  # type: ignore[attr-defined, no-any-return]


@pytest.mark.parametrize(("version", "code"), [(1, 100), (2, 200)])
def test_a_link_is_made_listed_changed_and_deleted_like_the_desktop_client_does(
    client: TestClient, alice: DavUser, version: int, code: int
) -> None:
    upload(client, alice, "/Plan.txt", b"plan")
    url = SHARES.format(version)
    made = client.post(
        url + "?format=json",
        data={"path": "/Plan.txt", "shareType": "3", "password": "a-long-pass"},
        headers={**alice.headers, **JSON},
    )
    assert made.status_code == 200, made.text
    body = ocs(made)
    assert body["meta"]["statuscode"] == code  # type: ignore[index]
    link = body["data"]
    assert isinstance(link, dict)
    assert link["share_type"] == 3 and link["path"] == "/Plan.txt"
    assert link["item_type"] == "file" and link["mimetype"] == "text/plain"
    assert link["uid_owner"] == str(alice.view.id) and link["permissions"] == 1
    assert link["share_with"] == "***redacted***" and "a-long-pass" not in made.text
    assert link["token"] and str(link["url"]).endswith("/s/" + str(link["token"]))
    public = str(link["url"]).split("127.0.0.1:8080", 1)[-1]
    assert client.get(public + "/download").status_code == 401  # needs the password
    listed = ocs(
        client.get(url, params={"path": "/Plan.txt", "format": "json"}, headers=alice.headers)
    )
    (item,) = listed["data"]  # type: ignore[misc]
    assert item["id"] == link["id"] and item["token"] is None  # the token is not kept
    one = f"{url}/{link['id']}?format=json"
    changed = ocs(client.put(one, data={"expireDate": "2026-12-31"}, headers=alice.headers))
    assert changed["data"]["expiration"] == "2026-12-31 00:00:00"  # type: ignore[index]
    changed = ocs(client.put(one, data={"password": ""}, headers=alice.headers))
    assert changed["data"]["share_with"] is None  # type: ignore[index]
    assert client.get(public + "/download").content == b"plan"
    gone = client.delete(one, headers=alice.headers)
    assert gone.status_code == 200 and ocs(gone)["meta"]["statuscode"] == code  # type: ignore[index]
    assert client.get(public + "/download").status_code == 410
    assert ocs(client.get(url + "?format=json", headers=alice.headers))["data"] == []
    assert client.get(one, headers=alice.headers).status_code == 404


def test_xml_answers_and_a_json_body(client: TestClient, alice: DavUser) -> None:
    mkcol(client, alice, "/Box")
    made = client.post(
        SHARES.format(2),
        json={"path": "/Box", "shareType": 3, "publicUpload": True},
        headers=alice.headers,
    )
    assert made.status_code == 200 and made.headers["content-type"].startswith("text/xml")
    root = fromstring(made.content)
    assert root.findtext("meta/statuscode") == "200"
    assert root.findtext("data/item_type") == "folder"
    assert root.findtext("data/permissions") == "5"  # read and add
    share_id = root.findtext("data/id")
    drop = client.put(
        f"{SHARES.format(1)}/{share_id}", data={"permissions": "4"}, headers=alice.headers
    )
    assert fromstring(drop.content).findtext("data/permissions") == "4"  # a file drop
    assert fromstring(drop.content).findtext("meta/statuscode") == "100"


def test_the_organisation_policy_is_advertised_and_enforced(
    client: TestClient, services: Services, acme: Tenant, alice: DavUser
) -> None:
    services.link_policy.set_policy(
        actor(services, acme.admin),
        LinkPolicyView(password_required=True, max_expiry_days=30, upload_only_allowed=False),
        client=CLIENT,
    )
    capabilities = ocs(
        client.get("/ocs/v1.php/cloud/capabilities?format=json", headers=alice.headers)
    )["data"]["capabilities"]["files_sharing"]  # type: ignore[index]
    assert capabilities["api_enabled"] is True
    assert capabilities["public"]["password"]["enforced"] is True
    assert capabilities["public"]["expire_date"] == {"enabled": True, "days": 30, "enforced": True}
    assert capabilities["public"]["upload_files_drop"] is False
    assert capabilities["resharing"] is False and capabilities["user"]["send_mail"] is False
    anonymous = ocs(client.get("/ocs/v1.php/cloud/capabilities?format=json"))
    public = anonymous["data"]["capabilities"]["files_sharing"]["public"]  # type: ignore[index]
    assert public["password"]["enforced"] is False
    upload(client, alice, "/Plan.txt")
    refused = client.post(
        SHARES.format(2) + "?format=json",
        data={"path": "/Plan.txt", "shareType": "3"},
        headers=alice.headers,
    )
    assert refused.status_code == 403  # the desktop client's "a password is required"
    too_late = client.post(
        SHARES.format(2) + "?format=json",
        data={
            "path": "/Plan.txt",
            "shareType": "3",
            "password": "a-long-pass",
            "expireDate": "2027-06-01",
        },
        headers=alice.headers,
    )
    assert too_late.status_code == 400 and ocs(too_late)["meta"]["statuscode"] == 400  # type: ignore[index]
    assert services.share_links.mine(actor(services, alice.view)) == []


def test_shares_with_a_colleague_and_a_group(
    client: TestClient, services: Services, acme: Tenant, alice: DavUser, admin: DavUser
) -> None:
    mkcol(client, alice, "/Team")
    url = SHARES.format(2) + "?format=json"
    made = client.post(
        url,
        data={"path": "/Team", "shareType": "0", "shareWith": acme.admin.email, "permissions": "1"},
        headers=alice.headers,
    )
    assert made.status_code == 200, made.text
    share = ocs(made)["data"]
    assert share["share_type"] == 0 and share["share_with"] == acme.admin.email  # type: ignore[index]
    assert share["permissions"] == 1  # type: ignore[index]
    received = ocs(client.get(url + "&shared_with_me=true", headers=admin.headers))["data"]
    assert [item["id"] for item in received] == [share["id"]]  # type: ignore[index, union-attr]
    assert received[0]["displayname_owner"] == alice.view.display_name  # type: ignore[index]
    one = f"{SHARES.format(2)}/{share['id']}?format=json"  # type: ignore[index]
    edited = ocs(client.put(one, data={"permissions": "15"}, headers=alice.headers))
    assert edited["data"]["permissions"] == 15  # type: ignore[index]
    assert (
        client.put(one, data={"password": "a-long-pass"}, headers=alice.headers).status_code == 400
    )
    group = services.groups.create(actor(services, acme.admin), "Sales", client=CLIENT)
    services.groups.add_member(
        actor(services, acme.admin), group.id, acme.admin.email, client=CLIENT
    )
    grouped = client.post(
        url, data={"path": "/Team", "shareType": "1", "shareWith": "Sales"}, headers=alice.headers
    )
    assert grouped.status_code == 200 and ocs(grouped)["data"]["share_type"] == 1  # type: ignore[index]
    listed = ocs(client.get(url + "&path=/Team", headers=alice.headers))["data"]
    assert sorted(item["share_type"] for item in listed) == [0, 1]  # type: ignore[index, union-attr]
    assert client.delete(one, headers=alice.headers).status_code == 200
    assert len(ocs(client.get(url, headers=alice.headers))["data"]) == 1  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({"path": "/Plan.txt", "shareType": "4", "shareWith": "x@example.com"}, 400),
        ({"path": "/Plan.txt", "shareType": "6", "shareWith": "x@other"}, 400),
        ({"path": "/Plan.txt", "shareType": "x"}, 400),
        ({"shareType": "3"}, 400),
        ({"path": "/nothing", "shareType": "3"}, 404),
        ({"path": "/../Plan.txt", "shareType": "3"}, 400),
        ({"path": "/Plan.txt", "shareType": "0"}, 400),
        ({"path": "/Plan.txt", "shareType": "0", "shareWith": "nobody@acme.example.com"}, 404),
        ({"path": "/Plan.txt", "shareType": "3", "expireDate": "31-12-2026"}, 400),
        ({"path": "/Plan.txt", "shareType": "3", "password": "short"}, 400),
    ],
)
def test_bad_requests_are_precise_envelopes_and_make_nothing(
    client: TestClient, services: Services, alice: DavUser, form: dict[str, str], status: int
) -> None:
    upload(client, alice, "/Plan.txt")
    answer = client.post(SHARES.format(2) + "?format=json", data=form, headers=alice.headers)
    assert answer.status_code == status, answer.text
    assert ocs(answer)["meta"]["status"] == "failure"  # type: ignore[index]
    assert ocs(client.get(SHARES.format(2) + "?format=json", headers=alice.headers))["data"] == []


@pytest.fixture
def people(services: Services, acme: Tenant) -> dict[str, DavUser]:
    globex = make_tenant(services, "Globex")
    colleague = services.accounts.create_user(
        actor(services, acme.admin),
        organization_id=acme.organisation.id,
        email="carol@acme.example.com",
        display_name="Carol",
        password="a-good-long-password-1",
        client=CLIENT,
    )
    return {
        "colleague": dav_user(services, colleague),
        "admin": dav_user(services, acme.admin),
        "stranger": dav_user(services, globex.user),
        "stranger_admin": dav_user(services, globex.admin),
    }


@pytest.mark.parametrize("caller", ["colleague", "admin", "stranger", "stranger_admin"])
def test_someone_elses_links_and_shares_are_not_found(
    client: TestClient,
    acme: Tenant,
    alice: DavUser,
    people: dict[str, DavUser],
    caller: str,
) -> None:
    """Another member's private link or share, and any of another organisation, is 404 to
    every route; the admin of the organisation revokes links in the portal, not here."""
    upload(client, alice, "/Plan.txt")
    mkcol(client, alice, "/Team")
    url = SHARES.format(2) + "?format=json"
    link = ocs(
        client.post(url, data={"path": "/Plan.txt", "shareType": "3"}, headers=alice.headers)
    )
    share = ocs(
        client.post(
            url,
            data={"path": "/Team", "shareType": "0", "shareWith": "carol@acme.example.com"},
            headers=alice.headers,
        )
    )
    who = people[caller].headers
    for made in (link, share):
        one = f"{SHARES.format(2)}/{made['data']['id']}?format=json"  # type: ignore[index]
        assert client.get(one, headers=who).status_code == 404
        assert client.put(one, data={"permissions": "15"}, headers=who).status_code == 404
        assert client.delete(one, headers=who).status_code == 404
    listed = ocs(client.get(url, headers=who))["data"]
    assert all(item["uid_owner"] != str(alice.view.id) for item in listed)  # type: ignore[union-attr]
    # Paths are always the caller's own: alice's file is not found in their files.
    mine = client.get(url + "&path=/Plan.txt", headers=who)
    assert mine.status_code == 404
    assert ocs(client.get(url, headers=alice.headers))["data"] != []


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", ""), ("POST", ""), ("GET", "/x"), ("PUT", "/x"), ("DELETE", "/x")],
)
@pytest.mark.parametrize("version", [1, 2])
def test_every_share_route_needs_credentials(
    client: TestClient, method: str, path: str, version: int
) -> None:
    answer = client.request(method, SHARES.format(version) + path + "?format=json")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Basic")
    assert ocs(answer)["meta"]["statuscode"] == (997 if version == 1 else 401)  # type: ignore[index]


def test_a_link_in_a_team_folder_by_its_path_at_the_top(
    client: TestClient, services: Services, acme: Tenant, alice: DavUser
) -> None:
    admin = actor(services, acme.admin)
    folder = services.team_folders.create(admin, "Projects", client=CLIENT).id
    services.team_folders.set_user_role(admin, folder, acme.user.email, "editor", client=CLIENT)
    upload(client, alice, "/Projects/plan.txt", b"team plan")
    made = client.post(
        SHARES.format(2) + "?format=json",
        data={"path": "/Projects/plan.txt", "shareType": "3"},
        headers=alice.headers,
    )
    assert made.status_code == 200, made.text
    link = ocs(made)["data"]
    assert link["path"] == "/Projects/plan.txt"  # type: ignore[index]
    public = str(link["url"]).split("127.0.0.1:8080", 1)[-1]  # type: ignore[index]
    assert client.get(public + "/download").content == b"team plan"
    listed = ocs(
        client.get(
            SHARES.format(2) + "?format=json&subfiles=true&path=/Projects", headers=alice.headers
        )
    )["data"]
    assert [item["path"] for item in listed] == ["/Projects/plan.txt"]  # type: ignore[index, union-attr]


def test_the_sharee_search_finds_colleagues_and_groups_of_ones_own_organisation_only(
    client: TestClient,
    services: Services,
    acme: Tenant,
    alice: DavUser,
    people: dict[str, DavUser],
) -> None:
    services.groups.create(actor(services, acme.admin), "Carpenters", client=CLIENT)
    url = "/ocs/v2.php/apps/files_sharing/api/v1/sharees?format=json&itemType=file&search="
    found = ocs(client.get(url + "car", headers=alice.headers))["data"]
    assert [u["value"]["shareWith"] for u in found["users"]] == ["carol@acme.example.com"]  # type: ignore[index]
    assert [g["value"] for g in found["groups"]] == [  # type: ignore[index]
        {"shareType": 1, "shareWith": "Carpenters"}
    ]
    exact = ocs(client.get(url + "carol@acme.example.com", headers=alice.headers))["data"]
    assert exact["exact"]["users"][0]["value"]["shareType"] == 0  # type: ignore[index]
    # Globex's people and groups are never found, and nobody finds themselves.
    services.groups.create(
        actor(services, make_tenant(services, "Initech").admin), "Cars", client=CLIENT
    )
    assert ocs(client.get(url + "umberto", headers=alice.headers))["data"]["users"] == []  # type: ignore[index]
    stranger = ocs(client.get(url + "car", headers=people["stranger"].headers))["data"]
    assert stranger["users"] == [] and stranger["groups"] == []  # type: ignore[index]
    assert ocs(client.get(url, headers=alice.headers))["data"]["users"] == []  # type: ignore[index]
    assert client.get(url + "car").status_code == 401


def test_share_and_file_ids_are_the_integers_the_mobile_apps_parse(
    client: TestClient, services: Services, acme: Tenant, alice: DavUser
) -> None:
    """The Android app reads a share's `id` with Integer.parseInt and `item_source`/`file_source`
    and `oc:fileid` with Long.parseLong: all are decimal numbers, a share's stays the same, a
    removed share's number is never given again, and `item_source` is the file's `oc:fileid`."""
    upload(client, alice, "/Plan.txt")
    mkcol(client, alice, "/Team")
    url = SHARES.format(2) + "?format=json"
    link = ocs(
        client.post(url, data={"path": "/Plan.txt", "shareType": "3"}, headers=alice.headers)
    )
    colleague = {"path": "/Team", "shareType": "0", "shareWith": acme.admin.email}
    share = ocs(client.post(url, data=colleague, headers=alice.headers))
    ids = [made["data"]["id"] for made in (link, share)]  # type: ignore[index]
    assert all(isinstance(i, int) and 0 < i < 2**31 for i in ids) and ids[0] != ids[1]
    listed = ocs(client.get(url, headers=alice.headers))["data"]
    assert sorted(item["id"] for item in listed) == sorted(ids)  # type: ignore[index, union-attr]
    xml = client.get(SHARES.format(2), headers=alice.headers).text
    assert sorted(int(e.text or "") for e in fromstring(xml).iter("id")) == sorted(ids)

    asked = (
        '<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop><oc:fileid/>'
        "</d:prop></d:propfind>"
    )
    answer = client.request(
        "PROPFIND", alice.root + "/Plan.txt", headers={**alice.headers, "Depth": "0"}, content=asked
    )
    (file_id,) = [e.text for e in fromstring(answer.text).iter("{http://owncloud.org/ns}fileid")]
    assert link["data"]["item_source"] == link["data"]["file_source"] == int(file_id or "")  # type: ignore[index]

    # A client that kept a share's UUID from before numbers still reaches it.
    (share_row,) = services.shares.shares_by(actor(services, acme.user))
    by_uuid = client.get(f"{SHARES.format(2)}/{share_row.id}?format=json", headers=alice.headers)
    assert ocs(by_uuid)["data"][0]["id"] == ids[1]  # type: ignore[index]

    one = f"{SHARES.format(2)}/{ids[1]}?format=json"
    assert client.delete(one, headers=alice.headers).status_code == 200
    assert client.get(one, headers=alice.headers).status_code == 404
    again = ocs(client.post(url, data=colleague, headers=alice.headers))
    assert again["data"]["id"] not in ids  # type: ignore[index]
    for hostile in ("0", "-1", "99999999999", "1e3", "٣"):
        assert client.get(f"{SHARES.format(2)}/{hostile}", headers=alice.headers).status_code == 404
