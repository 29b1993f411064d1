"""My account: details, own password change, language, revocable sessions and devices."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sfs.app import Services
from sfs.domain.errors import AuthenticationFailed, InvalidInput, NotFound, TooManyAttempts
from sfs.metadata.models import AuditEvent, DeviceToken, User, WebSession
from tests.support import GOOD_PASSWORD, OTHER_GOOD_PASSWORD, csrf_token_in, read_outbox
from tests.world import CLIENT, actor, make_tenant


def log_in(client: TestClient, email: str, password: str = GOOD_PASSWORD) -> None:
    token = csrf_token_in(client.get("/login").text)
    answer = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def password_hash(services: Services, email: str) -> str | None:
    with services.database.transaction() as session:
        return session.scalars(select(User.password_hash).where(User.email == email)).one()


def test_changing_my_password_keeps_this_session_and_signs_out_the_others(
    services: Services,
) -> None:
    acme = make_tenant(services, "Acme")
    me = actor(services, acme.user)
    this = services.web_sessions.start(me, client=CLIENT)
    services.web_sessions.start(me, client=CLIENT)
    services.device_tokens.issue(me, device_name="laptop", client=CLIENT)
    with services.database.transaction() as session:
        row = session.get(User, acme.user.id)
        assert row is not None
        row.must_change_password = True
    services.my_account.change_password(
        me,
        current_password=GOOD_PASSWORD,
        new_password=OTHER_GOOD_PASSWORD,
        confirm_password=OTHER_GOOD_PASSWORD,
        sign_out_other_sessions=True,
        client=CLIENT,
        current_session_cookie=this.cookie_value,
    )
    overview = services.my_account.overview(me, current_session_cookie=this.cookie_value)
    assert [b.is_current for b in overview.browsers] == [True]
    assert overview.devices == [] and not overview.must_change_password
    services.login.authenticate(
        email=acme.user.email, password=OTHER_GOOD_PASSWORD, client=CLIENT, channel="web"
    )
    with pytest.raises(AuthenticationFailed):
        services.login.authenticate(
            email=acme.user.email, password=GOOD_PASSWORD, client=CLIENT, channel="web"
        )
    mail = read_outbox(services.settings.outbox_dir)[-1]
    assert mail["To"] == acme.user.email and "password was changed" in mail["Subject"]
    with services.database.transaction() as session:
        types = list(session.scalars(select(AuditEvent.event_type)))
    assert "password.changed" in types


def test_keeping_other_sessions_is_a_choice(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    me = actor(services, acme.user)
    this = services.web_sessions.start(me, client=CLIENT)
    services.web_sessions.start(me, client=CLIENT)
    services.my_account.change_password(
        me,
        current_password=GOOD_PASSWORD,
        new_password=OTHER_GOOD_PASSWORD,
        confirm_password=OTHER_GOOD_PASSWORD,
        sign_out_other_sessions=False,
        client=CLIENT,
        current_session_cookie=this.cookie_value,
    )
    assert len(services.my_account.overview(me).browsers) == 2


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("wrong-password-here", OTHER_GOOD_PASSWORD, OTHER_GOOD_PASSWORD, "current password"),
        (GOOD_PASSWORD, OTHER_GOOD_PASSWORD, GOOD_PASSWORD, "do not match"),
        (GOOD_PASSWORD, "qwertyuiop12", "qwertyuiop12", "too easy to guess"),
        (GOOD_PASSWORD, "short", "short", "at least 12"),
        (GOOD_PASSWORD, GOOD_PASSWORD, GOOD_PASSWORD, "must differ"),
    ],
)
def test_a_refused_change_changes_nothing(
    services: Services, current: str, new: str, confirm: str, message: str
) -> None:
    acme = make_tenant(services, "Acme")
    me = actor(services, acme.user)
    other = services.web_sessions.start(me, client=CLIENT)
    before = password_hash(services, acme.user.email)
    with pytest.raises(InvalidInput, match=message):
        services.my_account.change_password(
            me,
            current_password=current,
            new_password=new,
            confirm_password=confirm,
            sign_out_other_sessions=True,
            client=CLIENT,
        )
    assert password_hash(services, acme.user.email) == before
    services.web_sessions.resolve(other.cookie_value, client=CLIENT)
    assert read_outbox(services.settings.outbox_dir) == []


def test_guessing_the_current_password_is_throttled(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    me = actor(services, acme.user)

    def attempt(current: str) -> None:
        services.my_account.change_password(
            me,
            current_password=current,
            new_password=OTHER_GOOD_PASSWORD,
            confirm_password=OTHER_GOOD_PASSWORD,
            sign_out_other_sessions=True,
            client=CLIENT,
        )

    for n in range(10):
        with pytest.raises(InvalidInput):
            attempt(f"guess-number-{n}")
    with pytest.raises(TooManyAttempts):
        attempt(GOOD_PASSWORD)
    assert password_hash(services, acme.user.email) is not None


def test_language_is_stored_and_only_english_or_dutch(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    me = actor(services, acme.user)
    assert services.my_account.overview(me).language is None
    services.my_account.set_language(me, language="nl", client=CLIENT)
    assert services.my_account.overview(me).language == "nl"
    assert services.languages.chosen_by(me) == "nl"
    with pytest.raises(InvalidInput):
        services.my_account.set_language(me, language="fr", client=CLIENT)
    assert services.my_account.overview(me).language == "nl"


def test_one_cannot_revoke_someone_elses_session(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    admin, user = actor(services, acme.admin), actor(services, acme.user)
    services.web_sessions.start(user, client=CLIENT)
    handle = services.my_account.overview(user).browsers[0].handle
    with pytest.raises(NotFound):
        services.my_account.revoke_browser(admin, handle=handle, client=CLIENT)
    services.my_account.revoke_browser(user, handle=handle, client=CLIENT)
    assert services.my_account.overview(user).browsers == []


def test_the_account_page_shows_my_details_sessions_and_devices(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    services.device_tokens.issue(
        actor(services, acme.user), device_name="Work laptop", client=CLIENT
    )
    log_in(client, acme.user.email)
    home = client.get("/")
    assert '<a class="account-name" href="/account">Umberto Acme</a>' in home.text
    assert 'href="/accounts"' not in home.text  # the Accounts menu is for admins only
    page = client.get("/account")
    for text in (
        "My account",
        acme.user.email,
        "Acme",
        "User",
        "Not set up",
        "Change Password",
        "English",
        "Nederlands",
        "Work laptop",
        "(this session)",
    ):
        assert text in page.text, text


def test_the_portal_password_change_and_its_errors(client: TestClient, services: Services) -> None:
    acme = make_tenant(services, "Acme")
    log_in(client, acme.user.email)
    form = client.get("/account/password")
    for label in ("Current password", "New password", "Confirm new password"):
        assert f">{label}</label>" in form.text
    assert re.search(r'name="sign_out_others" value="1" checked', form.text)
    assert "Sign out my other sessions" in form.text
    assert '<button type="submit">Submit</button>' in form.text
    token = csrf_token_in(form.text)
    before = password_hash(services, acme.user.email)
    for current, new, confirm, message in [
        ("not-my-password-x", OTHER_GOOD_PASSWORD, OTHER_GOOD_PASSWORD, "current password"),
        (GOOD_PASSWORD, OTHER_GOOD_PASSWORD, "something-else-entirely", "do not match"),
        (GOOD_PASSWORD, "password1234", "password1234", "too easy to guess"),
    ]:
        answer = client.post(
            "/account/password",
            data={
                "csrf_token": token,
                "current_password": current,
                "new_password": new,
                "confirm_password": confirm,
                "sign_out_others": "1",
            },
        )
        assert answer.status_code == 422 and message in answer.text
        assert password_hash(services, acme.user.email) == before
    forged = client.post(
        "/account/password",
        data={
            "csrf_token": "forged",
            "current_password": GOOD_PASSWORD,
            "new_password": OTHER_GOOD_PASSWORD,
            "confirm_password": OTHER_GOOD_PASSWORD,
        },
    )
    assert forged.status_code == 403
    done = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": GOOD_PASSWORD,
            "new_password": OTHER_GOOD_PASSWORD,
            "confirm_password": OTHER_GOOD_PASSWORD,
            "sign_out_others": "1",
        },
    )
    assert done.status_code == 200 and "Your password was changed" in done.text
    assert password_hash(services, acme.user.email) != before


def test_language_and_revocation_through_the_portal(client: TestClient, services: Services) -> None:
    acme = make_tenant(services, "Acme")
    issued = services.device_tokens.issue(
        actor(services, acme.user), device_name="Phone", client=CLIENT
    )
    services.web_sessions.start(actor(services, acme.user), client=CLIENT)
    log_in(client, acme.user.email)
    page = client.get("/account")
    token = csrf_token_in(page.text)
    saved = client.post("/account/language", data={"csrf_token": token, "language": "nl"})
    assert saved.status_code == 200
    with services.database.transaction() as session:
        assert session.scalars(select(User.language).where(User.id == acme.user.id)).one() == "nl"
    revoked = client.post(f"/account/devices/{issued.id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 200 and "Phone" not in revoked.text
    with services.database.transaction() as session:
        device = session.get(DeviceToken, issued.id)
        assert device is not None and device.revoked_at is not None
    handles = re.findall(r'action="/account/sessions/([0-9a-f]+)/revoke"', revoked.text)
    assert len(handles) == 2
    current = re.search(
        r'<tr class="current">.*?/account/sessions/([0-9a-f]+)/revoke', revoked.text, re.S
    )
    assert current is not None
    other = next(h for h in handles if h != current.group(1))
    after = client.post(f"/account/sessions/{other}/revoke", data={"csrf_token": token})
    assert after.status_code == 200
    with services.database.transaction() as session:
        rows = list(session.scalars(select(WebSession).where(WebSession.user_id == acme.user.id)))
    assert len(rows) == 1
    # Signing out this very browser ends at the login page.
    gone = client.post(f"/account/sessions/{current.group(1)}/revoke", data={"csrf_token": token})
    assert gone.url.path == "/login"
