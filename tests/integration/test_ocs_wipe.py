"""The Nextcloud clients' remote wipe, over HTTP in the shapes the desktop and mobile clients
send: `POST /index.php/core/wipe/check` and `…/success` with a form field `token=<app password>`."""

from __future__ import annotations

from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.domain.actor import ClientInfo
from sfs.domain.audit import AuditEventType
from tests.integration.test_devices import events, mails
from tests.world import CLIENT, Tenant, actor, make_tenant

DESKTOP = "Mozilla/5.0 (Linux) mirall/3.7.3 (Nextcloud, debian-6.1.0)"
FORM = {"User-Agent": DESKTOP, "Content-Type": "application/x-www-form-urlencoded"}


def app_password_through_login_flow(services: Services, acme: Tenant) -> str:
    started = services.login_flows.start(client=ClientInfo("192.0.2.1", DESKTOP))
    services.login_flows.grant(actor(services, acme.user), started.login_token)
    return services.login_flows.collect(started.poll_token, client=CLIENT).app_password


def check(client: TestClient, token: str, prefix: str = "/index.php") -> tuple[int, object]:
    answer = client.post(f"{prefix}/core/wipe/check", content=f"token={token}", headers=FORM)
    return answer.status_code, answer.json()


def success(client: TestClient, token: str) -> tuple[int, object]:
    answer = client.post("/index.php/core/wipe/success", content=f"token={token}", headers=FORM)
    return answer.status_code, answer.json()


def test_a_wiped_app_password_is_told_to_wipe_and_confirms_once(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    password = app_password_through_login_flow(services, acme)
    basic = (acme.user.email, password)
    user_url = "/ocs/v2.php/cloud/user?format=json"
    # Issued to the poll (curl here); its first use tells who it is.
    seen = client.get(user_url, auth=basic, headers={"User-Agent": DESKTOP})
    assert seen.status_code == 200
    assert check(client, password) == (404, [])
    assert success(client, password) == (404, [])

    (device,) = services.devices.listing(actor(services, acme.user)).devices
    services.devices.request_wipe(
        actor(services, acme.admin), device.id, client=CLIENT, user_id=acme.user.id
    )

    # Refused everywhere else at once, so the client asks:
    assert client.get(user_url, auth=basic).status_code == 401
    propfind = client.request(
        "PROPFIND", f"/remote.php/dav/files/{acme.user.id}/", auth=basic, headers={"Depth": "0"}
    )
    assert propfind.status_code == 401
    assert check(client, password) == (200, {"wipe": True})
    assert check(client, password, prefix="") == (200, {"wipe": True})
    assert check(client, password.upper().replace("-", "")) == (200, {"wipe": True})
    before = len(mails(services))

    assert success(client, password) == (200, [])

    assert success(client, password) == (404, [])  # replayed: nothing more happens
    assert check(client, password) == (404, [])
    sent = mails(services)[before:]
    assert sorted(message["To"] for message in sent) == [acme.admin.email, acme.user.email]
    (confirmed,) = events(services, AuditEventType.DEVICE_WIPED)
    assert confirmed["kind"] == "app_password"
    (listed,) = services.devices.listing(actor(services, acme.user)).devices
    assert listed.wipe_state == "wiped" and listed.client == "Nextcloud desktop"


def test_wipe_calls_without_a_wiped_device_answer_404_and_change_nothing(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    password = app_password_through_login_flow(services, acme)
    for token in ("", "nonsense", "sfs_" + "x" * 40, "aaaaa-bbbbb-ccccc-ddddd-eeeee", password):
        assert check(client, token) == (404, [])
        assert success(client, token) == (404, [])
    no_field = client.post("/index.php/core/wipe/check", headers=FORM)
    assert no_field.status_code == 404
    too_long = client.post(
        "/index.php/core/wipe/check", content="token=" + "a" * 5000, headers=FORM
    )
    assert too_long.status_code == 422
    assert client.get("/index.php/core/wipe/check").status_code == 405
    assert events(services, AuditEventType.DEVICE_WIPED) == []
    assert client.get("/ocs/v2.php/cloud/user", auth=(acme.user.email, password)).status_code == 200
