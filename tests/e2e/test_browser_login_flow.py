"""Login Flow v2 end to end against a real `sfs serve`: a client starts the flow and polls over
HTTP (as curl would), the user logs in with a second factor in Debian's Chromium and grants
access, and the poll hands out an app password that works, once."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from sfs.domain.actor import operator
from sfs.metadata.models import User
from sfs.services.identity.actors import actor_of
from tests.e2e.browser_support import Portal
from tests.e2e.test_browser_second_factor import oathtool
from tests.support import GOOD_PASSWORD
from tests.world import CLIENT

CLIENT_AGENT = "Mozilla/5.0 (Linux) mirall/3.7.3 (Nextcloud, debian-6.1.0)"


def user_with_authenticator(portal: Portal) -> tuple[str, str]:
    """A new user of Acme with an authenticator app set up: (email, TOTP secret)."""
    services = portal.services
    email = "flow@acme.example.com"
    view = services.accounts.create_user(
        operator(),
        organization_id=portal.organization_id,
        email=email,
        display_name="Flo Flow",
        password=GOOD_PASSWORD,
        client=CLIENT,
    )
    with services.database.transaction() as session:
        row = session.get(User, view.id)
        assert row is not None
        user = actor_of(row)
    setup = services.second_factor.begin_totp(user, client=CLIENT)
    services.second_factor.complete_enrolment(
        user, method="totp", code=oathtool(setup.secret), client=CLIENT
    )
    return email, setup.secret


def test_a_client_gets_an_app_password_through_the_browser(page: Page, portal: Portal) -> None:
    email, secret = user_with_authenticator(portal)
    with httpx.Client(base_url=portal.server.base_url, timeout=10) as client:
        started = client.post("/index.php/login/v2", headers={"User-Agent": CLIENT_AGENT})
        assert started.status_code == 200
        flow = started.json()
        endpoint, token = flow["poll"]["endpoint"], flow["poll"]["token"]
        assert client.post(endpoint, data={"token": token}).status_code == 404

        page.goto(flow["login"])
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(GOOD_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_label("Authentication Code").fill(oathtool(secret, ahead=1))
        page.get_by_role("button", name="Submit").click()
        expect(page.get_by_role("heading", name=f"Grant access to {CLIENT_AGENT}?")).to_be_visible()
        assert client.post(endpoint, data={"token": token}).status_code == 404
        page.get_by_role("button", name="Grant access").click()
        expect(page.get_by_role("heading", name="Access granted")).to_be_visible()

        handed = client.post(endpoint, data={"token": token})
        assert handed.status_code == 200
        body = handed.json()
        assert body["server"] == portal.server.base_url and body["loginName"] == email
        me = client.get(
            "/ocs/v1.php/cloud/user?format=json",
            auth=(body["loginName"], body["appPassword"]),
            headers={"OCS-APIREQUEST": "true"},
        )
        assert me.status_code == 200 and me.json()["ocs"]["data"]["email"] == email
        assert client.post(endpoint, data={"token": token}).status_code == 404

    page.goto("/account/devices")
    expect(page.get_by_role("cell", name=CLIENT_AGENT)).to_be_visible()
