"""Second-factor policy reaches what is already signed in; device tokens expire when idle.

Turning on "require two-factor" sends signed-in browsers of members without a factor to
enrolment and revokes their devices; an administrator's reset revokes the user's devices; a
device token unused for the idle period (90 days) stops working.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.cli.exit_codes import EXIT_DENIED
from sfs.cli.files import _explain
from sfs.client.api import ApiClient, ApiError
from sfs.config import ConfigError, load_settings
from sfs.domain.actor import Actor, operator
from sfs.domain.errors import NotAuthenticated
from sfs.services.audit import AuditFilter
from sfs.services.identity.device_tokens import DeviceTokenService
from tests.integration.test_second_factor import enrol_totp
from tests.signed_in import log_in
from tests.support import FakeClock
from tests.world import CLIENT, Tenant, actor, make_tenant


def require_two_factor_by_setting(services: Services, tenant: Tenant) -> None:
    services.organisations.set_second_factor_requirement(
        actor(services, tenant.admin),
        organization_id=tenant.organisation.id,
        required=True,
        client=CLIENT,
    )


def require_two_factor_by_policy(services: Services, tenant: Tenant) -> None:
    services.organisations.update_policy(
        actor(services, tenant.admin),
        organization_id=tenant.organisation.id,
        client=CLIENT,
        require_second_factor=True,
    )


REQUIRE_WAYS = [require_two_factor_by_setting, require_two_factor_by_policy]


def revocations(services: Services) -> list[dict[str, object]]:
    events = services.audit.search(
        operator(), where=AuditFilter(event_type="device_token.revoked")
    ).entries
    return [{"target": e.target_email, **e.details} for e in events]


def issue(services: Services, who: Actor, name: str = "laptop") -> str:
    return services.device_tokens.issue(who, device_name=name, client=CLIENT).secret


@pytest.mark.parametrize("require", REQUIRE_WAYS)
def test_requiring_two_factor_revokes_the_devices_of_members_without_one(
    services: Services, clock: FakeClock, require: Callable[[Services, Tenant], None]
) -> None:
    acme, globex = make_tenant(services, "Acme"), make_tenant(services, "Globex")
    user, admin = actor(services, acme.user), actor(services, acme.admin)
    enrol_totp(services, admin, clock)
    unprotected = issue(services, user)
    protected = issue(services, admin)
    elsewhere = issue(services, actor(services, globex.user))
    require(services, acme)
    with pytest.raises(NotAuthenticated, match="revoked"):
        services.device_tokens.resolve(unprotected)
    assert services.device_tokens.resolve(protected)[0].user_id == acme.admin.id
    assert services.device_tokens.resolve(elsewhere)[0].user_id == globex.user.id
    recorded = revocations(services)
    assert [(r["target"], r["reason"], r["device"]) for r in recorded] == [
        (acme.user.email, "second_factor_required", "laptop")
    ]


def test_requiring_two_factor_again_changes_nothing_more(
    services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    require_two_factor_by_setting(services, acme)
    enrol_totp(services, actor(services, acme.user), clock)
    token = issue(services, actor(services, acme.user))
    require_two_factor_by_policy(services, acme)  # already required: not a change
    assert services.device_tokens.resolve(token)[0].user_id == acme.user.id


def test_requiring_two_factor_sends_signed_in_browsers_without_one_to_enrolment(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    log_in(client, acme.user.email)
    assert client.get("/files", follow_redirects=False).status_code == 200
    require_two_factor_by_policy(services, acme)
    for page in ("/", "/files", "/account", "/account/password"):
        answer = client.get(page, follow_redirects=False)
        assert answer.status_code == 303, page
        assert answer.headers["location"] == "/enrol", page
    menu = client.get("/enrol")
    assert menu.status_code == 200
    assert "administrator requires two-factor authentication" in menu.text
    assert 'class="account-name"' not in menu.text  # no menus until a factor is set up


def test_a_reset_revokes_the_users_devices_and_says_so_in_the_audit_log(
    services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    user = actor(services, acme.user)
    enrol_totp(services, user, clock)
    laptop, phone = issue(services, user, "laptop"), issue(services, user, "phone")
    other = issue(services, actor(services, acme.admin))
    services.account_admin.reset_second_factor(
        actor(services, acme.admin), acme.user.id, client=CLIENT
    )
    for secret in (laptop, phone):
        with pytest.raises(NotAuthenticated):
            services.device_tokens.resolve(secret)
    assert services.device_tokens.resolve(other)[0].user_id == acme.admin.id
    recorded = revocations(services)
    assert sorted((r["device"], r["reason"]) for r in recorded) == [
        ("laptop", "second_factor_reset"),
        ("phone", "second_factor_reset"),
    ]
    assert {r["target"] for r in recorded} == {acme.user.email}


def test_a_device_token_expires_after_ninety_idle_days(
    services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    user = actor(services, acme.user)
    used, unused = issue(services, user, "used"), issue(services, user, "unused")
    for _ in range(3):  # each use starts the idle period again
        clock.advance(days=89)
        assert services.device_tokens.resolve(used)[0].user_id == acme.user.id
    assert [d.name for d in services.device_tokens.list_own(user)] == ["used"]
    with pytest.raises(NotAuthenticated, match="not been used for 90 days; log in again"):
        services.device_tokens.resolve(unused)  # never used: counted from its issue
    clock.advance(days=90, minutes=1)
    with pytest.raises(NotAuthenticated, match="not been used for 90 days; log in again"):
        services.device_tokens.resolve(used)
    with pytest.raises(NotAuthenticated, match="not been used for 90 days"):
        services.device_tokens.resolve(used)  # and says so again, not "revoked"
    assert services.device_tokens.list_own(user) == []
    assert services.my_account.overview(user).devices == []
    expired = services.audit.search(
        actor(services, acme.admin), where=AuditFilter(event_type="device_token.expired")
    ).entries
    assert sorted(e.details["device"] for e in expired) == ["unused", "used"]


def test_an_idle_token_gets_401_and_the_client_says_log_in_again(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    secret = issue(services, actor(services, acme.user))
    clock.advance(days=91)
    answer = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 401
    assert answer.json() == {
        "code": "not_authenticated",
        "message": "This device has not been used for 90 days; log in again.",
    }
    url = str(client.base_url)
    with (
        ApiClient(url, token=secret, transport=client._transport) as api,
        pytest.raises(ApiError) as refused,
    ):
        api.me()
    message, code = _explain(refused.value, url)
    assert code == EXIT_DENIED and "log in again" in message


def test_the_idle_period_is_a_setting(services: Services, clock: FakeClock) -> None:
    assert load_settings().device_token_idle_days == 90
    assert load_settings(device_token_idle_days=7).device_token_idle_days == 7
    with pytest.raises(ConfigError, match="SFS_DEVICE_TOKEN_IDLE_DAYS"):
        load_settings(device_token_idle_days=0)
    weekly = DeviceTokenService(
        services.database, services.audit, clock, services.randomness, idle_days=7
    )
    acme = make_tenant(services, "Acme")
    secret = weekly.issue(actor(services, acme.user), device_name="x", client=CLIENT).secret
    clock.advance(days=7)
    weekly.resolve(secret)
    clock.advance(days=7, seconds=1)
    with pytest.raises(NotAuthenticated, match="not been used for 7 days"):
        weekly.resolve(secret)
