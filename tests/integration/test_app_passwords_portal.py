"""My account → Devices and app passwords, and the organisation's account-password setting."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from sfs.app import Services
from tests.integration.test_app_passwords import SECRET_FORM, webdav_login
from tests.signed_in import log_in, page_csrf_token
from tests.world import actor, make_tenant


def test_creating_listing_and_revoking_an_app_password_in_the_portal(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    log_in(client, acme.user.email)
    assert "/account/devices" in client.get("/account").text
    token = page_csrf_token(client, "/account/devices")

    refused = client.post("/account/devices/app-passwords", data={"csrf_token": token, "name": ""})
    assert refused.status_code == 422 and "must not be empty" in refused.text

    shown = client.post(
        "/account/devices/app-passwords", data={"csrf_token": token, "name": "Work laptop"}
    )
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    secret = re.search(r'id="app-password">([^<]+)<', shown.text)
    assert secret and SECRET_FORM.match(secret.group(1))
    assert f"/remote.php/dav/files/{acme.user.id}/" in shown.text
    assert webdav_login(services, acme.user.email, secret.group(1)).actor.user_id == acme.user.id

    page = client.get("/account/devices").text
    assert "Work laptop" in page and "App password" in page
    assert secret.group(1) not in page  # shown once only
    (device,) = services.app_passwords.devices(actor(services, acme.user))
    forged = client.post(f"/account/devices/{device.id}/forget", data={"csrf_token": "nope"})
    assert forged.status_code == 403
    assert services.app_passwords.devices(actor(services, acme.user))
    revoked = client.post(
        f"/account/devices/{device.id}/forget",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    assert revoked.headers["location"] == "/account/devices?done=revoked"
    assert services.app_passwords.devices(actor(services, acme.user)) == []
    missing = client.post("/account/devices/not-an-id/forget", data={"csrf_token": token})
    assert missing.status_code == 404


def test_the_page_speaks_dutch(client: TestClient, services: Services) -> None:
    acme = make_tenant(services, "Acme")
    log_in(client, acme.user.email)
    page = client.get("/account/devices", headers={"Accept-Language": "nl"}).text
    assert "Apparaten en app-wachtwoorden" in page and "App-wachtwoord aanmaken" in page


def test_the_organisation_allows_account_passwords_from_its_settings_page(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    log_in(client, acme.admin.email)
    page = client.get("/organisation").text
    assert 'name="allow_account_password_clients"' in page
    assert 'name="allow_account_password_clients" value="on" checked' not in page
    form = {
        "csrf_token": page_csrf_token(client, "/organisation"),
        "allowed_second_factors": ["totp", "email"],
        "min_password_length": "12",
        "session_idle_minutes": "60",
        "session_absolute_minutes": "720",
        "allow_account_password_clients": "on",
    }
    saved = client.post("/organisation", data=form, follow_redirects=False)
    assert saved.status_code == 303
    assert services.organisations.get(
        actor(services, acme.admin), acme.organisation.id
    ).allow_account_password_clients
    assert 'value="on" checked' in client.get("/organisation").text
