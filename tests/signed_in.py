"""Logging a test browser in over HTTP, and a provider admin to log in as."""

from __future__ import annotations

from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.domain.actor import operator
from sfs.services.identity.accounts import UserView
from tests.support import GOOD_PASSWORD, csrf_token_in
from tests.world import CLIENT

PROVIDER_ADMIN_EMAIL = "provider@sfs.example.com"


def log_in(client: TestClient, email: str, password: str = GOOD_PASSWORD) -> None:
    token = csrf_token_in(client.get("/login").text)
    answer = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    assert "sfs_session" in client.cookies


def make_provider_admin(services: Services) -> UserView:
    return services.accounts.create_provider_admin(
        operator(),
        email=PROVIDER_ADMIN_EMAIL,
        display_name="Petra Provider",
        password=GOOD_PASSWORD,
        client=CLIENT,
    )


def page_csrf_token(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return csrf_token_in(page.text)
