"""The Devices page in the portal: one's own (My account) and an account's (Accounts)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.auth.secrets import digest
from sfs.domain.actor import ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.services.identity.web_sessions import browser_handle
from tests.integration.test_devices import events
from tests.signed_in import log_in, page_csrf_token
from tests.world import actor, make_tenant

LAPTOP = ClientInfo(address="198.51.100.20", user_agent="sfs-sync/0.1.0 (Linux; x86_64)")
PHONE = ClientInfo(
    address="192.0.2.50", user_agent="Mozilla/5.0 (Android) Nextcloud-android/3.25.0"
)


def _row(page: str, device_id: object) -> str:
    found = re.search(rf'<tr data-device="{device_id}">(.*?)</tr>', page, re.S)
    assert found, page
    return found.group(1)


def test_the_page_lists_browsers_and_devices_and_names_this_browser(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    user = actor(services, acme.user)
    laptop = services.device_tokens.issue(user, device_name="Work laptop", client=LAPTOP)
    services.device_tokens.resolve(laptop.secret, client=LAPTOP, space="My Files")
    services.web_sessions.start(user, client=PHONE)  # a browser left open elsewhere
    log_in(client, acme.user.email)

    page = client.get("/account/devices").text

    row = _row(page, laptop.id)
    for shown in (
        "Work laptop",
        "Sync client",
        "sfs sync 0.1.0",
        "Linux",
        "198.51.100.20",
        "My Files",
    ):
        assert shown in row
    assert "Active" in row and "/wipe" in row
    assert page.count("(this browser)") == 1
    assert page.count("/sessions/") == 1  # only the other browser can be ended here
    assert "Android" in page


def test_a_user_ends_another_browser_and_signs_out_everywhere_but_stays_signed_in_here(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    user = actor(services, acme.user)
    elsewhere = services.web_sessions.start(user, client=PHONE)
    laptop = services.device_tokens.issue(user, device_name="Laptop", client=LAPTOP)
    log_in(client, acme.user.email)
    token = page_csrf_token(client, "/account/devices")
    here = services.devices.listing(
        user, current_session_cookie=client.cookies.get("sfs_session")
    ).browsers
    mine = next(browser for browser in here if browser.is_current)

    refused = client.post(
        f"/account/devices/sessions/{mine.handle}/end", data={"csrf_token": token}
    )
    assert refused.status_code == 422 and "browser you are using" in refused.text
    other = browser_handle_of(services, elsewhere.cookie_value)
    ended = client.post(
        f"/account/devices/sessions/{other}/end",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert ended.headers["location"] == "/account/devices?done=ended"

    everywhere = client.post(
        "/account/devices/sign-out-everywhere", data={"csrf_token": token}, follow_redirects=False
    )
    assert everywhere.headers["location"] == "/account/devices?done=everywhere"
    page = client.get("/account/devices?done=everywhere")
    assert page.status_code == 200 and "Signed out everywhere:" in page.text  # still signed in
    assert str(laptop.id) not in page.text
    assert len(events(services, AuditEventType.SIGNED_OUT_EVERYWHERE)) == 1


def browser_handle_of(services: Services, cookie_value: str) -> str:
    return browser_handle(digest(cookie_value))


def test_a_user_wipes_a_device_and_sees_it_pending_then_wiped(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    laptop = services.device_tokens.issue(
        actor(services, acme.user), device_name="Laptop", client=LAPTOP
    )
    log_in(client, acme.user.email)
    confirm = client.get(f"/account/devices/{laptop.id}/wipe")
    assert confirm.status_code == 200 and "erases the files it synced" in confirm.text
    token = page_csrf_token(client, "/account/devices")

    forged = client.post(f"/account/devices/{laptop.id}/wipe", data={"csrf_token": "nope"})
    assert forged.status_code == 403
    assert services.device_wipe.must_wipe(laptop.secret) is False

    done = client.post(
        f"/account/devices/{laptop.id}/wipe", data={"csrf_token": token}, follow_redirects=False
    )
    assert done.headers["location"] == "/account/devices?done=wipe"
    assert "Wipe pending since" in _row(client.get("/account/devices").text, laptop.id)
    again = client.post(f"/account/devices/{laptop.id}/wipe", data={"csrf_token": token})
    assert again.status_code == 422 and "already requested" in again.text

    services.device_wipe.confirm(laptop.secret, client=LAPTOP)
    row = _row(client.get("/account/devices").text, laptop.id)
    assert "Wiped at" in row and "/wipe" not in row


def test_an_admin_sees_and_wipes_a_members_devices_but_not_another_organisations(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    globex = make_tenant(services, "Globex")
    laptop = services.device_tokens.issue(
        actor(services, acme.user), device_name="Laptop", client=LAPTOP
    )
    log_in(client, globex.admin.email)
    token = page_csrf_token(client, "/account/devices")
    assert client.get(f"/accounts/{acme.user.id}/devices").status_code == 404
    stolen = client.post(
        f"/accounts/{acme.user.id}/devices/{laptop.id}/wipe", data={"csrf_token": token}
    )
    assert stolen.status_code == 404
    theirs = client.post(
        f"/accounts/{globex.user.id}/devices/{laptop.id}/wipe", data={"csrf_token": token}
    )
    assert theirs.status_code == 404
    assert services.device_wipe.must_wipe(laptop.secret) is False

    client.cookies.clear()
    log_in(client, acme.admin.email)
    assert f"/accounts/{acme.user.id}/devices" in client.get(f"/accounts/{acme.user.id}").text
    page = client.get(f"/accounts/{acme.user.id}/devices").text
    assert "Devices of Umberto Acme" in page and "Laptop" in page
    assert "New app password" not in page  # an admin creates no app passwords for others
    token = csrf_from(page)
    wiped = client.post(
        f"/accounts/{acme.user.id}/devices/{laptop.id}/wipe",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert wiped.headers["location"] == f"/accounts/{acme.user.id}/devices?done=wipe"
    assert services.device_wipe.must_wipe(laptop.secret) is True
    (requested,) = events(services, AuditEventType.DEVICE_WIPE_REQUESTED)
    assert requested["actor"] == acme.admin.email


def test_a_plain_user_cannot_open_another_accounts_devices(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    log_in(client, acme.user.email)
    assert client.get(f"/accounts/{acme.admin.id}/devices").status_code == 403
    assert client.get("/accounts/not-an-id/devices").status_code == 404


def test_the_devices_page_speaks_dutch(client: TestClient, services: Services) -> None:
    acme = make_tenant(services, "Acme")
    services.device_tokens.issue(actor(services, acme.user), device_name="Laptop", client=LAPTOP)
    log_in(client, acme.user.email)
    page = client.get("/account/devices", headers={"Accept-Language": "nl"}).text
    assert (
        "(deze browser)" in page
        and "Overal afmelden" in page
        and "Gesynchroniseerde mappen" in page
    )


def csrf_from(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_device_events_are_in_the_audit_log_and_its_csv(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    user = actor(services, acme.user)
    laptop = services.device_tokens.issue(user, device_name="Laptop", client=LAPTOP)
    phone = services.app_passwords.create(user, name="Phone", client=PHONE)
    services.devices.revoke(user, phone.id, client=PHONE)
    services.devices.request_wipe(user, laptop.id, client=PHONE)
    services.device_wipe.confirm(laptop.secret, client=LAPTOP)
    log_in(client, acme.admin.email)

    page = client.get("/audit?event_type=device.wipe_requested").text
    assert '<option value="device.wiped"' in page and "Laptop" in page
    exported = client.get("/audit.csv").text
    for kind in (
        "device_token.issued",
        "app_password.created",
        "app_password.revoked",
        "device.wipe_requested",
        "device.wiped",
    ):
        assert kind in exported
