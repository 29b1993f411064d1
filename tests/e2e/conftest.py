"""Fixtures of the browser tests: a real `sfs serve`, Debian's Chromium driven by Playwright.

Without Chromium (or Playwright) the browser tests skip, unless SFS_TEST_REQUIRE_BROWSER=1 (set
by .ci/run) makes that a failure. The quick-start tests in this folder need no browser.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from sfs.app import build_services
from sfs.client.sync.engine import SyncEngine
from sfs.client.sync.remote import SyncApi
from sfs.config import load_settings
from sfs.crypto.passwords import PasswordHasher
from sfs.domain.actor import operator
from sfs.domain.roles import Role
from tests.e2e.browser_support import CHROMIUM, CHROMIUM_ARGS, REQUIRE_BROWSER, Portal
from tests.e2e.test_quick_start import RunningServer
from tests.support import FAST_HASH, GOOD_PASSWORD
from tests.world import CLIENT

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    data_dir = tmp_path_factory.mktemp("browser") / "sfs-data"
    server = RunningServer(data_dir)
    try:
        server.wait_until_ready()
        services = build_services(
            load_settings(data_dir=data_dir), hasher=PasswordHasher(FAST_HASH)
        )
        organisation = services.organisations.create(operator(), name="Acme", client=CLIENT)
        admin = services.accounts.create_user(
            operator(),
            organization_id=organisation.id,
            email="admin@acme.example.com",
            display_name="Alice Admin",
            password=GOOD_PASSWORD,
            role=Role.ORG_ADMIN,
            client=CLIENT,
        )
        yield Portal(server, services, organisation.id, admin.email)
        services.database.dispose()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        if REQUIRE_BROWSER:
            pytest.fail(f"Chromium is required but missing at {CHROMIUM}", pytrace=False)
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, portal: Portal) -> Iterator[Page]:
    context = browser.new_context(base_url=portal.server.base_url)
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = RunningServer(tmp_path_factory.mktemp("sync-server") / "sfs-data")
    try:
        running.wait_until_ready()
        yield running
    finally:
        running.stop()


_accounts = iter(range(1, 1000))


@pytest.fixture
def token(server: RunningServer, tmp_path: Path) -> str:
    """A fresh user for each test (so each test has an empty My Files), logged in over the API."""
    n = next(_accounts)
    data_dir = Path(server.log).parent / "sfs-data"
    services = build_services(load_settings(data_dir=data_dir), hasher=PasswordHasher(FAST_HASH))
    try:
        organisation = services.organisations.create(operator(), name=f"Sync {n}", client=CLIENT)
        services.accounts.create_user(
            operator(),
            organization_id=organisation.id,
            email=f"sync{n}@example.com",
            display_name=f"Sync Tester{n}",
            password=GOOD_PASSWORD,
            client=CLIENT,
        )
    finally:
        services.database.dispose()
    with SyncApi(server.base_url) as api:
        outcome = api.login(email=f"sync{n}@example.com", password=GOOD_PASSWORD, device_name="t")
        assert outcome.token
        return outcome.token


@pytest.fixture
def pair(
    server: RunningServer, token: str, tmp_path: Path
) -> Iterator[tuple[SyncEngine, SyncEngine]]:
    engines = []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        engines.append(
            SyncEngine(folder, SyncApi(server.base_url, token=token), device=f"laptop-{name}")
        )
    yield engines[0], engines[1]
    for engine in engines:
        engine.close()
        engine.api.close()
