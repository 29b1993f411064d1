"""status.php and the OCS endpoints as the Nextcloud clients call them (curl-shaped, over HTTP)."""

from __future__ import annotations

import pytest
from defusedxml.ElementTree import fromstring
from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.domain.actor import operator
from tests.dav import DavUser, basic, dav_user, propfind
from tests.integration.test_app_passwords import allow_account_passwords
from tests.integration.test_second_factor import enrol_totp
from tests.support import GOOD_PASSWORD, FakeClock
from tests.world import CLIENT, Tenant, actor, make_tenant

JSON = {"OCS-APIREQUEST": "true"}


@pytest.fixture
def acme(services: Services) -> Tenant:
    return make_tenant(services, "Acme")


@pytest.fixture
def umberto(services: Services, acme: Tenant) -> DavUser:
    return dav_user(services, acme.user)


def test_status_php_tells_an_installed_nextcloud_25(client: TestClient) -> None:
    answer = client.get("/status.php")
    assert answer.status_code == 200
    status = answer.json()
    assert status["installed"] is True
    assert status["maintenance"] is False and status["needsDbUpgrade"] is False
    assert status["version"] == "25.0.0.0" and status["versionstring"] == "25.0.0"
    assert int(status["version"].split(".")[0]) >= 5
    assert status["productname"] == "Secure File Sync" and "edition" in status


@pytest.mark.parametrize(("version", "code"), [(1, 100), (2, 200)])
def test_capabilities_in_json_advertise_chunking_and_sha1(
    client: TestClient, version: int, code: int
) -> None:
    answer = client.get(f"/ocs/v{version}.php/cloud/capabilities?format=json", headers=JSON)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    ocs = answer.json()["ocs"]
    assert ocs["meta"] == {
        "status": "ok",
        "statuscode": code,
        "message": "OK",
        "totalitems": "",
        "itemsperpage": "",
    }
    assert ocs["data"]["version"]["major"] == 25
    found = ocs["data"]["capabilities"]
    assert found["dav"]["chunking"] == "1.0"
    assert found["files"]["bigfilechunking"] is True
    assert found["checksums"] == {"supportedTypes": ["SHA1"], "preferredUploadType": "SHA1"}
    assert found["core"]["webdav-root"] == "dav"
    assert found["files_sharing"]["api_enabled"] is True
    assert found["files_sharing"]["public"]["password"]["enforced"] is False


def test_capabilities_are_xml_by_default(client: TestClient) -> None:
    answer = client.get("/ocs/v1.php/cloud/capabilities")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/xml; charset=UTF-8"
    root = fromstring(answer.content)
    assert root.tag == "ocs"
    assert root.findtext("meta/statuscode") == "100"
    capabilities = root.find("data/capabilities")
    assert capabilities is not None
    assert capabilities.findtext("dav/chunking") == "1.0"
    assert capabilities.findtext("files/bigfilechunking") == "1"
    assert [e.text for e in capabilities.findall("checksums/supportedTypes/element")] == ["SHA1"]
    json_too = client.get("/ocs/v2.php/cloud/capabilities", headers={"Accept": "application/json"})
    assert json_too.json()["ocs"]["meta"]["statuscode"] == 200


def test_an_unknown_format_or_endpoint_is_refused_precisely(client: TestClient) -> None:
    bad = client.get("/ocs/v2.php/cloud/capabilities?format=yaml")
    assert bad.status_code == 400 and "format" in fromstring(bad.content).findtext("meta/message")
    missing = client.get("/ocs/v2.php/apps/nothing/here?format=json")
    assert missing.status_code == 404
    assert missing.json()["ocs"]["meta"]["statuscode"] == 404
    assert client.get("/ocs/v3.php/cloud/capabilities?format=json").status_code == 404


def test_the_user_is_the_webdav_user_with_name_email_and_quota(
    client: TestClient, services: Services, acme: Tenant, umberto: DavUser
) -> None:
    client.put("/dav/notes.txt", content=b"x" * 1234, headers=umberto.headers)
    answer = client.get("/ocs/v1.php/cloud/user?format=json", headers={**umberto.headers, **JSON})
    assert answer.status_code == 200
    data = answer.json()["ocs"]["data"]
    assert data["display-name"] == "Umberto Acme" and data["email"] == acme.user.email
    assert data["quota"]["used"] == 1234 and data["quota"]["quota"] == -3
    # The id names the user's files in the Nextcloud WebDAV layout.
    listed = propfind(client, f"/remote.php/dav/files/{data['id']}/", umberto.headers)
    assert listed.status_code == 207 and "notes.txt" in listed.text

    services.retention.set_quota(
        operator(),
        organization_id=acme.organisation.id,
        user_id=acme.user.id,
        quota_bytes=10_000,
        client=CLIENT,
    )
    limited = client.get("/ocs/v2.php/cloud/user?format=json", headers=umberto.headers)
    quota = limited.json()["ocs"]["data"]["quota"]
    assert quota["used"] == 1234 and quota["quota"] == quota["total"] > quota["free"] > 0
    xml = fromstring(client.get("/ocs/v2.php/cloud/user", headers=umberto.headers).content)
    assert xml.findtext("data/id") == data["id"]


@pytest.mark.parametrize(("version", "code"), [(1, 997), (2, 401)])
def test_the_user_needs_credentials(
    client: TestClient, acme: Tenant, version: int, code: int
) -> None:
    for headers in ({}, basic(acme.user.email, "wrong-password"), {"Authorization": "Bearer x"}):
        answer = client.get(f"/ocs/v{version}.php/cloud/user?format=json", headers=headers)
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"].startswith("Basic")
        meta = answer.json()["ocs"]["meta"]
        assert meta["statuscode"] == code and meta["status"] == "failure"
        assert acme.user.email not in answer.text


def test_a_browser_session_is_not_taken_as_credentials(
    client: TestClient, services: Services, acme: Tenant
) -> None:
    from tests.signed_in import log_in

    log_in(client, acme.user.email)
    answer = client.get("/ocs/v2.php/cloud/user?format=json", headers=JSON)
    assert answer.status_code == 401


def test_the_account_password_follows_the_app_password_rules(
    client: TestClient, services: Services, acme: Tenant, clock: FakeClock
) -> None:
    password = basic(acme.user.email, GOOD_PASSWORD)
    assert client.get("/ocs/v2.php/cloud/user", headers=password).status_code == 401
    allow_account_passwords(services, acme)
    assert client.get("/ocs/v2.php/cloud/user", headers=password).status_code == 200
    # Signed in with the account password there is no app password to revoke.
    refused = client.delete("/ocs/v2.php/core/apppassword?format=json", headers=password)
    assert refused.status_code == 403
    enrol_totp(services, actor(services, acme.user), clock)
    assert client.get("/ocs/v2.php/cloud/user", headers=password).status_code == 401


def test_deleting_the_app_password_in_use_ends_it_everywhere(
    client: TestClient, services: Services, acme: Tenant, umberto: DavUser
) -> None:
    other = dav_user(services, acme.user)  # a second device of the same account
    answer = client.delete("/ocs/v2.php/core/apppassword?format=json", headers=umberto.headers)
    assert answer.status_code == 200 and answer.json()["ocs"]["meta"]["statuscode"] == 200
    assert client.get("/ocs/v2.php/cloud/user", headers=umberto.headers).status_code == 401
    assert propfind(client, "/dav/", umberto.headers).status_code == 401
    # Only the calling device is gone.
    assert client.get("/ocs/v2.php/cloud/user", headers=other.headers).status_code == 200
    names = [d.name for d in services.app_passwords.devices(actor(services, acme.user))]
    assert names == ["dav test"]
