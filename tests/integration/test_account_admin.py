"""Account administration in the service layer: tenant scope, the last admin, roles, actions."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from sfs.app import Services
from sfs.domain.actor import Actor, operator
from sfs.domain.errors import (
    AccountUnavailable,
    AuthenticationFailed,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from sfs.domain.roles import Role, UserStatus
from sfs.metadata.models import (
    AuditEvent,
    DeviceToken,
    EmailCode,
    Organization,
    User,
    WebSession,
)
from tests.support import GOOD_PASSWORD, OTHER_GOOD_PASSWORD, FakeClock, read_outbox
from tests.world import CLIENT, Tenant, actor, make_tenant


def audit_types(services: Services) -> list[str]:
    with services.database.transaction() as session:
        return list(session.scalars(select(AuditEvent.event_type).order_by(AuditEvent.id)))


def user_row(services: Services, user_id: uuid.UUID) -> User | None:
    with services.database.transaction() as session:
        return session.get(User, user_id)


def sign_in_everywhere(services: Services, tenant: Tenant) -> None:
    """The user has a browser session and a device token."""
    user = actor(services, tenant.user)
    services.web_sessions.start(user, client=CLIENT)
    services.device_tokens.issue(user, device_name="laptop", client=CLIENT)


def open_access(services: Services, user_id: uuid.UUID) -> tuple[int, int]:
    with services.database.transaction() as session:
        sessions = len(
            list(session.scalars(select(WebSession).where(WebSession.user_id == user_id)))
        )
        devices = len(
            list(
                session.scalars(
                    select(DeviceToken).where(
                        DeviceToken.user_id == user_id, DeviceToken.revoked_at.is_(None)
                    )
                )
            )
        )
    return sessions, devices


def test_an_admin_changes_a_users_password_and_signs_them_out_everywhere(
    services: Services,
) -> None:
    acme = make_tenant(services, "Acme")
    sign_in_everywhere(services, acme)
    admin = actor(services, acme.admin)
    services.account_admin.change_password(
        admin,
        acme.user.id,
        new_password=OTHER_GOOD_PASSWORD,
        confirm_password=OTHER_GOOD_PASSWORD,
        require_change_at_next_login=True,
        client=CLIENT,
    )
    assert open_access(services, acme.user.id) == (0, 0)
    row = user_row(services, acme.user.id)
    assert row is not None and row.must_change_password
    services.login.authenticate(
        email=acme.user.email, password=OTHER_GOOD_PASSWORD, client=CLIENT, channel="web"
    )
    with pytest.raises(AuthenticationFailed):
        services.login.authenticate(
            email=acme.user.email, password=GOOD_PASSWORD, client=CLIENT, channel="web"
        )
    mail = read_outbox(services.settings.outbox_dir)[-1]
    assert mail["To"] == acme.user.email
    assert "changed by an administrator" in mail["Subject"]
    assert "password.changed_by_admin" in audit_types(services)


@pytest.mark.parametrize(
    ("new", "confirm", "message"),
    [
        (OTHER_GOOD_PASSWORD, OTHER_GOOD_PASSWORD + "x", "do not match"),
        ("short", "short", "at least 12 characters"),
        ("password1234", "password1234", "too easy to guess"),
        ("umberto-acme-rocks-77", "umberto-acme-rocks-77", "must not contain the user's name"),
    ],
)
def test_a_bad_new_password_is_refused_and_changes_nothing(
    services: Services, new: str, confirm: str, message: str
) -> None:
    acme = make_tenant(services, "Acme")
    before = user_row(services, acme.user.id)
    with pytest.raises(InvalidInput, match=message):
        services.account_admin.change_password(
            actor(services, acme.admin),
            acme.user.id,
            new_password=new,
            confirm_password=confirm,
            require_change_at_next_login=False,
            client=CLIENT,
        )
    after = user_row(services, acme.user.id)
    assert before is not None and after is not None
    assert after.password_hash == before.password_hash
    assert read_outbox(services.settings.outbox_dir) == []


def test_the_organisations_minimum_password_length_applies(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    with services.database.transaction() as session:
        organisation = session.get(Organization, acme.organisation.id)
        assert organisation is not None
        organisation.min_password_length = 40
    with pytest.raises(InvalidInput, match="at least 40 characters"):
        services.account_admin.change_password(
            actor(services, acme.admin),
            acme.user.id,
            new_password=OTHER_GOOD_PASSWORD,
            confirm_password=OTHER_GOOD_PASSWORD,
            require_change_at_next_login=False,
            client=CLIENT,
        )


def _actions(services: Services) -> dict[str, Callable[[Actor, uuid.UUID], object]]:
    admin = services.account_admin
    return {
        "detail": lambda a, u: admin.detail(a, u),
        "change_password": lambda a, u: admin.change_password(
            a,
            u,
            new_password=OTHER_GOOD_PASSWORD,
            confirm_password=OTHER_GOOD_PASSWORD,
            require_change_at_next_login=False,
            client=CLIENT,
        ),
        "reset_second_factor": lambda a, u: admin.reset_second_factor(a, u, client=CLIENT),
        "change_role": lambda a, u: admin.change_role(a, u, role=Role.USER, client=CLIENT),
        "disable": lambda a, u: admin.disable(a, u, client=CLIENT),
        "enable": lambda a, u: admin.enable(a, u, client=CLIENT),
        "delete": lambda a, u: admin.delete(a, u, confirm_email="x@y.z", client=CLIENT),
        "resend_invitation": lambda a, u: services.invitations.resend(a, u, client=CLIENT),
    }


ACTIONS = [
    "detail",
    "change_password",
    "reset_second_factor",
    "change_role",
    "disable",
    "enable",
    "delete",
    "resend_invitation",
]


@pytest.mark.parametrize("action", ACTIONS)
def test_another_organisations_accounts_are_not_found(services: Services, action: str) -> None:
    acme = make_tenant(services, "Acme")
    globex = make_tenant(services, "Globex")
    run = _actions(services)[action]
    for target in (globex.user.id, globex.admin.id, uuid.uuid4()):
        with pytest.raises(NotFound, match="No such account"):
            run(actor(services, acme.admin), target)
    assert user_row(services, globex.user.id) is not None
    assert user_row(services, globex.admin.id) is not None


@pytest.mark.parametrize("action", ACTIONS)
def test_users_may_not_administer_accounts_not_even_their_own(
    services: Services, action: str
) -> None:
    acme = make_tenant(services, "Acme")
    run = _actions(services)[action]
    for target in (acme.admin.id, acme.user.id):
        with pytest.raises(PermissionDenied):
            run(actor(services, acme.user), target)
    with pytest.raises(PermissionDenied):
        services.account_admin.page(actor(services, acme.user))


def test_the_last_active_organization_admin_cannot_be_demoted_disabled_or_deleted(
    services: Services,
) -> None:
    acme = make_tenant(services, "Acme")
    admin = actor(services, acme.admin)
    with pytest.raises(PermissionDenied, match="last active Organization Admin"):
        services.account_admin.change_role(admin, acme.admin.id, role=Role.USER, client=CLIENT)
    # A second admin who is disabled does not count.
    services.account_admin.change_role(admin, acme.user.id, role=Role.ORG_ADMIN, client=CLIENT)
    services.account_admin.disable(admin, acme.user.id, client=CLIENT)
    with pytest.raises(PermissionDenied, match="last active Organization Admin"):
        services.account_admin.change_role(admin, acme.admin.id, role=Role.USER, client=CLIENT)
    # Once the other admin is active again, either may step down, but not both.
    services.account_admin.enable(admin, acme.user.id, client=CLIENT)
    services.account_admin.change_role(admin, acme.admin.id, role=Role.USER, client=CLIENT)
    other = actor(services, acme.user)
    assert other.role is Role.ORG_ADMIN
    with pytest.raises(PermissionDenied, match="last active Organization Admin"):
        services.account_admin.change_role(other, acme.user.id, role=Role.USER, client=CLIENT)
    row = user_row(services, acme.user.id)
    assert row is not None and row.role == Role.ORG_ADMIN.value


def test_not_even_a_provider_admin_disables_or_deletes_the_last_active_admin(
    services: Services,
) -> None:
    acme = make_tenant(services, "Acme")
    with pytest.raises(PermissionDenied, match="last active Organization Admin"):
        services.account_admin.disable(operator(), acme.admin.id, client=CLIENT)
    with pytest.raises(PermissionDenied, match="last active Organization Admin"):
        services.account_admin.delete(
            operator(), acme.admin.id, confirm_email=acme.admin.email, client=CLIENT
        )
    row = user_row(services, acme.admin.id)
    assert row is not None and row.status == "active"


def test_nobody_raises_anyone_above_their_own_role(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    with pytest.raises(PermissionDenied, match="above your own"):
        services.account_admin.change_role(
            actor(services, acme.admin), acme.user.id, role=Role.PROVIDER_ADMIN, client=CLIENT
        )
    with pytest.raises(PermissionDenied, match="above your own"):
        services.invitations.invite(
            actor(services, acme.admin),
            email="boss@acme.example.com",
            display_name="Boss",
            role=Role.PROVIDER_ADMIN,
            client=CLIENT,
        )


def test_roles_change_and_are_audited(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    admin = actor(services, acme.admin)
    services.account_admin.change_role(admin, acme.user.id, role=Role.ORG_ADMIN, client=CLIENT)
    assert services.account_admin.detail(admin, acme.user.id).summary.role is Role.ORG_ADMIN
    with services.database.transaction() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.event_type == "user.role_changed")
        ).one()
        assert json.loads(event.details) == {"previous_role": "user", "role": "org_admin"}
        assert event.target_user_id == acme.user.id and event.actor_user_id == acme.admin.id


def test_admins_do_not_use_the_admin_actions_on_themselves(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    admin = actor(services, acme.admin)
    with pytest.raises(PermissionDenied, match="My account"):
        services.account_admin.change_password(
            admin,
            acme.admin.id,
            new_password=OTHER_GOOD_PASSWORD,
            confirm_password=OTHER_GOOD_PASSWORD,
            require_change_at_next_login=False,
            client=CLIENT,
        )
    with pytest.raises(PermissionDenied):
        services.account_admin.disable(admin, acme.admin.id, client=CLIENT)
    with pytest.raises(PermissionDenied):
        services.account_admin.delete(
            admin, acme.admin.id, confirm_email=acme.admin.email, client=CLIENT
        )


def test_resetting_two_factor_clears_the_enrolment_and_closes_open_codes(
    services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    sign_in_everywhere(services, acme)
    with services.database.transaction() as session:
        row = session.get(User, acme.user.id)
        assert row is not None
        row.second_factor_method = "totp"
        row.second_factor_enrolled_at = clock.now()
        row.totp_secret_sealed = "sealed"
        row.totp_last_step = 42
        row.backup_key_hash = "hash"
        session.add(
            EmailCode(
                id=uuid.uuid4(),
                user_id=row.id,
                organization_id=row.organization_id,
                code_digest="d" * 64,
                created_at=clock.now(),
                expires_at=clock.now() + timedelta(minutes=10),
            )
        )
    admin = actor(services, acme.admin)
    assert services.account_admin.detail(admin, acme.user.id).summary.second_factor == (
        "Authenticator mobile app"
    )
    services.account_admin.reset_second_factor(admin, acme.user.id, client=CLIENT)
    row = user_row(services, acme.user.id)
    assert row is not None
    assert (
        row.second_factor_method,
        row.second_factor_enrolled_at,
        row.totp_secret_sealed,
        row.totp_last_step,
        row.backup_key_hash,
    ) == (None, None, None, None, None)
    with services.database.transaction() as session:
        codes = list(session.scalars(select(EmailCode).where(EmailCode.user_id == acme.user.id)))
        assert [code.closed_at for code in codes] == [clock.now()]
    assert open_access(services, acme.user.id)[0] == 0
    assert services.account_admin.detail(admin, acme.user.id).summary.second_factor == "Not set up"
    assert "second_factor.reset" in audit_types(services)
    assert "two-factor" in read_outbox(services.settings.outbox_dir)[-1]["Subject"]


def test_disabling_stops_logins_and_enabling_restores_them(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    sign_in_everywhere(services, acme)
    admin = actor(services, acme.admin)
    services.account_admin.disable(admin, acme.user.id, client=CLIENT)
    assert open_access(services, acme.user.id) == (0, 0)
    with pytest.raises(AccountUnavailable):
        services.login.authenticate(
            email=acme.user.email, password=GOOD_PASSWORD, client=CLIENT, channel="web"
        )
    with pytest.raises(InvalidInput, match="already disabled"):
        services.account_admin.disable(admin, acme.user.id, client=CLIENT)
    services.account_admin.enable(admin, acme.user.id, client=CLIENT)
    services.login.authenticate(
        email=acme.user.email, password=GOOD_PASSWORD, client=CLIENT, channel="web"
    )
    assert [t for t in audit_types(services) if t in ("user.disabled", "user.enabled")] == [
        "user.disabled",
        "user.enabled",
    ]


def test_deleting_needs_the_email_typed_and_removes_the_account(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    sign_in_everywhere(services, acme)
    admin = actor(services, acme.admin)
    with pytest.raises(InvalidInput, match="Type the account's email"):
        services.account_admin.delete(
            admin, acme.user.id, confirm_email="someone@else.example.com", client=CLIENT
        )
    assert user_row(services, acme.user.id) is not None
    services.account_admin.delete(
        admin, acme.user.id, confirm_email=f"  {acme.user.email.upper()} ", client=CLIENT
    )
    assert user_row(services, acme.user.id) is None
    assert open_access(services, acme.user.id) == (0, 0)
    with services.database.transaction() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.event_type == "user.deleted")
        ).one()
        assert event.target_email == acme.user.email


def test_the_accounts_list_shows_status_and_second_factor(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    admin = actor(services, acme.admin)
    services.account_admin.disable(admin, acme.user.id, client=CLIENT)
    page = services.account_admin.page(admin)
    assert [(a.display_name, a.status, a.second_factor, a.role) for a in page.accounts] == [
        ("Alice Acme", UserStatus.ACTIVE, "Not set up", Role.ORG_ADMIN),
        ("Umberto Acme", UserStatus.DISABLED, "Not set up", Role.USER),
    ]
    assert page.total == 2 and not page.has_next and not page.has_previous
