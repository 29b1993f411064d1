"""Organisation settings: the policy an Organization Admin sets, validated and audited."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.domain.actor import operator
from sfs.domain.errors import InvalidInput, NotFound, PermissionDenied
from sfs.services.audit import AuditFilter
from tests.integration.test_second_factor import enrol_totp
from tests.signed_in import log_in, make_provider_admin, page_csrf_token
from tests.support import FakeClock
from tests.world import CLIENT, actor, make_tenant


def test_an_admin_changes_every_setting_and_each_change_is_audited_with_old_and_new(
    services: Services,
) -> None:
    acme = make_tenant(services, "Acme")
    admin = actor(services, acme.admin)
    changed = services.organisations.update_policy(
        admin,
        organization_id=acme.organisation.id,
        client=CLIENT,
        require_second_factor=True,
        allowed_second_factors=["email", "totp"],
        min_password_length=16,
        session_idle_minutes=20,
        session_absolute_minutes=480,
    )
    assert changed.require_second_factor is True
    assert changed.min_password_length == 16
    assert (changed.session_idle_minutes, changed.session_absolute_minutes) == (20, 480)
    assert services.organisations.get(admin, acme.organisation.id) == changed
    events = services.audit.search(
        admin, where=AuditFilter(event_type="organisation.policy_changed")
    ).entries
    recorded = {entry.details["setting"]: entry.details for entry in events}
    # allowed methods did not change (same set), so four events, not five
    assert set(recorded) == {
        "require_second_factor",
        "min_password_length",
        "session_idle_minutes",
        "session_absolute_minutes",
    }
    assert recorded["min_password_length"]["old"] == 12
    assert recorded["min_password_length"]["new"] == 16
    assert recorded["session_absolute_minutes"] == {
        "setting": "session_absolute_minutes",
        "old": 720,
        "new": 480,
    }
    assert all(entry.actor_email == acme.admin.email for entry in events)


def test_narrowing_the_allowed_methods_is_stored_and_audited(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    admin = actor(services, acme.admin)
    changed = services.organisations.update_policy(
        admin, organization_id=acme.organisation.id, client=CLIENT, allowed_second_factors=["totp"]
    )
    assert changed.allowed_second_factors == ("totp",)
    assert services.organisations.get(admin, acme.organisation.id).allowed_second_factors == (
        "totp",
    )
    (event,) = services.audit.search(
        admin, where=AuditFilter(event_type="organisation.policy_changed")
    ).entries
    assert event.details == {
        "setting": "allowed_second_factors",
        "old": ["totp", "email"],
        "new": ["totp"],
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"allowed_second_factors": []}, "allowed_second_factors"),
        ({"allowed_second_factors": ["sms"]}, "allowed_second_factors"),
        ({"min_password_length": 11}, "min_password_length"),
        ({"min_password_length": 257}, "min_password_length"),
        ({"session_idle_minutes": 4}, "session_idle_minutes"),
        ({"session_idle_minutes": 24 * 60 + 1}, "session_idle_minutes"),
        ({"session_absolute_minutes": 14}, "session_absolute_minutes"),
        ({"session_absolute_minutes": 30 * 24 * 60 + 1}, "session_absolute_minutes"),
        ({"session_idle_minutes": 120, "session_absolute_minutes": 60}, "session_idle_minutes"),
        # a valid change together with an invalid one: nothing at all is stored
        ({"require_second_factor": True, "min_password_length": 8}, "min_password_length"),
    ],
)
def test_a_bad_value_is_refused_by_field_and_changes_nothing(
    services: Services, change: dict[str, object], field: str
) -> None:
    acme = make_tenant(services, "Acme")
    admin = actor(services, acme.admin)
    with pytest.raises(InvalidInput) as refused:
        services.organisations.update_policy(
            admin,
            organization_id=acme.organisation.id,
            client=CLIENT,
            **change,  # type: ignore[arg-type]
        )
    assert refused.value.field == field
    assert services.organisations.get(admin, acme.organisation.id) == acme.organisation
    assert not services.audit.search(
        admin, where=AuditFilter(event_type="organisation.policy_changed")
    ).entries


def test_the_idle_timeout_may_equal_the_absolute_timeout(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    changed = services.organisations.update_policy(
        actor(services, acme.admin),
        organization_id=acme.organisation.id,
        client=CLIENT,
        session_idle_minutes=60,
        session_absolute_minutes=60,
    )
    assert (changed.session_idle_minutes, changed.session_absolute_minutes) == (60, 60)


def test_a_user_may_not_change_the_policy(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    user = actor(services, acme.user)
    with pytest.raises(PermissionDenied):
        services.organisations.update_policy(
            user, organization_id=acme.organisation.id, client=CLIENT, min_password_length=20
        )
    with pytest.raises(PermissionDenied):
        services.organisations.own_settings(user)


def test_another_organisations_admin_cannot_reach_the_policy(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    globex = make_tenant(services, "Globex")
    with pytest.raises(NotFound):
        services.organisations.update_policy(
            actor(services, globex.admin),
            organization_id=acme.organisation.id,
            client=CLIENT,
            require_second_factor=True,
        )
    assert (
        services.organisations.get(operator(), acme.organisation.id).require_second_factor is False
    )
    assert services.organisations.own_settings(actor(services, globex.admin)).id == (
        globex.organisation.id
    )


def test_the_settings_page_saves_the_form(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    log_in(client, acme.admin.email)
    # Without a second factor of their own, requiring one would send them to set it up first.
    enrol_totp(services, actor(services, acme.admin), clock)
    home = client.get("/")
    assert '<a href="/organisation">Organisation settings</a>' in home.text
    token = page_csrf_token(client, "/organisation")
    answer = client.post(
        "/organisation",
        data={
            "csrf_token": token,
            "require_second_factor": "on",
            "allowed_second_factors": ["totp"],
            "min_password_length": "14",
            "session_idle_minutes": "30",
            "session_absolute_minutes": "600",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    page = client.get(answer.headers["location"])
    assert "The settings are saved." in page.text
    assert 'name="require_second_factor" value="on" checked' in page.text
    assert 'value="totp" checked' in page.text and 'value="email" checked' not in page.text
    stored = services.organisations.get(operator(), acme.organisation.id)
    assert stored.require_second_factor is True
    assert stored.allowed_second_factors == ("totp",)
    assert (stored.min_password_length, stored.session_idle_minutes) == (14, 30)
    assert stored.session_absolute_minutes == 600


def test_the_settings_page_shows_a_refusal_and_keeps_what_was_typed(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    log_in(client, acme.admin.email)
    token = page_csrf_token(client, "/organisation")
    answer = client.post(
        "/organisation",
        data={
            "csrf_token": token,
            "min_password_length": "13",
            "session_idle_minutes": "90",
            "session_absolute_minutes": "60",
        },
    )
    assert answer.status_code == 422
    # no method ticked is checked first
    assert "At least one two-factor method must stay allowed." in answer.text
    assert 'value="13"' in answer.text
    assert services.organisations.get(operator(), acme.organisation.id) == acme.organisation


def test_a_non_number_is_refused(client: TestClient, services: Services) -> None:
    acme = make_tenant(services, "Acme")
    log_in(client, acme.admin.email)
    token = page_csrf_token(client, "/organisation")
    answer = client.post(
        "/organisation",
        data={
            "csrf_token": token,
            "allowed_second_factors": ["totp", "email"],
            "min_password_length": "twelve",
            "session_idle_minutes": "60",
            "session_absolute_minutes": "720",
        },
    )
    assert answer.status_code == 422
    assert "Enter a whole number." in answer.text


def test_a_form_without_the_csrf_token_changes_nothing(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    log_in(client, acme.admin.email)
    answer = client.post(
        "/organisation",
        data={
            "csrf_token": "forged",
            "require_second_factor": "on",
            "allowed_second_factors": ["totp"],
            "min_password_length": "20",
            "session_idle_minutes": "60",
            "session_absolute_minutes": "720",
        },
    )
    assert answer.status_code == 403
    assert services.organisations.get(operator(), acme.organisation.id) == acme.organisation


def test_users_and_provider_admins_get_403_and_no_menu_link(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    log_in(client, acme.user.email)
    assert "/organisation" not in client.get("/").text
    assert client.get("/organisation").status_code == 403
    token = page_csrf_token(client, "/")
    refused = client.post(
        "/organisation",
        data={
            "csrf_token": token,
            "allowed_second_factors": ["totp"],
            "min_password_length": "20",
            "session_idle_minutes": "60",
            "session_absolute_minutes": "720",
        },
    )
    assert refused.status_code == 403
    assert services.organisations.get(operator(), acme.organisation.id) == acme.organisation
    make_provider_admin(services)
    client.cookies.clear()
    log_in(client, "provider@sfs.example.com")
    assert client.get("/organisation").status_code == 403


def test_signed_out_browsers_are_sent_to_log_in(client: TestClient) -> None:
    answer = client.get("/organisation", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
