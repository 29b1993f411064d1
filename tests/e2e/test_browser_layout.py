"""Every portal page at a desktop (1,280 px) and a phone (390 px) width, in Debian's Chromium.

No page may be wider than the window (`scrollWidth <= innerWidth`), even with long names in it;
the menu collapses behind a button on the phone; axe-core (from the npm registry, see
`tests/e2e/axe.py`) finds no serious or critical problem. Screenshots of the main pages are kept
in `test-artifacts/screenshots/` (ignored by git) for a person to look at.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from sfs.domain.actor import operator
from sfs.metadata.models import User
from sfs.services.identity.actors import actor_of
from tests.e2e.axe import axe_source, serious_violations
from tests.e2e.browser_support import Portal, log_in
from tests.support import GOOD_PASSWORD
from tests.world import CLIENT

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
# A display name, a team folder and a group as long as the server accepts, without spaces: the
# pages must wrap or ellipsise them, never grow sideways.
LONG = "Wolfeschlegelsteinhausenbergerdorff" * 3
PROVIDER_EMAIL = "provider@layout.example.com"
MAIN_PAGES = {"/", "/accounts", "/audit", "/account", "/enrol", "/enrol/totp", "/logout"}


@dataclass
class Site:
    """What the pages show: ids of things with long names, made once for the module."""

    portal: Portal
    user_id: uuid.UUID
    team_folder_id: uuid.UUID
    group_id: uuid.UUID


@pytest.fixture(scope="module")
def site(portal: Portal) -> Site:
    services = portal.services
    services.accounts.create_provider_admin(
        operator(),
        email=PROVIDER_EMAIL,
        display_name="Petra Provider",
        password=GOOD_PASSWORD,
        client=CLIENT,
    )
    user = services.accounts.create_user(
        operator(),
        organization_id=portal.organization_id,
        email=f"{'x' * 60}@long-domain-name-for-layout.example.com",
        display_name=LONG[:100],
        password=GOOD_PASSWORD,
        client=CLIENT,
    )
    with services.database.transaction() as session:
        admin = session.query(User).filter_by(email=portal.admin_email).one()
        acting = actor_of(admin)
    folder = services.team_folders.create(acting, LONG[:100], client=CLIENT)
    group = services.groups.create(acting, LONG[:90], client=CLIENT)
    services.groups.add_member(acting, group.id, email=user.email, client=CLIENT)
    return Site(portal, user.id, folder.id, group.id)


def admin_pages(site: Site) -> list[str]:
    user, folder, group = site.user_id, site.team_folder_id, site.group_id
    return [
        "/",
        "/files",  # the Files page is another branch's; here it is only measured
        "/accounts",
        "/accounts/new",
        f"/accounts/{user}",
        f"/accounts/{user}/password",
        f"/accounts/{user}/delete",
        f"/accounts/{user}/devices",
        "/audit",
        "/organisation",
        "/organisation/links",
        "/organisation/link-policy",
        "/organisation/team-folders",
        f"/organisation/team-folders/{folder}",
        f"/organisation/groups/{group}",
        "/account",
        "/account/password",
        "/account/devices",
        "/enrol",
        "/enrol/totp",
        "/logout",
    ]


@pytest.fixture(params=sorted(WIDTHS))
def sized_page(request: pytest.FixtureRequest, browser: Browser, portal: Portal) -> Iterator[Page]:
    width, height = WIDTHS[request.param]
    # bypass_csp: axe-core is injected as an inline script, which the portal's CSP forbids.
    context = browser.new_context(
        base_url=portal.server.base_url,
        viewport={"width": width, "height": height},
        bypass_csp=True,
    )
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


def _width_name(page: Page) -> str:
    size = page.viewport_size
    assert size is not None
    return "phone" if size["width"] < 600 else "desktop"


def _overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0 when it fits)."""
    wider: int = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return wider


def _screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    slug = name.strip("/").replace("/", "_") or "home"
    page.screenshot(path=str(SCREENSHOTS / f"{slug}-{_width_name(page)}.png"), full_page=True)


def _visit_all(page: Page, paths: list[str], *, shots: set[str]) -> Iterator[str]:
    for path in paths:
        answer = page.goto(path)
        assert answer is not None and answer.status == 200, f"{path}: {answer and answer.status}"
        if path in shots:
            _screenshot(page, path)
        yield path


def test_no_page_is_wider_than_the_window(sized_page: Page, site: Site) -> None:
    missing: list[str] = []  # anything a page asks for (the favicon too) must be there
    sized_page.on(
        "response", lambda answer: missing.append(answer.url) if answer.status == 404 else None
    )
    log_in(sized_page, site.portal.admin_email, GOOD_PASSWORD)
    too_wide = {
        path: _overflow(sized_page)
        for path in _visit_all(sized_page, admin_pages(site), shots=MAIN_PAGES)
        if _overflow(sized_page) > 0
    }
    assert too_wide == {}, f"pages wider than the window by so many pixels: {too_wide}"
    assert missing == []
    favicon = sized_page.request.get("/favicon.ico")
    assert favicon.status == 200 and favicon.headers["content-type"].startswith("image/svg+xml")


def test_the_provider_console_fits(sized_page: Page, site: Site) -> None:
    log_in(sized_page, PROVIDER_EMAIL, GOOD_PASSWORD)
    for path in _visit_all(sized_page, ["/", "/provider", "/audit"], shots={"/provider"}):
        assert _overflow(sized_page) == 0, path


def test_pages_before_login_fit(sized_page: Page, site: Site) -> None:
    for path in _visit_all(sized_page, ["/login", "/password/forgot"], shots={"/login"}):
        assert _overflow(sized_page) == 0, path


def test_the_menu_collapses_behind_a_button_on_a_phone(sized_page: Page, site: Site) -> None:
    log_in(sized_page, site.portal.admin_email, GOOD_PASSWORD)
    settings = sized_page.get_by_role("link", name="Organisation settings")
    button = sized_page.locator("label.menu-button")
    if _width_name(sized_page) == "desktop":
        assert settings.is_visible() and not button.is_visible()
        return
    assert button.is_visible() and not settings.is_visible()
    sized_page.keyboard.press("Tab")  # the logo link, then the menu button: keyboard works
    sized_page.keyboard.press("Tab")
    sized_page.keyboard.press("Space")
    assert settings.is_visible()
    box = settings.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    settings.click()
    assert sized_page.url.endswith("/organisation")


def test_tables_become_labelled_lists_on_a_phone(sized_page: Page, site: Site) -> None:
    log_in(sized_page, site.portal.admin_email, GOOD_PASSWORD)
    sized_page.goto("/accounts")
    row_display = sized_page.locator("table.accounts tbody tr").first.evaluate(
        "row => getComputedStyle(row).display"
    )
    if _width_name(sized_page) == "desktop":
        assert row_display == "table-row"
        return
    assert row_display == "block"
    label = sized_page.locator("table.accounts td[data-label]").first.evaluate(
        "cell => getComputedStyle(cell, '::before').content"
    )
    assert label == '"Name: "'


def test_no_page_has_serious_accessibility_problems(sized_page: Page, site: Site) -> None:
    source = axe_source()
    log_in(sized_page, site.portal.admin_email, GOOD_PASSWORD)
    problems: dict[str, list[str]] = {}
    for path in _visit_all(
        sized_page, [p for p in admin_pages(site) if p != "/files"], shots=set()
    ):
        found = serious_violations(sized_page, source)
        if found:
            problems[path] = found
    sized_page.context.clear_cookies()
    for path in _visit_all(sized_page, ["/login", "/password/forgot"], shots=set()):
        found = serious_violations(sized_page, source)
        if found:
            problems[path] = found
    assert problems == {}, problems


def test_the_long_dutch_labels_fit_on_a_phone(browser: Browser, portal: Portal, site: Site) -> None:
    context = browser.new_context(
        base_url=portal.server.base_url, viewport={"width": 390, "height": 844}, locale="nl-NL"
    )
    page = context.new_page()
    try:
        page.goto("/login")
        page.get_by_label("E-mail").fill(portal.admin_email)
        page.get_by_label("Wachtwoord").fill(GOOD_PASSWORD)
        page.locator("form[action='/login'] button[type=submit]").click()
        page.wait_for_url("**/")
        page.get_by_text("Menu").click()
        for name in ("Organisatie-instellingen", "Auditlog", "Uitloggen"):
            bar = page.get_by_role("banner")
            kind = "button" if name == "Uitloggen" else "link"
            target = bar.get_by_role(kind, name=name)
            box = target.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, name
            # never cut off: the whole label is as wide as its text needs
            assert target.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), name
        _screenshot(page, "/menu-nl")
        assert _overflow(page) == 0
    finally:
        context.close()
