"""The Dutch portal, walked once in Debian's Chromium against a real `sfs serve`.

The browser asks for Dutch (`Accept-Language: nl-NL`); the Organization Admin changes the
organisation settings and finds the change in the audit log, all in Dutch.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from sfs.app import build_services
from sfs.config import load_settings
from sfs.crypto.passwords import PasswordHasher
from sfs.domain.actor import operator
from sfs.domain.roles import Role
from tests.e2e.test_quick_start import RunningServer
from tests.support import FAST_HASH, GOOD_PASSWORD
from tests.world import CLIENT

ADMIN_EMAIL = "beheer@voorbeeld.example.com"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    data_dir = tmp_path / "sfs-data"
    running = RunningServer(data_dir)
    try:
        running.wait_until_ready()
        services = build_services(
            load_settings(data_dir=data_dir), hasher=PasswordHasher(FAST_HASH)
        )
        organisation = services.organisations.create(operator(), name="Voorbeeld BV", client=CLIENT)
        services.accounts.create_user(
            operator(),
            organization_id=organisation.id,
            email=ADMIN_EMAIL,
            display_name="Anna de Vries",
            password=GOOD_PASSWORD,
            role=Role.ORG_ADMIN,
            client=CLIENT,
        )
        services.database.dispose()
        yield running
    finally:
        running.stop()


@pytest.fixture
def dutch_page(browser: Browser, server: RunningServer) -> Iterator[Page]:
    """A browser that asks for Dutch (Chromium as the shared `browser` fixture launches it)."""
    context = browser.new_context(base_url=server.base_url, locale="nl-NL")
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


def test_an_organization_admin_walks_the_dutch_portal(dutch_page: Page) -> None:
    page = dutch_page
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.get_by_role("heading", name="Inloggen")).to_be_visible()
    page.get_by_label("E-mail").fill(ADMIN_EMAIL)
    page.get_by_label("Wachtwoord").fill(GOOD_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", name="Welkom, Anna de Vries")).to_be_visible()

    page.get_by_role("link", name="Organisatie-instellingen").click()
    expect(page.get_by_role("heading", name="Organisatie-instellingen")).to_be_visible()
    expect(page.get_by_label("Tweestapsverificatie verplichten")).not_to_be_checked()
    page.get_by_label("Minimale wachtwoordlengte").fill("16")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.get_by_role("status")).to_have_text("De instellingen zijn opgeslagen.")
    expect(page.get_by_label("Minimale wachtwoordlengte")).to_have_value("16")

    page.get_by_role("link", name="Auditlog").click()
    expect(page.get_by_role("heading", name="Auditlog")).to_be_visible()
    page.get_by_label("Soort gebeurtenis").select_option("organisation.policy_changed")
    page.get_by_role("button", name="Filteren").click()
    rows = page.locator("table.events tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(ADMIN_EMAIL)
    expect(rows.first).to_contain_text("min_password_length")
    expect(page.get_by_role("columnheader", name="Uitgevoerd door")).to_be_visible()
    expect(page.get_by_role("link", name="CSV downloaden")).to_be_visible()
