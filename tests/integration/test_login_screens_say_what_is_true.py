"""What a new user met on the login and two-factor screens (issue 16), each fixed and kept so.

A throttled email code is never announced as sent; every enrolment screen has a way out; enrolling
ends with a confirmation; starting again warns before the Backup Key is replaced; password rules
are shown before a refusal and speak of "the user" to an administrator.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.auth import totp
from tests.integration.test_second_factor import last_mailed_code, require_2fa
from tests.integration.test_second_factor_portal import (
    backup_key_on,
    enrol_app,
    post_login,
    secret_on,
    submit,
)
from tests.signed_in import log_in
from tests.support import GOOD_PASSWORD, FakeClock, csrf_token_in, read_outbox
from tests.world import CLIENT, actor, make_tenant

CLIENT_LIMITED_TRIES = 5


def _enrol_by_email(client: TestClient, services: Services, email: str) -> None:
    form = client.get("/enrol/email").text
    page = submit(client, form, "/enrol/email", password=GOOD_PASSWORD).text
    done = submit(client, page, "/enrol/email/confirm", code=last_mailed_code(services))
    assert done.status_code == 303


def test_a_throttled_login_says_when_the_working_code_was_sent(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    require_2fa(services, acme.organisation.id)
    post_login(client, acme.user.email)
    _enrol_by_email(client, services, acme.user.email)
    client.cookies.clear()

    clock.advance(minutes=2)
    post_login(client, acme.user.email)
    first = client.get("/login/verify").text
    sent = clock.now().strftime("%H:%M")
    assert f"was sent to {acme.user.email} at {sent} UTC" in first
    first_code = last_mailed_code(services)
    mails = len(read_outbox(services.settings.outbox_dir))

    # A second login half a minute later is throttled: no mail, and the page says so truly.
    client.cookies.clear()
    clock.advance(seconds=30)
    post_login(client, acme.user.email)
    again = client.get("/login/verify").text
    assert len(read_outbox(services.settings.outbox_dir)) == mails
    assert f"at {sent} UTC" in again and "It is valid until" in again
    refused = submit(client, again, "/login/verify/resend")
    assert refused.status_code == 429
    assert f"sent at {sent} UTC, is still valid until" in refused.text
    # ... and the code it speaks of works.
    assert submit(client, again, "/login/verify", code=first_code).headers["location"] == "/"


def test_a_code_spent_on_wrong_tries_may_be_replaced_at_once(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    require_2fa(services, acme.organisation.id)
    post_login(client, acme.user.email)
    _enrol_by_email(client, services, acme.user.email)
    client.cookies.clear()
    clock.advance(minutes=2)
    post_login(client, acme.user.email)
    page = client.get("/login/verify").text
    for _ in range(CLIENT_LIMITED_TRIES):
        submit(client, page, "/login/verify", code="000000")
    spent = client.get("/login/verify").text
    assert "No valid Authentication Code was sent" in spent
    resent = submit(client, spent, "/login/verify/resend")
    assert resent.status_code == 200 and "A new code is on its way." in resent.text


def test_logout_by_link_asks_to_confirm_instead_of_405(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    log_in(client, acme.user.email)
    asked = client.get("/logout")
    assert asked.status_code == 200
    assert re.search(r'<form method="post" action="/logout"', asked.text)
    done = client.post(
        "/logout", data={"csrf_token": csrf_token_in(asked.text)}, follow_redirects=False
    )
    assert done.headers["location"] == "/login"
    assert client.get("/account", follow_redirects=False).status_code in (303, 307)
    assert client.get("/logout", follow_redirects=False).headers["location"] == "/login"


def test_every_enrolment_screen_has_a_way_out(client: TestClient, services: Services) -> None:
    acme = make_tenant(services, "Acme")
    require_2fa(services, acme.organisation.id)
    post_login(client, acme.user.email)
    for path in ("/enrol", "/enrol/totp", "/enrol/email"):
        page = client.get(path).text
        assert re.search(r'action="/logout".*?>Log out</button>', page, re.S), path
    menu = client.get("/enrol").text
    pending = client.cookies.get("sfs_session")
    assert pending
    out = client.post("/logout", data={"csrf_token": csrf_token_in(menu)}, follow_redirects=False)
    assert out.headers["location"] == "/login"
    # The pending login is over on the server too, not only forgotten by the browser.
    client.cookies.set("sfs_session", pending)
    assert client.get("/enrol", follow_redirects=False).headers["location"] == "/login"


def test_enrolment_ends_with_a_confirmation_on_screen(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    enrol_app(client, services, clock, acme)
    home = client.get("/?done=second_factor").text
    assert "Two-factor authentication is set up." in home


def test_opening_the_app_set_up_again_warns_before_replacing_the_backup_key(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    require_2fa(services, acme.organisation.id)
    post_login(client, acme.user.email)
    form = client.get("/enrol/totp").text
    setup = submit(client, form, "/enrol/totp", password=GOOD_PASSWORD).text
    secret, backup_key = secret_on(setup), backup_key_on(setup)

    warning = client.get("/enrol/totp")
    assert "Start again?" in warning.text and "stops working" in warning.text
    # A password form posted without the explicit confirmation changes nothing either.
    blind = submit(client, form, "/enrol/totp", password=GOOD_PASSWORD)
    assert blind.status_code == 409 and 'id="secret-key"' not in blind.text
    resumed = client.get("/enrol/totp/resume").text
    assert secret_on(resumed) == secret and 'id="backup-key"' not in resumed

    confirm = client.get("/enrol/totp", params={"replace": "1"}).text
    assert 'name="replace" value="1"' in confirm
    fresh = submit(client, confirm, "/enrol/totp", password=GOOD_PASSWORD, replace="1").text
    assert secret_on(fresh) != secret and backup_key_on(fresh) != backup_key
    code = totp.code_at_step(secret_on(fresh), totp.time_step(clock.now()))
    assert submit(client, fresh, "/enrol/totp/confirm", code=code).status_code == 303


def test_the_email_methods_backup_key_text_does_not_speak_of_an_app(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    require_2fa(services, acme.organisation.id)
    post_login(client, acme.user.email)
    form = client.get("/enrol/email").text
    page = submit(client, form, "/enrol/email", password=GOOD_PASSWORD).text
    backup = page[page.index('class="backup-key"') : page.index('id="backup-key"')]
    assert "app" not in backup.replace("Authentication", "")
    assert "cannot receive the email" in backup


def test_password_rules_are_shown_before_any_refusal(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    log_in(client, acme.admin.email)
    own = client.get("/account/password").text
    assert 'aria-describedby="password-rules"' in own
    assert "At least 12 and at most 256 characters." in own
    assert "Not your name or email address." in own
    theirs = client.get(f"/accounts/{acme.user.id}/password").text
    assert "Not the user&#39;s name or email address." in theirs
    assert "your name" not in theirs


def test_an_administrator_is_told_of_the_users_name_not_their_own(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    log_in(client, acme.admin.email)
    page = client.get(f"/accounts/{acme.user.id}/password").text
    weak = "umberto-acme-rocks-77"  # the user is Umberto Acme
    refused = submit(
        client,
        page,
        f"/accounts/{acme.user.id}/password",
        new_password=weak,
        confirm_password=weak,
    )
    assert refused.status_code == 422
    assert "must not contain the user&#39;s name" in refused.text
    assert "your name" not in refused.text.split("password-rules")[0]


def test_reset_two_factor_is_offered_only_when_there_is_one(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    log_in(client, acme.admin.email)
    without = client.get(f"/accounts/{acme.user.id}").text
    assert "Reset two-factor authentication" not in without
    form = client.get(f"/accounts/{acme.user.id}/second-factor", follow_redirects=False)
    assert form.headers["location"] == f"/accounts/{acme.user.id}"

    user = actor(services, acme.user)
    setup = services.second_factor.begin_totp(user, client=CLIENT)
    code = totp.code_at_step(setup.secret, totp.time_step(clock.now()))
    services.second_factor.complete_enrolment(user, method="totp", code=code, client=CLIENT)
    with_one = client.get(f"/accounts/{acme.user.id}").text
    assert "Reset two-factor authentication" in with_one
