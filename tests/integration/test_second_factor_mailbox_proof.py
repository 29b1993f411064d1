"""After a reset or a spent Backup Key, the password alone does not enrol a new authenticator:
an emailed code first proves that the account's owner reads its mail."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.auth import totp
from sfs.domain.errors import InvalidInput, PermissionDenied
from tests.integration.test_second_factor import enrol_totp, last_mailed_code
from tests.integration.test_second_factor_portal import (
    backup_key_on,
    enrol_app,
    post_login,
    secret_on,
    submit,
)
from tests.support import GOOD_PASSWORD, FakeClock, read_outbox
from tests.world import CLIENT, actor, make_tenant

MAILBOX_STEP = "Before you set up the authenticator app, enter the Authentication Code"


def enrol_again_through_the_mailbox(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    """From the method menu: password, then the emailed code, then the app's code."""
    form = client.get("/enrol/totp").text
    mailed_before = len(read_outbox(services.settings.outbox_dir))
    step = submit(client, form, "/enrol/totp", password=GOOD_PASSWORD)
    assert step.status_code == 200 and MAILBOX_STEP in step.text
    assert 'id="secret-key"' not in step.text and 'id="backup-key"' not in step.text
    assert len(read_outbox(services.settings.outbox_dir)) == mailed_before + 1
    assert "Re-send Authentication Code" in step.text
    wrong = submit(client, step.text, "/enrol/totp/mailbox", code="000000")
    assert wrong.status_code == 401 and "Wrong code" in wrong.text
    assert 'id="secret-key"' not in wrong.text
    setup = submit(client, step.text, "/enrol/totp/mailbox", code=last_mailed_code(services))
    assert setup.status_code == 200 and 'id="secret-key"' in setup.text
    assert backup_key_on(setup.text)
    code = totp.code_at_step(secret_on(setup.text), totp.time_step(clock.now()))
    done = submit(client, setup.text, "/enrol/totp/confirm", code=code)
    assert done.status_code == 303 and done.headers["location"] == "/?done=second_factor"


def test_after_a_reset_the_new_authenticator_needs_the_emailed_code(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    enrol_app(client, services, clock, acme)
    services.account_admin.reset_second_factor(
        actor(services, acme.admin), acme.user.id, client=CLIENT
    )
    client.cookies.clear()
    assert post_login(client, acme.user.email).headers["location"] == "/enrol"
    enrol_again_through_the_mailbox(client, services, clock)
    assert client.get("/files", follow_redirects=False).status_code == 200
    assert not services.second_factor.mailbox_proof_due(actor(services, acme.user))


def test_after_a_spent_backup_key_the_new_authenticator_needs_the_emailed_code(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    _, backup_key = enrol_app(client, services, clock, acme)
    client.cookies.clear()
    post_login(client, acme.user.email)
    form = client.get("/login/backup-key").text
    used = submit(client, form, "/login/backup-key", backup_key=backup_key)
    assert used.headers["location"] == "/enrol?backup_key_used=1"
    enrol_again_through_the_mailbox(client, services, clock)


def test_the_mailbox_step_cannot_be_skipped_or_misused(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    user = actor(services, acme.user)
    enrol_totp(services, user, clock)
    services.account_admin.reset_second_factor(
        actor(services, acme.admin), acme.user.id, client=CLIENT
    )
    with pytest.raises(PermissionDenied, match="First enter the code we emailed you"):
        services.second_factor.begin_totp(user, client=CLIENT)
    # Nothing left to prove on an account that was never reset: not a way past the password.
    fresh = actor(services, acme.admin)
    with pytest.raises(InvalidInput):
        services.second_factor.prove_mailbox(fresh, code="123456", client=CLIENT)
    post_login(client, acme.admin.email)
    page = client.get("/enrol/totp").text
    skipped = submit(client, page, "/enrol/totp/mailbox", code="123456")
    assert skipped.status_code == 303 and skipped.headers["location"] == "/enrol/totp"


def test_enrolling_email_after_a_reset_is_proof_enough(
    services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    user = actor(services, acme.user)
    enrol_totp(services, user, clock)
    services.account_admin.reset_second_factor(
        actor(services, acme.admin), acme.user.id, client=CLIENT
    )
    services.second_factor.begin_email(user, client=CLIENT)
    services.second_factor.complete_enrolment(
        user, method="email", code=last_mailed_code(services), client=CLIENT
    )
    assert services.second_factor.enrolled_method(user) == "email"
    assert not services.second_factor.mailbox_proof_due(user)
