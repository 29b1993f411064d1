import pytest
from sqlalchemy import select

from sfs.app import Services
from sfs.crypto.passwords import HashParameters, PasswordHasher
from sfs.domain.actor import ClientInfo
from sfs.domain.errors import AccountUnavailable, AuthenticationFailed, TooManyAttempts
from sfs.metadata.models import AuditEvent, Organization, User
from sfs.services.identity.login import LoginService
from tests.support import GOOD_PASSWORD
from tests.world import CLIENT, make_tenant


def login(services: Services, email: str, password: str, client: ClientInfo = CLIENT):  # type: ignore[no-untyped-def]
    return services.login.authenticate(email=email, password=password, client=client, channel="web")


def events(services: Services) -> list[AuditEvent]:
    with services.database.transaction() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def test_the_right_password_logs_in_whatever_the_email_case(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    actor = login(services, acme.user.email.upper(), GOOD_PASSWORD)
    assert actor.user_id == acme.user.id
    last = events(services)[-1]
    assert (last.event_type, last.target_email, last.client_address) == (
        "login.succeeded",
        acme.user.email,
        CLIENT.address,
    )


def test_wrong_password_and_unknown_account_fail_alike(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    with pytest.raises(AuthenticationFailed) as wrong_password:
        login(services, acme.user.email, "not-the-password-at-all")
    with pytest.raises(AuthenticationFailed) as unknown_account:
        login(services, "ghost@acme.example.com", GOOD_PASSWORD)
    assert (
        wrong_password.value.message == unknown_account.value.message == "Wrong email or password."
    )
    failures = [e for e in events(services) if e.event_type == "login.failed"]
    assert [f.target_email for f in failures] == [acme.user.email, "ghost@acme.example.com"]


def test_an_account_is_throttled_after_ten_failures_even_for_the_right_password(
    services: Services,
) -> None:
    acme = make_tenant(services, "Acme")
    for attempt in range(10):
        client = ClientInfo(address=f"198.51.100.{attempt}")  # spread over addresses
        with pytest.raises(AuthenticationFailed):
            login(services, acme.user.email, f"guess-number-{attempt}", client)
    with pytest.raises(TooManyAttempts, match=r"Too many attempts, try again in 15 minutes\."):
        login(services, acme.user.email, GOOD_PASSWORD)
    assert events(services)[-1].event_type == "login.throttled"


def test_an_address_is_throttled_after_fifty_failures_across_accounts(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    for attempt in range(50):
        with pytest.raises(AuthenticationFailed):
            login(services, f"guess{attempt}@acme.example.com", "whatever-it-is-1")
    with pytest.raises(TooManyAttempts):
        login(services, acme.user.email, GOOD_PASSWORD)
    # Another address is unaffected.
    assert login(services, acme.user.email, GOOD_PASSWORD, ClientInfo(address="192.0.2.1"))


def test_a_success_clears_the_account_count(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    for _ in range(9):
        with pytest.raises(AuthenticationFailed):
            login(services, acme.user.email, "a-wrong-password")
    login(services, acme.user.email, GOOD_PASSWORD)
    for _ in range(9):
        with pytest.raises(AuthenticationFailed):
            login(services, acme.user.email, "a-wrong-password")
    assert login(services, acme.user.email, GOOD_PASSWORD)


def test_the_hash_is_upgraded_when_the_parameters_change(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    stronger = PasswordHasher(HashParameters(time_cost=2, memory_kib=16384, parallelism=1))
    upgraded = LoginService(
        services.database, services.audit, services.clock, stronger, services.login._limiters
    )
    upgraded.authenticate(
        email=acme.user.email, password=GOOD_PASSWORD, client=CLIENT, channel="web"
    )
    with services.database.transaction() as session:
        row = session.get(User, acme.user.id)
        assert row is not None and row.password_hash is not None
        assert "m=16384,t=2,p=1" in row.password_hash
    assert "password.rehashed" in [e.event_type for e in events(services)]
    # The new hash still verifies with the new parameters, and the old no longer applies.
    assert upgraded.authenticate(
        email=acme.user.email, password=GOOD_PASSWORD, client=CLIENT, channel="web"
    )


def test_a_disabled_account_or_suspended_organisation_cannot_log_in(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    with services.database.transaction() as session:
        row = session.get(User, acme.user.id)
        assert row is not None
        row.status = "disabled"
    with pytest.raises(AccountUnavailable, match="not active"):
        login(services, acme.user.email, GOOD_PASSWORD)
    with services.database.transaction() as session:
        org = session.get(Organization, acme.organisation.id)
        assert org is not None
        org.status = "suspended"
    with pytest.raises(AccountUnavailable, match="suspended"):
        login(services, acme.admin.email, GOOD_PASSWORD)


def test_an_overlong_password_fails_without_being_hashed(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    with pytest.raises(AuthenticationFailed):
        login(services, acme.user.email, "x" * 100_000)
