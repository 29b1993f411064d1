"""A temporary password set by an administrator opens one door only: choosing a new one.

Until it is changed, the portal sends every page to Change Password, and the REST API (token
issue included) answers 403 `password_change_required`.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sfs.app import Services
from sfs.domain.errors import PasswordChangeRequired
from sfs.metadata.models import DeviceToken, User
from tests.integration.test_second_factor import last_mailed_code
from tests.signed_in import log_in
from tests.support import GOOD_PASSWORD, OTHER_GOOD_PASSWORD, csrf_token_in, read_outbox
from tests.world import CLIENT, Tenant, actor, make_tenant

TEMPORARY = "temporary-walrus-kettle-73"


def set_temporary_password(services: Services, tenant: Tenant) -> None:
    services.account_admin.change_password(
        actor(services, tenant.admin),
        tenant.user.id,
        new_password=TEMPORARY,
        confirm_password=TEMPORARY,
        require_change_at_next_login=True,
        client=CLIENT,
    )


def require_change(services: Services, tenant: Tenant) -> None:
    """The flag alone, leaving tokens issued before it in place (as before this rule existed)."""
    with services.database.transaction() as session:
        row = session.get(User, tenant.user.id)
        assert row is not None
        row.must_change_password = True


def api_login(client: TestClient, email: str, password: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": password, "device_name": "laptop"},
    )


def token_count(services: Services, tenant: Tenant) -> int:
    with services.database.transaction() as session:
        query = select(func.count()).where(DeviceToken.user_id == tenant.user.id)
        return session.scalar(query) or 0


def test_every_portal_page_but_change_password_and_logout_sends_there(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    set_temporary_password(services, acme)
    log_in(client, acme.user.email, TEMPORARY)
    for page in ("/", "/files", "/account", "/audit", "/enrol", "/enrol/totp", "/login"):
        answer = client.get(page, follow_redirects=False)
        assert answer.status_code == 303, page
        assert answer.headers["location"] == "/account/password", page
    form = client.get("/account/password")
    assert form.status_code == 200
    assert "Your administrator requires you to choose a new password." in form.text
    # A form posted elsewhere is refused the same way, before it changes anything.
    folder = client.post(
        "/file/new-folder",
        data={"csrf_token": csrf_token_in(form.text), "name": "Plans"},
        follow_redirects=False,
    )
    assert folder.status_code == 303 and folder.headers["location"] == "/account/password"
    changed = client.post(
        "/account/password",
        data={
            "csrf_token": csrf_token_in(form.text),
            "current_password": TEMPORARY,
            "new_password": OTHER_GOOD_PASSWORD,
            "confirm_password": OTHER_GOOD_PASSWORD,
        },
        follow_redirects=False,
    )
    assert changed.status_code == 303 and changed.headers["location"] == "/account?done=password"
    assert client.get("/files", follow_redirects=False).status_code == 200


def test_logging_out_still_works_while_the_change_is_due(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    set_temporary_password(services, acme)
    log_in(client, acme.user.email, TEMPORARY)
    token = csrf_token_in(client.get("/account/password").text)
    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert "sfs_session" not in client.cookies
    assert client.get("/login", follow_redirects=False).status_code == 200


def test_an_existing_token_gets_only_change_your_password(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    issued = api_login(client, acme.user.email, GOOD_PASSWORD).json()["token"]
    headers = {"Authorization": f"Bearer {issued}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    require_change(services, acme)
    for path in ("/api/v1/me", "/api/v1/devices", "/api/v1/spaces/me/children"):
        refused = client.get(path, headers=headers)
        assert refused.status_code == 403, path
        assert refused.json()["code"] == "password_change_required"
        assert "choose a new password" in refused.json()["message"]
    with pytest.raises(PasswordChangeRequired):
        services.device_tokens.resolve(issued)


def test_no_token_is_issued_until_the_password_is_changed(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    set_temporary_password(services, acme)
    refused = api_login(client, acme.user.email, TEMPORARY)
    assert refused.status_code == 403
    assert refused.json()["code"] == "password_change_required"
    assert token_count(services, acme) == 0
    with pytest.raises(PasswordChangeRequired):
        services.device_tokens.issue(actor(services, acme.user), device_name="x", client=CLIENT)


def test_no_second_factor_challenge_is_mailed_for_a_token_that_cannot_be_issued(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    user = actor(services, acme.user)
    services.second_factor.begin_email(user, client=CLIENT)
    services.second_factor.complete_enrolment(
        user, method="email", code=last_mailed_code(services), client=CLIENT
    )
    require_change(services, acme)
    mailed = len(read_outbox(services.settings.outbox_dir))
    refused = api_login(client, acme.user.email, GOOD_PASSWORD)
    assert refused.status_code == 403 and refused.json()["code"] == "password_change_required"
    assert len(read_outbox(services.settings.outbox_dir)) == mailed
