import pytest
from sqlalchemy import select

from sfs.app import Services
from sfs.domain.errors import NotAuthenticated, NotFound
from sfs.metadata.models import DeviceToken, Organization, User, WebSession
from tests.support import FakeClock
from tests.world import CLIENT, actor, make_tenant


def test_a_session_ends_after_the_organisations_idle_timeout(
    services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    new = services.web_sessions.start(actor(services, acme.user), client=CLIENT)
    clock.advance(minutes=59)
    assert (
        services.web_sessions.resolve(new.cookie_value, client=CLIENT).actor.user_id == acme.user.id
    )
    clock.advance(minutes=59)  # active within the idle limit again
    services.web_sessions.resolve(new.cookie_value, client=CLIENT)
    clock.advance(minutes=61)
    with pytest.raises(NotAuthenticated, match="session has ended"):
        services.web_sessions.resolve(new.cookie_value, client=CLIENT)


def test_a_session_ends_at_the_absolute_timeout_however_active(
    services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    with services.database.transaction() as session:
        org = session.get(Organization, acme.organisation.id)
        assert org is not None
        org.session_absolute_minutes = 120
    new = services.web_sessions.start(actor(services, acme.user), client=CLIENT)
    for _ in range(3):
        clock.advance(minutes=30)
        services.web_sessions.resolve(new.cookie_value, client=CLIENT)
    clock.advance(minutes=31)
    with pytest.raises(NotAuthenticated):
        services.web_sessions.resolve(new.cookie_value, client=CLIENT)


def test_only_a_digest_of_the_session_id_is_stored(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    new = services.web_sessions.start(actor(services, acme.user), client=CLIENT)
    with services.database.transaction() as session:
        stored = session.scalars(select(WebSession.id_hash)).all()
    assert len(stored) == 1 and new.cookie_value not in stored[0]


def test_a_login_replaces_the_browsers_previous_session(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    first = services.web_sessions.start(actor(services, acme.user), client=CLIENT)
    second = services.web_sessions.start(
        actor(services, acme.admin), client=CLIENT, replaces=first.cookie_value
    )
    with pytest.raises(NotAuthenticated):
        services.web_sessions.resolve(first.cookie_value, client=CLIENT)
    assert (
        services.web_sessions.resolve(second.cookie_value, client=CLIENT).actor.user_id
        == acme.admin.id
    )


def test_disabling_an_account_ends_its_sessions_and_tokens_at_once(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    user = actor(services, acme.user)
    web = services.web_sessions.start(user, client=CLIENT)
    token = services.device_tokens.issue(user, device_name="laptop", client=CLIENT)
    with services.database.transaction() as session:
        row = session.get(User, acme.user.id)
        assert row is not None
        row.status = "disabled"
    with pytest.raises(NotAuthenticated):
        services.web_sessions.resolve(web.cookie_value, client=CLIENT)
    with pytest.raises(NotAuthenticated, match="not active"):
        services.device_tokens.resolve(token.secret)


def test_device_tokens_are_per_device_and_revocable(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    user = actor(services, acme.user)
    laptop = services.device_tokens.issue(user, device_name="laptop", client=CLIENT)
    phone = services.device_tokens.issue(user, device_name="phone", client=CLIENT)
    assert services.device_tokens.resolve(laptop.secret)[0].user_id == acme.user.id
    services.device_tokens.revoke(user, laptop.id, client=CLIENT)
    with pytest.raises(NotAuthenticated, match="revoked"):
        services.device_tokens.resolve(laptop.secret)
    assert services.device_tokens.resolve(phone.secret)[1] == phone.id
    assert [d.name for d in services.device_tokens.list_own(user)] == ["phone"]
    with services.database.transaction() as session:
        hashes = session.scalars(select(DeviceToken.token_hash)).all()
    assert phone.secret not in hashes


def test_no_one_revokes_another_users_device(services: Services) -> None:
    acme, globex = make_tenant(services, "Acme"), make_tenant(services, "Globex")
    token = services.device_tokens.issue(actor(services, acme.user), device_name="x", client=CLIENT)
    with pytest.raises(NotFound):
        services.device_tokens.revoke(actor(services, globex.admin), token.id, client=CLIENT)
    assert services.device_tokens.resolve(token.secret)


@pytest.mark.parametrize("secret", ["", "Bearer", "sfs_", "sfs_" + "A" * 43, "x" * 5000])
def test_forged_tokens_are_refused(services: Services, secret: str) -> None:
    with pytest.raises(NotAuthenticated):
        services.device_tokens.resolve(secret)
