"""Login Flow v2 over HTTP: a client starts a flow and polls; the user logs in (with a second
factor) in the portal and grants access; the poll hands out an app password once."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sfs.app import Services
from sfs.domain.actor import ClientInfo
from sfs.metadata.nextcloud_models import LoginFlow
from sfs.services.identity.login_flow import client_name
from tests.dav import basic, propfind
from tests.integration.test_second_factor import code_now, enrol_totp
from tests.integration.test_second_factor_portal import post_login, submit
from tests.signed_in import log_in
from tests.support import FakeClock
from tests.world import Tenant, actor, make_tenant

DESKTOP = "Mozilla/5.0 (Linux) mirall/3.7.3 (Nextcloud, debian-6.1.0 ClientArchitecture: x86_64)"


@pytest.fixture
def acme(services: Services) -> Tenant:
    return make_tenant(services, "Acme")


def start(client: TestClient, path: str = "/index.php/login/v2") -> tuple[str, str, str]:
    """(poll endpoint path, poll token, login page path) of a new flow."""
    answer = client.post(path, headers={"User-Agent": DESKTOP})
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["poll"]["endpoint"] == "http://127.0.0.1:8080/login/v2/poll"
    assert body["login"].startswith("http://127.0.0.1:8080/login/v2/flow/")
    return (
        urlsplit(body["poll"]["endpoint"]).path,
        body["poll"]["token"],
        urlsplit(body["login"]).path,
    )


def poll(client: TestClient, endpoint: str, token: str):  # type: ignore[no-untyped-def]
    return client.post(endpoint, data={"token": token}, headers={"User-Agent": DESKTOP})


def grant(client: TestClient, login: str, answer: str = "grant"):  # type: ignore[no-untyped-def]
    page = client.get(login)
    assert page.status_code == 200, page.text
    return submit(client, page.text, login, answer=answer)


def test_the_poll_hands_out_an_app_password_once_after_the_user_grants(
    client: TestClient, services: Services, acme: Tenant
) -> None:
    endpoint, token, login = start(client)
    assert poll(client, endpoint, token).status_code == 404
    # The browser is sent to log in, and comes back to the question.
    first = client.get(login, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/login"
    log_in(client, acme.user.email)
    back = client.get("/", follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == login
    question = client.get(login)
    assert f"Grant access to {client_name(DESKTOP)}?" in question.text
    assert poll(client, endpoint, token).status_code == 404  # not granted yet
    done = grant(client, login)
    assert done.status_code == 200 and "Access granted" in done.text
    assert "sfs_return_to" not in client.cookies

    handed = poll(client, endpoint, token)
    assert handed.status_code == 200 and handed.headers["cache-control"] == "no-store"
    body = handed.json()
    assert body["server"] == "http://127.0.0.1:8080"
    assert body["loginName"] == acme.user.email
    credentials = basic(body["loginName"], body["appPassword"])
    assert client.get("/ocs/v2.php/cloud/user", headers=credentials).status_code == 200
    assert propfind(client, "/dav/", credentials).status_code == 207
    devices = services.app_passwords.devices(actor(services, acme.user))
    assert [d.name for d in devices] == [client_name(DESKTOP)]
    # Once only, and the page is gone too.
    assert poll(client, endpoint, token).status_code == 404
    assert client.get(login).status_code == 404


def test_a_second_factor_comes_between_the_password_and_the_question(
    client: TestClient, services: Services, acme: Tenant, clock: FakeClock
) -> None:
    secret, _ = enrol_totp(services, actor(services, acme.user), clock)
    endpoint, token, login = start(client, "/login/v2")
    client.get(login)
    assert post_login(client, acme.user.email).headers["location"] == "/login/verify"
    # Half logged in is not logged in: the question waits.
    assert client.get(login, follow_redirects=False).headers["location"] == "/login"
    clock.advance(minutes=1)
    challenge = client.get("/login/verify").text
    verified = submit(client, challenge, "/login/verify", code=code_now(secret, clock))
    assert verified.headers["location"] == "/"
    assert client.get("/", follow_redirects=False).headers["location"] == login
    grant(client, login)
    assert poll(client, endpoint, token).json()["loginName"] == acme.user.email


def test_a_flow_expires_after_twenty_minutes(
    client: TestClient, acme: Tenant, clock: FakeClock
) -> None:
    endpoint, token, login = start(client)
    log_in(client, acme.user.email)
    clock.advance(minutes=19)
    page = client.get(login)
    assert page.status_code == 200
    clock.advance(minutes=2)
    assert submit(client, page.text, login, answer="grant").status_code == 404
    assert poll(client, endpoint, token).status_code == 404
    # Granted in time but collected too late: nothing either.
    endpoint, token, login = start(client)
    grant(client, login)
    clock.advance(minutes=21)
    assert poll(client, endpoint, token).status_code == 404


def test_a_refused_flow_never_hands_out_anything(
    client: TestClient, services: Services, acme: Tenant
) -> None:
    endpoint, token, login = start(client)
    log_in(client, acme.user.email)
    refused = grant(client, login, answer="deny")
    assert refused.status_code == 200 and "Access refused" in refused.text
    assert poll(client, endpoint, token).status_code == 404
    assert client.get(login).status_code == 404
    assert services.app_passwords.devices(actor(services, acme.user)) == []


def test_tokens_are_stored_as_digests_and_bad_tokens_find_nothing(
    client: TestClient, services: Services, acme: Tenant
) -> None:
    endpoint, token, login = start(client)
    login_token = login.rsplit("/", 1)[1]
    with services.database.transaction() as session:
        (row,) = session.scalars(select(LoginFlow)).all()
        stored = {row.poll_token_hash, row.login_token_hash, row.client_name}
    assert token not in stored and login_token not in stored
    for bad in ("", "x", login_token, token + "x"):
        assert poll(client, endpoint, bad).status_code == 404
    assert client.post(endpoint).status_code == 404
    log_in(client, acme.user.email)
    assert client.get("/login/v2/flow/nothing-here").status_code == 404
    assert client.get(f"/login/v2/flow/{token}").status_code == 404  # the poll token is no login


def test_the_form_needs_the_sessions_csrf_token(client: TestClient, acme: Tenant) -> None:
    endpoint, token, login = start(client)
    log_in(client, acme.user.email)
    forged = client.post(login, data={"csrf_token": "forged", "answer": "grant"})
    assert forged.status_code == 403
    assert poll(client, endpoint, token).status_code == 404


def test_a_granted_flow_is_not_anyone_elses(
    client: TestClient, services: Services, acme: Tenant
) -> None:
    endpoint, token, login = start(client)
    log_in(client, acme.user.email)
    grant(client, login)
    other = make_tenant(services, "Globex")
    client.cookies.clear()
    log_in(client, other.user.email)
    assert client.get(login).status_code == 404
    mine = client.get("/account/devices").text  # a page with this session's CSRF token
    assert submit(client, mine, login, answer="grant").status_code == 404
    assert submit(client, mine, login, answer="deny").status_code == 404
    assert poll(client, endpoint, token).json()["loginName"] == acme.user.email


def test_the_device_is_named_after_its_user_agent() -> None:
    assert client_name(DESKTOP) == DESKTOP
    assert client_name(None) == client_name("  ") == "Unknown client"
    assert client_name("evil\x00\nname") == "evilname"
    assert len(client_name("x" * 500)) == 100


def test_starting_flows_is_throttled_per_address(client: TestClient, services: Services) -> None:
    for _ in range(30):
        start(client)
    refused = client.post("/index.php/login/v2", headers={"User-Agent": DESKTOP})
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 15 * 60
    assert refused.headers["cache-control"] == "no-store"
    assert "Too many attempts" in refused.json()["message"]
    assert client.post("/login/v2", headers={"User-Agent": DESKTOP}).status_code == 429
    with services.database.transaction() as session:
        assert len(session.scalars(select(LoginFlow)).all()) == 30  # none made when refused
    # Another address is counted on its own.
    other = services.login_flows.start(client=ClientInfo(address="192.0.2.7", user_agent=DESKTOP))
    assert other.poll_token
