"""Credentials remembered for a few seconds after a check still end when they must.

In this process, a revocation, a wipe or a disabled account takes effect on the very next
request; committed by another instance of the server (another process on the same database),
within the remembering time (`credential_cache_seconds`, 5 s) at most.
"""

from __future__ import annotations

import pytest
from sqlalchemy import update

from sfs.app import Services
from sfs.domain.errors import AuthenticationFailed, DeviceWiped, NotAuthenticated
from sfs.metadata.models import DeviceToken
from tests.support import FakeClock
from tests.world import CLIENT, Tenant, actor, make_tenant


@pytest.fixture
def acme(services: Services) -> Tenant:
    return make_tenant(services, "Acme")


def webdav_login(services: Services, email: str, secret: str) -> object:
    return services.client_passwords.authenticate(
        email=email, password=secret, client=CLIENT, channel="webdav"
    )


def test_a_revoked_device_token_is_refused_at_once_though_it_was_just_checked(
    services: Services, acme: Tenant
) -> None:
    user = actor(services, acme.user)
    token = services.device_tokens.issue(user, device_name="laptop", client=CLIENT)
    for _ in range(2):  # the second answer comes from what the first check remembered
        assert services.device_tokens.resolve(token.secret, client=CLIENT)[1] == token.id
    services.device_tokens.revoke(user, token.id, client=CLIENT)
    with pytest.raises(NotAuthenticated, match="revoked"):
        services.device_tokens.resolve(token.secret, client=CLIENT)


def test_a_revoked_app_password_is_refused_at_once_though_it_was_just_checked(
    services: Services, acme: Tenant
) -> None:
    user = actor(services, acme.user)
    created = services.app_passwords.create(user, name="Finder", client=CLIENT)
    webdav_login(services, acme.user.email, created.secret)
    webdav_login(services, acme.user.email, created.secret)
    services.app_passwords.revoke(user, created.id, client=CLIENT)
    with pytest.raises(AuthenticationFailed):
        webdav_login(services, acme.user.email, created.secret)


def test_a_disabled_account_and_a_wiped_device_end_at_once(
    services: Services, acme: Tenant
) -> None:
    admin = actor(services, acme.admin)
    laptop = services.device_tokens.issue(
        actor(services, acme.user), device_name="laptop", client=CLIENT
    )
    phone = services.device_tokens.issue(admin, device_name="phone", client=CLIENT)
    services.device_tokens.resolve(laptop.secret, client=CLIENT)
    services.device_tokens.resolve(phone.secret, client=CLIENT)
    services.devices.request_wipe(admin, phone.id, client=CLIENT)
    with pytest.raises(DeviceWiped):
        services.device_tokens.resolve(phone.secret, client=CLIENT)
    services.account_admin.disable(admin, acme.user.id, client=CLIENT)
    with pytest.raises(NotAuthenticated):
        services.device_tokens.resolve(laptop.secret, client=CLIENT)


def test_a_revocation_by_another_instance_takes_effect_here_within_the_remembering_time(
    services: Services, other_instance: Services, acme: Tenant, clock: FakeClock
) -> None:
    user = actor(services, acme.user)
    token = services.device_tokens.issue(user, device_name="laptop", client=CLIENT)
    services.device_tokens.resolve(token.secret, client=CLIENT)
    other_instance.device_tokens.revoke(user, token.id, client=CLIENT)
    # This instance learns of it only through the database: the bound is the remembering time.
    clock.advance(seconds=services.settings.credential_cache_seconds)
    with pytest.raises(NotAuthenticated, match="revoked"):
        services.device_tokens.resolve(token.secret, client=CLIENT)


def test_a_credential_is_checked_again_once_the_remembering_time_is_over(
    services: Services, acme: Tenant, clock: FakeClock
) -> None:
    user = actor(services, acme.user)
    token = services.device_tokens.issue(user, device_name="laptop", client=CLIENT)
    services.device_tokens.resolve(token.secret, client=CLIENT)
    # Revoked behind every service's back (a raw statement on the database's own connection).
    with services.database.engine.begin() as connection:
        connection.execute(
            update(DeviceToken).where(DeviceToken.id == token.id).values(revoked_at=clock.now())
        )
    clock.advance(seconds=services.settings.credential_cache_seconds)
    with pytest.raises(NotAuthenticated):
        services.device_tokens.resolve(token.secret, client=CLIENT)
