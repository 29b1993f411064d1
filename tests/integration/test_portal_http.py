import pytest
from fastapi.testclient import TestClient

from sfs.app import Services, build_services
from sfs.auth.throttle import RateLimiters
from sfs.config import load_settings
from sfs.crypto.passwords import PasswordHasher
from sfs.web.server import create_app
from tests.support import FAST_HASH, GOOD_PASSWORD, FakeClock, csrf_token_in
from tests.world import make_tenant


def log_in(client: TestClient, email: str, password: str):  # type: ignore[no-untyped-def]
    token = csrf_token_in(client.get("/login").text)
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


def test_the_login_page_has_the_manuals_fields(client: TestClient) -> None:
    page = client.get("/")
    assert page.url.path == "/login"
    assert '<label for="email">Email</label>' in page.text
    assert '<label for="password">Password</label>' in page.text
    assert '<button type="submit">Log in</button>' in page.text


def test_logging_in_sets_a_hardened_session_cookie_and_shows_the_account_name(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    answer = log_in(client, acme.user.email, GOOD_PASSWORD)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("sfs_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    home = client.get("/")
    assert '<a class="account-name" href="/account">Umberto Acme</a>' in home.text
    account = client.get("/account")
    assert "My account" in account.text and acme.user.email in account.text


def test_the_session_id_changes_at_login(client: TestClient, services: Services) -> None:
    acme = make_tenant(services, "Acme")
    client.cookies.set("sfs_session", "planted-by-an-attacker", domain="127.0.0.1")
    log_in(client, acme.user.email, GOOD_PASSWORD)
    first = client.cookies["sfs_session"]
    assert first != "planted-by-an-attacker"
    # Logging in again from the same browser (the login form posted twice) rotates again.
    answer = client.post(
        "/login",
        data={
            "email": acme.admin.email,
            "password": GOOD_PASSWORD,
            "csrf_token": client.cookies["sfs_csrf"],
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert client.cookies["sfs_session"] != first
    stale = TestClient(client.app, base_url="http://127.0.0.1:8080", cookies={"sfs_session": first})
    assert stale.get("/").url.path == "/login"


def test_a_wrong_password_shows_the_generic_message(client: TestClient, services: Services) -> None:
    acme = make_tenant(services, "Acme")
    answer = log_in(client, acme.user.email, "definitely-not-it")
    assert answer.status_code == 401
    assert "Wrong email or password." in answer.text
    assert "sfs_session" not in client.cookies


def test_throttling_shows_when_to_try_again(client: TestClient, services: Services) -> None:
    acme = make_tenant(services, "Acme")
    for _ in range(10):
        log_in(client, acme.user.email, "definitely-not-it")
    answer = log_in(client, acme.user.email, GOOD_PASSWORD)
    assert answer.status_code == 429
    assert "Too many attempts, try again in 15 minutes." in answer.text
    assert 800 < int(answer.headers["retry-after"]) <= 900


def test_a_login_without_the_csrf_token_is_refused(client: TestClient, services: Services) -> None:
    acme = make_tenant(services, "Acme")
    client.get("/login")
    answer = client.post(
        "/login", data={"email": acme.user.email, "password": GOOD_PASSWORD, "csrf_token": "forged"}
    )
    assert answer.status_code == 403
    assert "sfs_session" not in client.cookies


def test_logout_needs_the_sessions_csrf_token_and_ends_the_session(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    log_in(client, acme.user.email, GOOD_PASSWORD)
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    assert client.get("/").url.path == "/"
    token = csrf_token_in(client.get("/").text)
    assert client.post("/logout", data={"csrf_token": token}).url.path == "/login"
    assert client.get("/").url.path == "/login"


def test_every_response_carries_security_headers(client: TestClient) -> None:
    for path in ["/login", "/nowhere", "/api/v1/openapi.json", "/static/portal.css"]:
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
        assert "strict-transport-security" not in headers


def test_https_deployments_get_secure_cookies_and_hsts(
    tmp_path,
    database_url: str,
    services: Services,  # type: ignore[no-untyped-def]
) -> None:
    acme = make_tenant(services, "Acme")
    settings = load_settings(
        data_dir=tmp_path / "https", database_url=database_url, base_url="https://files.example.com"
    )
    secure = build_services(
        settings,
        clock=FakeClock(),
        hasher=PasswordHasher(FAST_HASH),
        limiters=RateLimiters.from_storage_uri("memory://"),
    )
    with TestClient(create_app(secure), base_url="https://files.example.com") as client:
        answer = log_in(client, acme.user.email, GOOD_PASSWORD)
        cookie = next(h for h in answer.headers.get_list("set-cookie") if "sfs_session=" in h)
        assert "Secure" in cookie
        assert answer.headers["strict-transport-security"].startswith("max-age=")
    secure.database.dispose()


@pytest.mark.parametrize("size", [300 * 1024])
def test_an_oversized_form_is_refused_before_it_is_read(client: TestClient, size: int) -> None:
    answer = client.post("/login", data={"email": "x" * size, "password": "y"})
    assert answer.status_code == 413


def test_unknown_pages_answer_404_as_a_page(client: TestClient) -> None:
    answer = client.get("/no/such/page")
    assert answer.status_code == 404
    assert "Page not found" in answer.text
