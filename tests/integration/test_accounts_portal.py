"""The Accounts menu over HTTP: the manual's walk, and the role and tenant matrix."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sfs.app import Services
from sfs.metadata.models import User
from tests.support import GOOD_PASSWORD, OTHER_GOOD_PASSWORD, csrf_token_in, read_outbox
from tests.world import Tenant, make_tenant

ACCOUNT_PAGES = ["", "/password", "/second-factor", "/delete"]
ACCOUNT_ACTIONS = [
    "/password",
    "/second-factor",
    "/role",
    "/disable",
    "/enable",
    "/invitation",
    "/delete",
]


def log_in(client: TestClient, email: str) -> str:
    """Log in; returns the session's CSRF token."""
    token = csrf_token_in(client.get("/login").text)
    client.post("/login", data={"email": email, "password": GOOD_PASSWORD, "csrf_token": token})
    return csrf_token_in(client.get("/").text)


def every_account_request(
    client: TestClient, user_id: uuid.UUID, csrf: str
) -> list[tuple[str, int]]:
    answers = [
        (f"GET /accounts/{user_id}{page}", client.get(f"/accounts/{user_id}{page}").status_code)
        for page in ACCOUNT_PAGES
    ]
    form = {
        "csrf_token": csrf,
        "new_password": OTHER_GOOD_PASSWORD,
        "confirm_password": OTHER_GOOD_PASSWORD,
        "role": "user",
        "confirm_email": "anything@example.com",
    }
    answers += [
        (
            f"POST /accounts/{user_id}{action}",
            client.post(f"/accounts/{user_id}{action}", data=form).status_code,
        )
        for action in ACCOUNT_ACTIONS
    ]
    return answers


def snapshot(services: Services, tenant: Tenant) -> list[tuple[str, str, str, str | None]]:
    with services.database.transaction() as session:
        rows = session.scalars(
            select(User).where(User.organization_id == tenant.organisation.id).order_by(User.email)
        )
        return [(r.email, r.role, r.status, r.password_hash) for r in rows]


def test_the_manuals_walk_accounts_edit_change_password(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    log_in(client, acme.admin.email)
    home = client.get("/")
    assert '<a href="/accounts">Accounts</a>' in home.text
    listing = client.get("/accounts")
    assert listing.status_code == 200
    row = re.search(r"<tr>\s*<td[^>]*>Umberto Acme</td>.*?</tr>", listing.text, re.S)
    assert row is not None
    for text in (acme.user.email, "User", "Active", "Not set up", "Never"):
        assert text in row.group(0)
    edit = re.search(r'<a class="icon-button" href="([^"]+)" aria-label="Edit"', row.group(0))
    assert edit is not None and edit.group(1) == f"/accounts/{acme.user.id}"
    account = client.get(edit.group(1))
    for label in ("Change Password", "Disable account", "Delete account", "Change role"):
        assert label in account.text, label
    # Offered only to users who have a second factor to reset (this one has none yet).
    assert "Reset two-factor authentication" not in account.text
    form = client.get(f"/accounts/{acme.user.id}/password")
    assert '<label for="new_password">New password</label>' in form.text
    assert '<label for="confirm_password">Confirm new password</label>' in form.text
    assert "Require a new password at next login" in form.text
    assert '<button type="submit">Submit</button>' in form.text
    done = client.post(
        f"/accounts/{acme.user.id}/password",
        data={
            "csrf_token": csrf_token_in(form.text),
            "new_password": OTHER_GOOD_PASSWORD,
            "confirm_password": OTHER_GOOD_PASSWORD,
            "require_change": "1",
        },
    )
    assert done.status_code == 200 and "The password was changed" in done.text
    assert "Must be changed at the next login" in done.text
    assert read_outbox(services.settings.outbox_dir)[-1]["To"] == acme.user.email


def test_admin_password_errors_are_shown_and_change_nothing(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    csrf = log_in(client, acme.admin.email)
    before = snapshot(services, acme)
    for new, confirm, message in [
        (OTHER_GOOD_PASSWORD, GOOD_PASSWORD, "do not match"),
        ("password1234", "password1234", "too easy to guess"),
    ]:
        answer = client.post(
            f"/accounts/{acme.user.id}/password",
            data={"csrf_token": csrf, "new_password": new, "confirm_password": confirm},
        )
        assert answer.status_code == 422 and message in answer.text
        assert 'role="alert"' in answer.text
    assert snapshot(services, acme) == before


def test_the_last_admin_guard_shows_on_the_account_page(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    csrf = log_in(client, acme.admin.email)
    answer = client.post(
        f"/accounts/{acme.admin.id}/role", data={"csrf_token": csrf, "role": "user"}
    )
    assert answer.status_code == 403 and "last active Organization Admin" in answer.text


def test_disable_enable_and_delete_through_the_portal(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    csrf = log_in(client, acme.admin.email)
    disabled = client.post(f"/accounts/{acme.user.id}/disable", data={"csrf_token": csrf})
    assert "The account was disabled" in disabled.text and "Enable account" in disabled.text
    enabled = client.post(f"/accounts/{acme.user.id}/enable", data={"csrf_token": csrf})
    assert "The account was enabled" in enabled.text
    page = client.get(f"/accounts/{acme.user.id}/delete")
    assert "their files are deleted" in page.text
    refused = client.post(
        f"/accounts/{acme.user.id}/delete",
        data={"csrf_token": csrf, "confirm_email": "wrong@acme.example.com"},
    )
    assert refused.status_code == 422
    deleted = client.post(
        f"/accounts/{acme.user.id}/delete",
        data={"csrf_token": csrf, "confirm_email": acme.user.email},
    )
    assert deleted.status_code == 200 and "The account was deleted" in deleted.text
    assert client.get(f"/accounts/{acme.user.id}").status_code == 404


def test_a_forged_form_changes_nothing(client: TestClient, services: Services) -> None:
    acme = make_tenant(services, "Acme")
    log_in(client, acme.admin.email)
    before = snapshot(services, acme)
    answer = client.post(f"/accounts/{acme.user.id}/disable", data={"csrf_token": "forged"})
    assert answer.status_code == 403
    assert snapshot(services, acme) == before


def test_users_cannot_open_accounts_or_any_account_url(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    csrf = log_in(client, acme.user.email)
    before = snapshot(services, acme)
    assert client.get("/accounts").status_code == 403
    assert "Not allowed" in client.get("/accounts").text
    assert client.get("/accounts/new").status_code == 403
    created = client.post(
        "/accounts/new",
        data={"csrf_token": csrf, "display_name": "X", "email": "x@acme.example.com"},
    )
    assert created.status_code == 403
    for target in (acme.admin.id, acme.user.id):
        answers = every_account_request(client, target, csrf)
        assert {status for _, status in answers} == {403}, answers
    assert snapshot(services, acme) == before


def test_an_admin_gets_404_for_every_account_url_of_another_organisation(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    globex = make_tenant(services, "Globex")
    csrf = log_in(client, acme.admin.email)
    before = snapshot(services, globex)
    for target in (globex.user.id, globex.admin.id):
        answers = every_account_request(client, target, csrf)
        assert {status for _, status in answers} == {404}, answers
    # Exactly as for an id that does not exist, or is not an id at all.
    assert {s for _, s in every_account_request(client, uuid.uuid4(), csrf)} == {404}
    assert client.get("/accounts/not-an-id").status_code == 404
    listing = client.get("/accounts", params={"q": "globex"})
    assert "globex" not in listing.text.lower().replace('value="globex"', "")
    assert snapshot(services, globex) == before


# A fixed id: pytest-xdist workers must collect the same parameters.
UNKNOWN_ACCOUNT = "/accounts/6fdfde32-792c-44d2-8963-f52bda5db4dc"


@pytest.mark.parametrize("path", ["/accounts", UNKNOWN_ACCOUNT, "/account"])
def test_signed_out_browsers_go_to_the_login_page(client: TestClient, path: str) -> None:
    assert client.get(path).url.path == "/login"
