"""The manual's two-factor screens, over HTTP: enforced enrolment, challenges, backup key, reset."""

import re

from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.auth import totp
from sfs.domain.actor import operator
from tests.integration.test_second_factor import last_mailed_code, require_2fa
from tests.support import GOOD_PASSWORD, OTHER_GOOD_PASSWORD, FakeClock, csrf_token_in, read_outbox
from tests.world import Tenant, make_tenant


def post_login(client: TestClient, email: str, password: str = GOOD_PASSWORD):  # type: ignore[no-untyped-def]
    token = csrf_token_in(client.get("/login").text)
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


def submit(client: TestClient, page_html: str, action: str, **fields: str):  # type: ignore[no-untyped-def]
    return client.post(
        action, data={"csrf_token": csrf_token_in(page_html), **fields}, follow_redirects=False
    )


def secret_on(page_html: str) -> str:
    match = re.search(r'<code class="key" id="secret-key">([A-Z2-7 ]+)</code>', page_html)
    assert match, "no Secret Key on the page"
    return match.group(1).replace(" ", "")


def backup_key_on(page_html: str) -> str:
    match = re.search(r'<code class="key" id="backup-key">([A-Z2-7-]+)</code>', page_html)
    assert match, "no Backup Key on the page"
    return match.group(1)


def enrol_app(
    client: TestClient, services: Services, clock: FakeClock, tenant: Tenant
) -> tuple[str, str]:
    """Under the 2FA policy, log the user in and enrol the app; returns (secret, backup key)."""
    require_2fa(services, tenant.organisation.id)
    assert post_login(client, tenant.user.email).headers["location"] == "/enrol"
    form = client.get("/enrol/totp").text
    setup = submit(client, form, "/enrol/totp", password=GOOD_PASSWORD).text
    secret = secret_on(setup)
    code = totp.code_at_step(secret, totp.time_step(clock.now()))
    done = submit(client, setup, "/enrol/totp/confirm", code=code)
    assert done.headers["location"] == "/?done=second_factor"
    return secret, backup_key_on(setup)


def test_the_policy_forces_enrolment_and_shows_the_manuals_menu(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    require_2fa(services, acme.organisation.id)
    answer = post_login(client, acme.user.email)
    assert answer.status_code == 303 and answer.headers["location"] == "/enrol"
    menu = client.get("/enrol").text
    assert "administrator requires two-factor authentication" in menu
    labels = re.findall(r'class="method"[^>]*>([^<]+)<', menu)
    assert labels == ["Authenticator mobile app", "Email", "Text message"]
    assert re.search(r"<button[^>]*disabled[^>]*>Text message</button>", menu)
    assert "Text message is not supported in Europe" in menu
    assert "Duo Mobile" in menu


def test_a_pending_login_can_do_nothing_but_enrol(client: TestClient, services: Services) -> None:
    acme = make_tenant(services, "Acme")
    require_2fa(services, acme.organisation.id)
    post_login(client, acme.user.email)
    for page in ("/", "/account", "/files"):
        assert client.get(page).url.path == "/enrol", page
    assert 'class="account-name"' not in client.get("/enrol").text


def test_a_pending_login_expires_after_thirty_minutes(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    require_2fa(services, acme.organisation.id)
    post_login(client, acme.user.email)
    clock.advance(minutes=29)
    assert client.get("/enrol").url.path == "/enrol"
    clock.advance(minutes=2)
    assert client.get("/enrol").url.path == "/login"


def test_enrolling_the_authenticator_app_as_the_manual_describes(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    require_2fa(services, acme.organisation.id)
    post_login(client, acme.user.email)
    pending_cookie = client.cookies["sfs_session"]
    form = client.get("/enrol/totp").text
    assert '<label for="password">Password</label>' in form and ">Submit</button>" in form
    wrong = submit(client, form, "/enrol/totp", password="not-my-password")
    assert wrong.status_code == 401 and "The password is not right." in wrong.text
    setup = submit(client, form, "/enrol/totp", password=GOOD_PASSWORD).text
    assert "Backup Key" in setup and "should activating the app fail" in setup
    assert '<img class="qr" src="data:image/svg+xml' in setup
    assert "Secret Key" in setup and "Authentication Code" in setup
    secret = secret_on(setup)
    bad = submit(client, setup, "/enrol/totp/confirm", code="000000")
    assert bad.status_code == 422 and "Wrong code" in bad.text
    assert secret_on(bad.text) == secret  # shown again to retry
    assert 'id="backup-key"' not in bad.text  # but the Backup Key only once
    code = totp.code_at_step(secret, totp.time_step(clock.now()))
    done = submit(client, setup, "/enrol/totp/confirm", code=code)
    assert done.headers["location"] == "/?done=second_factor"
    assert client.cookies["sfs_session"] != pending_cookie
    assert 'class="account-name"' in client.get("/").text


def test_enrolling_by_email_with_a_resend(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    require_2fa(services, acme.organisation.id)
    post_login(client, acme.user.email)
    form = client.get("/enrol/email").text
    page = submit(client, form, "/enrol/email", password=GOOD_PASSWORD).text
    assert "Backup Key" in page and "Re-send Authentication Code" in page
    first = last_mailed_code(services)
    too_soon = submit(client, page, "/enrol/email/resend")
    assert too_soon.status_code == 429
    assert "is still valid until" in too_soon.text and "can be sent in 1 minute." in too_soon.text
    clock.advance(minutes=11)
    expired = submit(client, page, "/enrol/email/confirm", code=first)
    assert "no longer valid" in expired.text and "Re-send Authentication Code" in expired.text
    resent = submit(client, page, "/enrol/email/resend")
    assert "A new code is on its way." in resent.text
    done = submit(client, page, "/enrol/email/confirm", code=last_mailed_code(services))
    assert done.headers["location"] == "/?done=second_factor"


def test_later_logins_ask_for_the_code(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    secret, _ = enrol_app(client, services, clock, acme)
    client.cookies.clear()
    clock.advance(minutes=1)
    assert post_login(client, acme.user.email).headers["location"] == "/login/verify"
    challenge = client.get("/login/verify").text
    assert "Authentication Code" in challenge and "Use your Backup Key" in challenge
    assert client.get("/").url.path == "/login"
    wrong = submit(client, challenge, "/login/verify", code="000000")
    assert wrong.status_code == 401 and "Wrong code" in wrong.text
    code = totp.code_at_step(secret, totp.time_step(clock.now()))
    assert submit(client, challenge, "/login/verify", code=code).headers["location"] == "/"
    assert 'class="account-name"' in client.get("/").text


def test_the_backup_key_logs_in_and_sends_the_user_through_enrolment_again(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    _, backup_key = enrol_app(client, services, clock, acme)
    client.cookies.clear()
    post_login(client, acme.user.email)
    form = client.get("/login/backup-key").text
    wrong = submit(client, form, "/login/backup-key", backup_key="AAAA-BBBB")
    assert "This Backup Key is not right." in wrong.text
    used = submit(client, form, "/login/backup-key", backup_key=backup_key)
    assert used.headers["location"] == "/enrol?backup_key_used=1"
    menu = client.get("/enrol?backup_key_used=1").text
    assert "Your Backup Key has been used" in menu
    assert client.get("/").url.path == "/enrol"  # not in until a new factor is set up
    assert read_outbox(services.settings.outbox_dir)[-1]["Subject"] == "Your Backup Key was used"


def test_forgot_password_without_a_second_factor(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    login_page = client.get("/login").text
    assert '<a href="/password/forgot">Forgot password?</a>' in login_page
    form = client.get("/password/forgot").text
    sent = submit(client, form, "/password/forgot", email=acme.user.email.upper())
    assert "If an account with this email address exists" in sent.text
    unknown = submit(client, form, "/password/forgot", email="nobody@acme.example.com")
    assert unknown.text.count("If an account with this email address exists") == 1
    services.notifier.background.flush()  # the link is mailed off the request path
    messages = read_outbox(services.settings.outbox_dir)
    assert [m["To"] for m in messages] == [acme.user.email]
    link = re.search(r"http://\S+/password/reset/(\S+)", messages[0].get_content())
    assert link
    path = f"/password/reset/{link.group(1)}"
    page = client.get(path).text
    assert "New password" in page and "Confirm new password" in page and "Backup Key" not in page
    mismatch = submit(client, page, path, new_password=OTHER_GOOD_PASSWORD, confirm_password="x")
    assert "The two passwords are not the same." in mismatch.text
    weak = submit(client, page, path, new_password="password1234", confirm_password="password1234")
    assert "too easy to guess" in weak.text
    done = submit(
        client, page, path, new_password=OTHER_GOOD_PASSWORD, confirm_password=OTHER_GOOD_PASSWORD
    )
    assert done.status_code == 200 and "Password changed" in done.text
    assert client.get(path).status_code == 410  # single use
    assert post_login(client, acme.user.email).status_code == 401
    assert post_login(client, acme.user.email, OTHER_GOOD_PASSWORD).status_code == 303


def test_a_reset_link_expires_after_thirty_minutes(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    form = client.get("/password/forgot").text
    submit(client, form, "/password/forgot", email=acme.user.email)
    services.notifier.background.flush()
    link = re.search(
        r"/password/reset/(\S+)", read_outbox(services.settings.outbox_dir)[0].get_content()
    )
    assert link
    clock.advance(minutes=31)
    expired = client.get(f"/password/reset/{link.group(1)}")
    assert expired.status_code == 410 and "no longer valid" in expired.text


def test_forgot_password_with_a_second_factor_needs_the_backup_key(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    _, backup_key = enrol_app(client, services, clock, acme)
    client.cookies.clear()
    form = client.get("/password/forgot").text
    submit(client, form, "/password/forgot", email=acme.user.email)
    services.notifier.background.flush()
    message = read_outbox(services.settings.outbox_dir)[-1]
    assert "Backup Key" in message.get_content()
    link = re.search(r"/password/reset/(\S+)", message.get_content())
    assert link
    path = f"/password/reset/{link.group(1)}"
    page = client.get(path).text
    assert '<label for="backup_key">Backup Key</label>' in page
    wrong = submit(
        client,
        page,
        path,
        new_password=OTHER_GOOD_PASSWORD,
        confirm_password=OTHER_GOOD_PASSWORD,
        backup_key="AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH",
    )
    assert wrong.status_code == 401 and "ask your organisation's administrator" in wrong.text
    assert post_login(client, acme.user.email).headers["location"] == "/login/verify"
    client.cookies.clear()
    page = client.get(path).text
    done = submit(
        client,
        page,
        path,
        new_password=OTHER_GOOD_PASSWORD,
        confirm_password=OTHER_GOOD_PASSWORD,
        backup_key=backup_key,
    )
    assert "Password changed" in done.text
    # The key is spent with the old factor: the next login enrols again.
    assert post_login(client, acme.user.email, OTHER_GOOD_PASSWORD).headers["location"] == "/enrol"
    kinds = [e.event_type for e in services.audit.recent(operator())]
    assert "password_reset.completed" in kinds and "second_factor.backup_key_used" in kinds


def test_a_user_may_set_up_a_second_factor_without_being_required_to(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    assert post_login(client, acme.user.email).headers["location"] == "/"
    assert '<a href="/enrol">Set up two-factor authentication</a>' in client.get("/account").text
    menu = client.get("/enrol").text
    assert "administrator requires" not in menu
    form = client.get("/enrol/totp").text
    setup = submit(client, form, "/enrol/totp", password=GOOD_PASSWORD).text
    code = totp.code_at_step(secret_on(setup), totp.time_step(clock.now()))
    done = submit(client, setup, "/enrol/totp/confirm", code=code)
    assert done.headers["location"] == "/account?done=second_factor"
    assert "Set up two-factor authentication" not in client.get("/account").text
    assert client.get("/enrol").url.path != "/enrol"  # already enrolled: nothing to set up
