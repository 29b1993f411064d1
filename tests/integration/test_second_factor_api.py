"""Logging in over the REST API when the account has (or needs) a second factor."""

from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.auth import totp
from tests.integration.test_second_factor import enrol_totp, last_mailed_code, require_2fa
from tests.support import GOOD_PASSWORD, FakeClock
from tests.world import CLIENT, actor, make_tenant


def password_step(client: TestClient, email: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/auth/login", json={"email": email, "password": GOOD_PASSWORD, "device_name": "cli"}
    )


def test_an_enrolled_account_gets_a_challenge_then_a_token(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    secret, _ = enrol_totp(services, actor(services, acme.user), clock)
    clock.advance(seconds=30)
    first = password_step(client, acme.user.email)
    assert first.status_code == 200
    body = first.json()
    assert body["token"] is None and body["second_factor"]["method"] == "totp"
    challenge = body["second_factor"]["challenge"]
    # The challenge is no bearer token.
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {challenge}"}).status_code
        == 401
    )
    wrong = client.post(
        "/api/v1/auth/login/second-factor", json={"challenge": challenge, "code": "000000"}
    )
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_code"
    code = totp.code_at_step(secret, totp.time_step(clock.now()))
    answer = client.post(
        "/api/v1/auth/login/second-factor", json={"challenge": challenge, "code": code}
    )
    assert answer.status_code == 200, answer.text
    token = answer.json()["token"]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    again = client.post(
        "/api/v1/auth/login/second-factor", json={"challenge": challenge, "code": code}
    )
    assert again.status_code == 401  # a challenge is answered once


def test_an_email_challenge_mails_a_code_and_can_resend(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    user = actor(services, acme.user)
    services.second_factor.begin_email(user, client=CLIENT)
    services.second_factor.complete_enrolment(
        user, method="email", code=last_mailed_code(services), client=CLIENT
    )
    clock.advance(minutes=2)
    challenge = password_step(client, acme.user.email).json()["second_factor"]
    assert challenge["method"] == "email"
    sent = clock.now().strftime("%H:%M")
    # What a client shows the person: the truth about the code, from the stored code.
    assert challenge["message"].startswith(f"The last code was sent to your email at {sent} UTC.")
    too_soon = client.post(
        "/api/v1/auth/login/second-factor/resend", json={"challenge": challenge["challenge"]}
    )
    assert too_soon.status_code == 429 and "retry-after" in too_soon.headers
    assert f"sent at {sent} UTC, is still valid until" in too_soon.json()["message"]
    clock.advance(minutes=1)
    resent = client.post(
        "/api/v1/auth/login/second-factor/resend", json={"challenge": challenge["challenge"]}
    )
    assert resent.status_code == 204
    answer = client.post(
        "/api/v1/auth/login/second-factor",
        json={"challenge": challenge["challenge"], "code": last_mailed_code(services)},
    )
    assert answer.status_code == 200 and answer.json()["token"]


def test_an_account_that_must_enrol_is_sent_to_the_portal(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    require_2fa(services, acme.organisation.id)
    answer = password_step(client, acme.user.email)
    assert answer.status_code == 403
    assert answer.json()["code"] == "second_factor_enrolment_required"
    assert "web portal" in answer.json()["message"]


def test_a_forged_or_expired_challenge_is_refused(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    enrol_totp(services, actor(services, acme.user), clock)
    challenge = password_step(client, acme.user.email).json()["second_factor"]["challenge"]
    forged = client.post(
        "/api/v1/auth/login/second-factor", json={"challenge": "x" * 43, "code": "123456"}
    )
    assert forged.status_code == 401 and forged.json()["code"] == "not_authenticated"
    clock.advance(minutes=31)
    expired = client.post(
        "/api/v1/auth/login/second-factor", json={"challenge": challenge, "code": "123456"}
    )
    assert expired.status_code == 401
