"""App passwords: per-device credentials that WebDAV and Nextcloud clients send as Basic auth."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from sfs.app import Services
from sfs.auth.secrets import digest
from sfs.domain.actor import ClientInfo, operator
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import (
    AuthenticationFailed,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    TooManyAttempts,
)
from sfs.metadata.models import AccountToken, AuditEvent, DeviceToken
from sfs.services.identity.app_passwords import canonical_app_password
from sfs.services.identity.password_reset import PURPOSE as RESET_PURPOSE
from tests.integration.test_second_factor import enrol_totp
from tests.support import GOOD_PASSWORD, OTHER_GOOD_PASSWORD, FakeClock
from tests.world import CLIENT, Tenant, actor, make_tenant

SECRET_FORM = re.compile(r"^[a-hj-km-np-z2-9]{5}(-[a-hj-km-np-z2-9]{5}){4}$")


def webdav_login(services: Services, email: str, password: str, client: ClientInfo = CLIENT):  # type: ignore[no-untyped-def]
    return services.client_passwords.authenticate(
        email=email, password=password, client=client, channel="webdav"
    )


def events(services: Services, kind: AuditEventType) -> list[dict[str, object]]:
    with services.database.transaction() as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.event_type == kind.value).order_by(AuditEvent.id)
        ).all()
        return [{"address": row.client_address, **json.loads(row.details)} for row in rows]


def allow_account_passwords(services: Services, acme: Tenant) -> None:
    services.organisations.update_policy(
        actor(services, acme.admin),
        organization_id=acme.organisation.id,
        client=CLIENT,
        allow_account_password_clients=True,
    )


@pytest.fixture
def acme(services: Services) -> Tenant:
    return make_tenant(services, "Acme")


def test_an_app_password_is_shown_once_stored_as_a_digest_and_logs_in(
    services: Services, acme: Tenant, clock: FakeClock
) -> None:
    user = actor(services, acme.user)
    created = services.app_passwords.create(user, name="Work laptop", client=CLIENT)
    assert SECRET_FORM.match(created.secret), created.secret
    with services.database.transaction() as session:
        row = session.get(DeviceToken, created.id)
        assert row is not None and row.kind == "app_password"
        assert created.secret not in row.token_hash
        assert created.secret.replace("-", "") not in row.token_hash

    clock.advance(minutes=3)
    login = webdav_login(services, acme.user.email.upper(), created.secret)
    assert login.actor.user_id == acme.user.id and login.app_password_id == created.id
    # Typed without dashes, in capitals, with spaces: the same app password.
    typed = created.secret.replace("-", " ").upper()
    assert webdav_login(services, acme.user.email, typed).actor.user_id == acme.user.id

    (listed,) = services.app_passwords.devices(user)
    assert (listed.name, listed.kind, listed.last_used_at) == (
        "Work laptop",
        "app_password",
        clock.now(),
    )
    assert events(services, AuditEventType.APP_PASSWORD_CREATED)[0]["device"] == "Work laptop"


def test_the_secret_form_is_recognised_and_nothing_else() -> None:
    assert (
        canonical_app_password("ABCDE fghjk-mnpqr-stuvw xyz23") == "abcde-fghjk-mnpqr-stuvw-xyz23"
    )
    for not_one in ["abcde-fghjk-mnpqr-stuvw", "abcde-fghjk-mnpqr-stuvw-xyz21", GOOD_PASSWORD, ""]:
        assert canonical_app_password(not_one) is None


def test_a_device_name_is_required_and_bounded(services: Services, acme: Tenant) -> None:
    user = actor(services, acme.user)
    for bad in ["", "   ", "x" * 101, "tab\there"]:
        with pytest.raises(InvalidInput):
            services.app_passwords.create(user, name=bad, client=CLIENT)
    assert services.app_passwords.devices(user) == []


def test_an_app_password_works_only_with_its_own_account(services: Services, acme: Tenant) -> None:
    created = services.app_passwords.create(actor(services, acme.user), name="x", client=CLIENT)
    with pytest.raises(AuthenticationFailed):
        webdav_login(services, acme.admin.email, created.secret)
    other = make_tenant(services, "Other")
    with pytest.raises(AuthenticationFailed):
        webdav_login(services, other.user.email, created.secret)
    assert events(services, AuditEventType.LOGIN_FAILED)[-1]["reason"] == "wrong_app_password"


def test_a_revoked_app_password_stops_at_once_and_the_revocation_is_audited(
    services: Services, acme: Tenant
) -> None:
    user = actor(services, acme.user)
    kept = services.app_passwords.create(user, name="phone", client=CLIENT)
    revoked = services.app_passwords.create(user, name="laptop", client=CLIENT)
    services.app_passwords.revoke(user, revoked.id, client=CLIENT)
    with pytest.raises(AuthenticationFailed):
        webdav_login(services, acme.user.email, revoked.secret)
    assert webdav_login(services, acme.user.email, kept.secret).actor.user_id == acme.user.id
    assert [d.name for d in services.app_passwords.devices(user)] == ["phone"]
    assert events(services, AuditEventType.APP_PASSWORD_REVOKED)[0]["device"] == "laptop"
    with pytest.raises(InvalidInput):
        services.app_passwords.revoke(user, revoked.id, client=CLIENT)
    with pytest.raises(NotFound):  # someone else's device is not found, not refused
        services.app_passwords.revoke(actor(services, acme.admin), kept.id, client=CLIENT)


def test_the_devices_list_holds_sync_clients_too_and_revokes_them(
    services: Services, acme: Tenant, clock: FakeClock
) -> None:
    user = actor(services, acme.user)
    token = services.device_tokens.issue(user, device_name="sfs sync", client=CLIENT)
    clock.advance(seconds=1)
    services.app_passwords.create(user, name="Finder", client=CLIENT)
    assert [(d.name, d.kind) for d in services.app_passwords.devices(user)] == [
        ("sfs sync", "sync"),
        ("Finder", "app_password"),
    ]
    services.app_passwords.revoke(user, token.id, client=CLIENT)
    with pytest.raises(NotAuthenticated):
        services.device_tokens.resolve(token.secret)


def test_a_use_from_a_new_address_is_audited_once_per_change(
    services: Services, acme: Tenant
) -> None:
    created = services.app_passwords.create(actor(services, acme.user), name="x", client=CLIENT)
    webdav_login(services, acme.user.email, created.secret)  # where it was made: nothing new
    elsewhere = ClientInfo(address="198.51.100.23", user_agent="rclone")
    webdav_login(services, acme.user.email, created.secret, elsewhere)
    webdav_login(services, acme.user.email, created.secret, elsewhere)
    webdav_login(services, acme.user.email, created.secret)
    used = events(services, AuditEventType.APP_PASSWORD_USED_FROM_NEW_ADDRESS)
    assert [e["address"] for e in used] == ["198.51.100.23", CLIENT.address]


def test_the_account_password_is_refused_unless_the_organisation_allows_it(
    services: Services, acme: Tenant
) -> None:
    with pytest.raises(AuthenticationFailed, match="app password"):
        webdav_login(services, acme.user.email, GOOD_PASSWORD)
    assert events(services, AuditEventType.LOGIN_FAILED)[-1] == {
        "address": CLIENT.address,
        "channel": "webdav",
        "reason": "account_password_not_allowed",
    }
    allow_account_passwords(services, acme)
    assert webdav_login(services, acme.user.email, GOOD_PASSWORD).app_password_id is None
    with pytest.raises(AuthenticationFailed):
        webdav_login(services, acme.user.email, OTHER_GOOD_PASSWORD)
    changed = events(services, AuditEventType.ORGANISATION_POLICY_CHANGED)
    assert changed[-1]["setting"] == "allow_account_password_clients"


def test_an_account_with_a_second_factor_never_uses_its_account_password(
    services: Services, acme: Tenant, clock: FakeClock
) -> None:
    allow_account_passwords(services, acme)
    user = actor(services, acme.user)
    enrol_totp(services, user, clock)
    with pytest.raises(AuthenticationFailed):
        webdav_login(services, acme.user.email, GOOD_PASSWORD)
    created = services.app_passwords.create(user, name="phone", client=CLIENT)
    assert webdav_login(services, acme.user.email, created.secret).actor.user_id == user.user_id


def test_failed_basic_logins_are_throttled_like_logins(services: Services, acme: Tenant) -> None:
    created = services.app_passwords.create(actor(services, acme.user), name="x", client=CLIENT)
    for _ in range(10):
        with pytest.raises(AuthenticationFailed):
            webdav_login(services, acme.user.email, "wrong-but-long-password")
    with pytest.raises(TooManyAttempts):
        webdav_login(services, acme.user.email, created.secret)
    # The portal's login is throttled by the same count.
    with pytest.raises(TooManyAttempts):
        services.login.authenticate(
            email=acme.user.email, password=GOOD_PASSWORD, client=CLIENT, channel="web"
        )


def test_an_unknown_account_fails_the_same_way(services: Services) -> None:
    with pytest.raises(AuthenticationFailed) as failure:
        webdav_login(services, "nobody@example.com", "abcde-fghjk-mnpqr-stuvw-xyz23")
    assert "app password" in failure.value.message
    assert events(services, AuditEventType.LOGIN_FAILED)[-1]["reason"] == "unknown_account"


@pytest.mark.parametrize("ending", ["disabled", "admin_password", "second_factor_reset"])
def test_what_ends_a_device_ends_its_app_passwords(
    services: Services, acme: Tenant, clock: FakeClock, ending: str
) -> None:
    user = actor(services, acme.user)
    admin = actor(services, acme.admin)
    if ending == "second_factor_reset":
        enrol_totp(services, user, clock)
    created = services.app_passwords.create(user, name="x", client=CLIENT)
    webdav_login(services, acme.user.email, created.secret)
    if ending == "disabled":
        services.account_admin.disable(admin, acme.user.id, client=CLIENT)
    elif ending == "admin_password":
        services.account_admin.change_password(
            admin,
            acme.user.id,
            new_password=OTHER_GOOD_PASSWORD,
            confirm_password=OTHER_GOOD_PASSWORD,
            require_change_at_next_login=False,
            client=CLIENT,
        )
    else:
        services.account_admin.reset_second_factor(admin, acme.user.id, client=CLIENT)
    with pytest.raises((AuthenticationFailed, NotAuthenticated)):
        webdav_login(services, acme.user.email, created.secret)
    assert services.app_passwords.devices(user) == []


def test_a_password_reset_by_email_ends_app_passwords(
    services: Services, acme: Tenant, clock: FakeClock
) -> None:
    created = services.app_passwords.create(actor(services, acme.user), name="x", client=CLIENT)
    link = "reset-link-secret-for-this-test"
    with services.database.transaction() as session:  # the link the reset mail would carry
        session.add(
            AccountToken(
                id=uuid.uuid4(),
                user_id=acme.user.id,
                organization_id=acme.organisation.id,
                purpose=RESET_PURPOSE,
                token_hash=digest(link),
                created_at=clock.now(),
                expires_at=clock.now() + timedelta(minutes=30),
            )
        )
    services.password_reset.complete(
        link,
        new_password=OTHER_GOOD_PASSWORD,
        confirmation=OTHER_GOOD_PASSWORD,
        backup_key="",
        client=CLIENT,
    )
    with pytest.raises(AuthenticationFailed):
        webdav_login(services, acme.user.email, created.secret)


def test_provider_admins_have_no_app_passwords(services: Services) -> None:
    with pytest.raises(InvalidInput):
        services.app_passwords.create(operator(), name="x", client=CLIENT)
