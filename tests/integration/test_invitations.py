"""Add user: an invited account, a single-use link valid 7 days, a password typed twice."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sfs.app import Services
from sfs.auth.secrets import digest
from sfs.domain.errors import AlreadyExists, AuthenticationFailed, InvalidInput, InvalidLink
from sfs.domain.roles import Role, UserStatus
from sfs.metadata.models import AccountToken, User
from tests.support import GOOD_PASSWORD, OTHER_GOOD_PASSWORD, FakeClock, csrf_token_in, read_outbox
from tests.world import CLIENT, actor, make_tenant


def invite_jan(services: Services) -> tuple[str, str]:
    """Invite Jan into a fresh Acme; returns (email, the link's token)."""
    acme = make_tenant(services, "Acme")
    invited = services.invitations.invite(
        actor(services, acme.admin),
        email="Jan@Acme.example.com",
        display_name="Jan Jansen",
        role=Role.USER,
        client=CLIENT,
    )
    return invited.email, token_in_last_mail(services)


def token_in_last_mail(services: Services) -> str:
    mail = read_outbox(services.settings.outbox_dir)[-1]
    body = mail.get_content()
    match = re.search(r"http://127\.0\.0\.1:8080/invitation/(\S+)", body)
    assert match, body
    return match.group(1)


def test_an_invited_account_has_no_password_and_only_a_digest_of_the_link(
    services: Services, clock: FakeClock
) -> None:
    email, token = invite_jan(services)
    assert email == "jan@acme.example.com"
    with services.database.transaction() as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        assert user.status == UserStatus.INVITED.value and user.password_hash is None
        link = session.scalars(select(AccountToken).where(AccountToken.user_id == user.id)).one()
        assert link.purpose == "invitation"
        assert link.token_hash == digest(token) and token not in link.token_hash
        assert link.expires_at - link.created_at == timedelta(days=7)
    with pytest.raises(AuthenticationFailed):
        services.login.authenticate(email=email, password="", client=CLIENT, channel="web")


def test_accepting_sets_the_password_activates_and_the_link_works_once(
    services: Services,
) -> None:
    email, token = invite_jan(services)
    assert services.invitations.look_up(token).display_name == "Jan Jansen"
    services.invitations.accept(
        token, new_password=OTHER_GOOD_PASSWORD, confirm_password=OTHER_GOOD_PASSWORD, client=CLIENT
    )
    services.login.authenticate(
        email=email, password=OTHER_GOOD_PASSWORD, client=CLIENT, channel="web"
    )
    with pytest.raises(InvalidLink):
        services.invitations.look_up(token)
    with pytest.raises(InvalidLink):
        services.invitations.accept(
            token, new_password=GOOD_PASSWORD, confirm_password=GOOD_PASSWORD, client=CLIENT
        )
    services.login.authenticate(
        email=email, password=OTHER_GOOD_PASSWORD, client=CLIENT, channel="web"
    )


def test_an_expired_or_unknown_link_changes_nothing(services: Services, clock: FakeClock) -> None:
    email, token = invite_jan(services)
    for bad in ("", "nonsense", token[:-2], "x" * 500):
        with pytest.raises(InvalidLink):
            services.invitations.look_up(bad)
    clock.advance(days=7)
    with pytest.raises(InvalidLink, match="expired"):
        services.invitations.accept(
            token,
            new_password=OTHER_GOOD_PASSWORD,
            confirm_password=OTHER_GOOD_PASSWORD,
            client=CLIENT,
        )
    with services.database.transaction() as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        assert user.status == "invited" and user.password_hash is None


@pytest.mark.parametrize(
    ("new", "confirm", "message"),
    [
        (OTHER_GOOD_PASSWORD, GOOD_PASSWORD, "do not match"),
        ("jan-jansen-2026!", "jan-jansen-2026!", "must not contain"),
        ("abcabcabcabc", "abcabcabcabc", "too easy to guess"),
    ],
)
def test_a_bad_password_keeps_the_link_usable(
    services: Services, new: str, confirm: str, message: str
) -> None:
    _email, token = invite_jan(services)
    with pytest.raises(InvalidInput, match=message):
        services.invitations.accept(
            token, new_password=new, confirm_password=confirm, client=CLIENT
        )
    assert services.invitations.look_up(token).display_name == "Jan Jansen"


def test_resending_replaces_the_link(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    admin = actor(services, acme.admin)
    invited = services.invitations.invite(
        admin, email="jan@acme.example.com", display_name="Jan", role=Role.USER, client=CLIENT
    )
    email, first = invited.email, token_in_last_mail(services)
    services.invitations.resend(admin, invited.id, client=CLIENT)
    second = token_in_last_mail(services)
    assert second != first
    with pytest.raises(InvalidLink):
        services.invitations.look_up(first)
    assert services.invitations.look_up(second).email == email


def test_an_email_already_registered_cannot_be_invited(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    with pytest.raises(AlreadyExists):
        services.invitations.invite(
            actor(services, acme.admin),
            email=acme.user.email,
            display_name="Again",
            role=Role.USER,
            client=CLIENT,
        )


def test_the_portal_walk_add_user_then_accept_the_invitation(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    token = csrf_token_in(client.get("/login").text)
    client.post(
        "/login", data={"email": acme.admin.email, "password": GOOD_PASSWORD, "csrf_token": token}
    )
    form = client.get("/accounts/new")
    assert form.status_code == 200
    created = client.post(
        "/accounts/new",
        data={
            "csrf_token": csrf_token_in(form.text),
            "display_name": "Jan Jansen",
            "email": "jan@acme.example.com",
            "role": "user",
        },
    )
    assert created.status_code == 200 and "invitation sent" in created.text
    assert "Invited" in created.text
    link = token_in_last_mail(services)
    client.cookies.clear()
    page = client.get(f"/invitation/{link}")
    assert page.status_code == 200 and "Jan Jansen" in page.text
    assert '<label for="new_password">New password</label>' in page.text
    assert '<label for="confirm_password">Confirm new password</label>' in page.text
    mismatch = client.post(
        f"/invitation/{link}",
        data={
            "csrf_token": csrf_token_in(page.text),
            "new_password": OTHER_GOOD_PASSWORD,
            "confirm_password": GOOD_PASSWORD,
        },
    )
    assert mismatch.status_code == 422 and "do not match" in mismatch.text
    done = client.post(
        f"/invitation/{link}",
        data={
            "csrf_token": csrf_token_in(page.text),
            "new_password": OTHER_GOOD_PASSWORD,
            "confirm_password": OTHER_GOOD_PASSWORD,
        },
    )
    assert done.status_code == 200 and "Your password is set" in done.text
    again = client.get(f"/invitation/{link}")
    assert again.status_code == 400 and "This link does not work" in again.text
    unknown = client.get("/invitation/not-a-real-token")
    assert unknown.status_code == 400 and "not valid" in unknown.text
