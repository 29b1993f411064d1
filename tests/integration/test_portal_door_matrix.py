"""Every portal route x another organisation's ids x another member's private ids x each role.

The same world and rule as the REST matrix (`test_rest_door_matrix.py`): Alice, an ordinary
member of Acme, and Acme's admin, each signed in to the portal in a browser of their own, aim every
page and form that takes an id (in its path, its `?space=` or its form) at Globex's ids and at
Bob's, with a valid CSRF token. Each answer must be the answer an id that exists nowhere gets
(status, redirect and page text, the ids swapped), and nothing in the database may change.

`test_every_portal_route_is_in_the_matrix` fails until a new route is listed in `AIMED` or in
`NOTHING_TO_AIM` (with why it takes no one else's id).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from sfs.app import Services
from sfs.web.server import create_app
from tests.door_world import Ids, World, as_if_nowhere, build_world, database_state
from tests.signed_in import log_in, page_csrf_token


@dataclass(frozen=True)
class Visit:
    method: str
    url: str
    form: dict[str, str | list[str]] = field(default_factory=dict)
    content: bytes | None = None  # a raw body (files.js's upload), with the token in a header


Aim = Callable[[Ids], list[Visit]]


def _in(t: Ids, url: str, **form: str | list[str]) -> Visit:
    """A form posted to `url` in the target's space."""
    return Visit("POST", f"{url}?space={t.space}", form)


def _both(t: Ids, url: str, **form: str | list[str]) -> list[Visit]:
    """A trash id of the target's, in the target's space and in one's own My Files."""
    return [Visit("POST", f"{url}?space={t.space}", form), Visit("POST", url, form)]


# Kinds of id the organisation's admin manages in their own organisation.
ADMIN_MANAGES = {"user", "group", "team_folder", "team_member", "link"}

AIMED: dict[tuple[str, str], tuple[set[str], Aim]] = {
    # My account: one's own sessions and devices.
    ("POST", "/account/sessions/{handle}/revoke"): (
        {"session"},
        lambda t: [Visit("POST", f"/account/sessions/{t.session}/revoke")],
    ),
    ("POST", "/account/devices/{device_id}/revoke"): (
        {"device"},
        lambda t: [Visit("POST", f"/account/devices/{t.device}/revoke")],
    ),
    ("POST", "/account/devices/{device_id}/forget"): (
        {"device"},
        lambda t: [Visit("POST", f"/account/devices/{t.device}/forget")],
    ),
    ("GET", "/account/devices/{device_id}/wipe"): (
        {"device"},
        lambda t: [Visit("GET", f"/account/devices/{t.device}/wipe")],
    ),
    ("POST", "/account/devices/{device_id}/wipe"): (
        {"device"},
        lambda t: [Visit("POST", f"/account/devices/{t.device}/wipe")],
    ),
    ("POST", "/account/devices/sessions/{handle}/end"): (
        {"session"},
        lambda t: [Visit("POST", f"/account/devices/sessions/{t.session}/end")],
    ),
    # Accounts (the organisation's admin): a person and their devices.
    ("GET", "/accounts/{user_id}"): ({"user"}, lambda t: [Visit("GET", f"/accounts/{t.user}")]),
    ("GET", "/accounts/{user_id}/password"): (
        {"user"},
        lambda t: [Visit("GET", f"/accounts/{t.user}/password")],
    ),
    ("POST", "/accounts/{user_id}/password"): (
        {"user"},
        lambda t: [
            Visit(
                "POST",
                f"/accounts/{t.user}/password",
                {"new_password": "Taken-Over-2026!x", "confirm_password": "Taken-Over-2026!x"},
            )
        ],
    ),
    ("GET", "/accounts/{user_id}/second-factor"): (
        {"user"},
        lambda t: [Visit("GET", f"/accounts/{t.user}/second-factor")],
    ),
    ("POST", "/accounts/{user_id}/second-factor"): (
        {"user"},
        lambda t: [Visit("POST", f"/accounts/{t.user}/second-factor")],
    ),
    ("POST", "/accounts/{user_id}/role"): (
        {"user"},
        lambda t: [Visit("POST", f"/accounts/{t.user}/role", {"role": "org_admin"})],
    ),
    ("POST", "/accounts/{user_id}/disable"): (
        {"user"},
        lambda t: [Visit("POST", f"/accounts/{t.user}/disable")],
    ),
    ("POST", "/accounts/{user_id}/enable"): (
        {"user"},
        lambda t: [Visit("POST", f"/accounts/{t.user}/enable")],
    ),
    ("POST", "/accounts/{user_id}/invitation"): (
        {"user"},
        lambda t: [Visit("POST", f"/accounts/{t.user}/invitation")],
    ),
    ("GET", "/accounts/{user_id}/delete"): (
        {"user"},
        lambda t: [Visit("GET", f"/accounts/{t.user}/delete")],
    ),
    ("POST", "/accounts/{user_id}/delete"): (
        {"user"},
        lambda t: [Visit("POST", f"/accounts/{t.user}/delete", {"confirm_email": t.email})],
    ),
    ("GET", "/accounts/{user_id}/devices"): (
        {"user"},
        lambda t: [Visit("GET", f"/accounts/{t.user}/devices")],
    ),
    ("POST", "/accounts/{user_id}/devices/{device_id}/forget"): (
        {"user"},
        lambda t: [Visit("POST", f"/accounts/{t.user}/devices/{t.device}/forget")],
    ),
    ("GET", "/accounts/{user_id}/devices/{device_id}/wipe"): (
        {"user"},
        lambda t: [Visit("GET", f"/accounts/{t.user}/devices/{t.device}/wipe")],
    ),
    ("POST", "/accounts/{user_id}/devices/{device_id}/wipe"): (
        {"user"},
        lambda t: [Visit("POST", f"/accounts/{t.user}/devices/{t.device}/wipe")],
    ),
    ("POST", "/accounts/{user_id}/devices/sessions/{handle}/end"): (
        {"user"},
        lambda t: [Visit("POST", f"/accounts/{t.user}/devices/sessions/{t.session}/end")],
    ),
    ("POST", "/accounts/{user_id}/devices/sign-out-everywhere"): (
        {"user"},
        lambda t: [Visit("POST", f"/accounts/{t.user}/devices/sign-out-everywhere")],
    ),
    # Team folders and groups (the organisation's admin).
    ("GET", "/organisation/team-folders/{folder_id}"): (
        {"team_folder"},
        lambda t: [Visit("GET", f"/organisation/team-folders/{t.team_folder}")],
    ),
    ("POST", "/organisation/team-folders/{folder_id}/rename"): (
        {"team_folder"},
        lambda t: [
            Visit("POST", f"/organisation/team-folders/{t.team_folder}/rename", {"name": "Mine"})
        ],
    ),
    ("POST", "/organisation/team-folders/{folder_id}/delete"): (
        {"team_folder"},
        lambda t: [Visit("POST", f"/organisation/team-folders/{t.team_folder}/delete")],
    ),
    ("POST", "/organisation/team-folders/{folder_id}/members"): (
        {"team_folder"},
        lambda t: [
            Visit(
                "POST",
                f"/organisation/team-folders/{t.team_folder}/members",
                {"member": t.email, "role": "manager"},
            )
        ],
    ),
    ("POST", "/organisation/team-folders/{folder_id}/members/{member_id}/remove"): (
        {"team_folder", "team_member"},
        lambda t: [
            Visit(
                "POST", f"/organisation/team-folders/{t.team_folder}/members/{t.team_member}/remove"
            )
        ],
    ),
    ("GET", "/organisation/groups/{group_id}"): (
        {"group"},
        lambda t: [Visit("GET", f"/organisation/groups/{t.group}")],
    ),
    ("POST", "/organisation/groups/{group_id}/rename"): (
        {"group"},
        lambda t: [Visit("POST", f"/organisation/groups/{t.group}/rename", {"name": "Mine"})],
    ),
    ("POST", "/organisation/groups/{group_id}/delete"): (
        {"group"},
        lambda t: [Visit("POST", f"/organisation/groups/{t.group}/delete")],
    ),
    ("POST", "/organisation/groups/{group_id}/members"): (
        {"group"},
        lambda t: [Visit("POST", f"/organisation/groups/{t.group}/members", {"email": t.email})],
    ),
    ("POST", "/organisation/groups/{group_id}/members/{user_id}/remove"): (
        {"group", "user"},
        lambda t: [Visit("POST", f"/organisation/groups/{t.group}/members/{t.user}/remove")],
    ),
    # The provider's console: no organisation's admin or member may act on any organisation.
    ("POST", "/provider/organisations/{organization_id}/suspend"): (
        {"organisation"},
        lambda t: [Visit("POST", f"/provider/organisations/{t.organisation}/suspend")],
    ),
    ("POST", "/provider/organisations/{organization_id}/reactivate"): (
        {"organisation"},
        lambda t: [Visit("POST", f"/provider/organisations/{t.organisation}/reactivate")],
    ),
    # Files: a space travels as `?space=`.
    ("GET", "/files"): ({"space"}, lambda t: [Visit("GET", f"/files?space={t.space}")]),
    ("GET", "/files/{path:path}"): (
        {"space"},
        lambda t: [Visit("GET", f"/files/secret.txt?space={t.space}")],
    ),
    ("POST", "/file/new-folder"): ({"space"}, lambda t: [_in(t, "/file/new-folder", name="x")]),
    ("POST", "/file/new-folder/{folder:path}"): (
        {"space"},
        lambda t: [_in(t, "/file/new-folder/Shared", name="planted")],
    ),
    ("GET", "/file/rename/{path:path}"): (
        {"space"},
        lambda t: [Visit("GET", f"/file/rename/secret.txt?space={t.space}")],
    ),
    ("POST", "/file/rename/{path:path}"): (
        {"space"},
        lambda t: [_in(t, "/file/rename/secret.txt", name="renamed.txt")],
    ),
    ("GET", "/file/move/{path:path}"): (
        {"space"},
        lambda t: [Visit("GET", f"/file/move/secret.txt?space={t.space}")],
    ),
    ("POST", "/file/move/{path:path}"): (
        {"space"},
        lambda t: [_in(t, "/file/move/secret.txt", folder="/Shared")],
    ),
    ("POST", "/file/delete/{path:path}"): (
        {"space"},
        lambda t: [_in(t, "/file/delete/secret.txt")],
    ),
    ("POST", "/file/upload"): (
        {"space"},
        lambda t: [_in(t, "/file/upload")],
    ),
    ("POST", "/file/upload/{folder:path}"): (
        {"space"},
        lambda t: [_in(t, "/file/upload/Shared")],
    ),
    ("PUT", "/file/upload/{path:path}"): (
        {"space"},
        lambda t: [Visit("PUT", f"/file/upload/planted.txt?space={t.space}", content=b"x")],
    ),
    ("GET", "/file/versions/{path:path}"): (
        {"space"},
        lambda t: [Visit("GET", f"/file/versions/secret.txt?space={t.space}")],
    ),
    ("POST", "/file/versions/{path:path}"): (
        {"space"},
        lambda t: [_in(t, "/file/versions/secret.txt", number="1")],
    ),
    ("GET", "/file/trash"): ({"space"}, lambda t: [Visit("GET", f"/file/trash?space={t.space}")]),
    ("POST", "/file/trash/{node_id}/restore"): (
        {"space", "trashed"},
        lambda t: _both(t, f"/file/trash/{t.trashed}/restore"),
    ),
    ("GET", "/file/trash/{node_id}/purge"): (
        {"space", "trashed"},
        lambda t: [
            Visit("GET", f"/file/trash/{t.trashed}/purge?space={t.space}"),
            Visit("GET", f"/file/trash/{t.trashed}/purge"),
        ],
    ),
    ("POST", "/file/trash/{node_id}/purge"): (
        {"space", "trashed"},
        lambda t: _both(t, f"/file/trash/{t.trashed}/purge"),
    ),
    ("POST", "/file/selection"): (
        {"space"},
        lambda t: [_in(t, "/file/selection", action="delete", items=["secret.txt"])],
    ),
    ("POST", "/file/selection/{folder:path}"): (
        {"space"},
        lambda t: [_in(t, "/file/selection/Shared", action="zip", items=["secret.txt"])],
    ),
    ("GET", "/file/thumbnail/{path:path}"): (
        {"space"},
        lambda t: [Visit("GET", f"/file/thumbnail/secret.txt?space={t.space}")],
    ),
    # Links and shares.
    ("GET", "/file/share/{path:path}"): (
        {"space"},
        lambda t: [Visit("GET", f"/file/share/secret.txt?space={t.space}")],
    ),
    ("POST", "/file/share/{path:path}"): (
        {"space"},
        lambda t: [_in(t, "/file/share/secret.txt")],
    ),
    ("POST", "/file/share-revoke/{link_id}"): (
        {"link"},
        lambda t: [Visit("POST", f"/file/share-revoke/{t.link}")],
    ),
    ("GET", "/file/share-edit/{link_id}"): (
        {"link"},
        lambda t: [Visit("GET", f"/file/share-edit/{t.link}")],
    ),
    ("POST", "/file/share-edit/{link_id}"): (
        {"link"},
        lambda t: [Visit("POST", f"/file/share-edit/{t.link}", {"max_downloads": "1000"})],
    ),
    ("GET", "/file/people/{path:path}"): (
        {"space"},
        lambda t: [Visit("GET", f"/file/people/Shared?space={t.space}")],
    ),
    ("POST", "/file/people/{path:path}"): (
        {"space"},
        lambda t: [_in(t, "/file/people/Shared", recipient=t.email, role="editor")],
    ),
    ("POST", "/file/people-role/{share_id}"): (
        {"share"},
        lambda t: [Visit("POST", f"/file/people-role/{t.share}", {"role": "editor"})],
    ),
    ("POST", "/file/people-remove/{share_id}"): (
        {"share"},
        lambda t: [Visit("POST", f"/file/people-remove/{t.share}")],
    ),
    ("GET", "/shared/{share_id}"): ({"share"}, lambda t: [Visit("GET", f"/shared/{t.share}")]),
    ("GET", "/shared/{share_id}/{path:path}"): (
        {"share"},
        lambda t: [Visit("GET", f"/shared/{t.share}/secret.txt")],
    ),
}

_SECRET = "an unguessable secret handed to one person, not an id; its own tests cover guessing"
_OWN = "the signed-in person's own"
_ORGANISATION = "the signed-in person's organisation"

NOTHING_TO_AIM: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): "no tenant data",
    ("GET", "/readyz"): "no tenant data",
    ("GET", "/metrics"): "no tenant data; a token of its own",
    ("GET", "/status.php"): "no tenant data",
    ("GET", "/favicon.ico"): "static",
    ("GET", "/"): _OWN + " home page",
    ("GET", "/login"): "signing in",
    ("POST", "/login"): "signing in",
    ("GET", "/logout"): _OWN + " session",
    ("POST", "/logout"): _OWN + " session",
    ("GET", "/login/verify"): _OWN + " login in progress",
    ("POST", "/login/verify"): _OWN + " login in progress",
    ("POST", "/login/verify/resend"): _OWN + " login in progress",
    ("GET", "/login/backup-key"): _OWN + " login in progress",
    ("POST", "/login/backup-key"): _OWN + " login in progress",
    ("GET", "/enrol"): _OWN + " enrolment",
    ("GET", "/enrol/{method}"): _OWN + " enrolment; method is totp or email",
    ("GET", "/enrol/{method}/resume"): _OWN + " enrolment",
    ("POST", "/enrol/{method}"): _OWN + " enrolment",
    ("POST", "/enrol/{method}/confirm"): _OWN + " enrolment",
    ("POST", "/enrol/totp/mailbox"): _OWN + " enrolment",
    ("POST", "/enrol/totp/mailbox/resend"): _OWN + " enrolment",
    ("POST", "/enrol/email/resend"): _OWN + " enrolment",
    ("GET", "/password/forgot"): "asks by email address; answers the same for any",
    ("POST", "/password/forgot"): "asks by email address; answers the same for any",
    ("GET", "/password/reset/{token}"): _SECRET,
    ("POST", "/password/reset/{token}"): _SECRET,
    ("GET", "/invitation/{token}"): _SECRET,
    ("POST", "/invitation/{token}"): _SECRET,
    ("GET", "/login/v2/flow/{token}"): _SECRET,
    ("POST", "/login/v2/flow/{token}"): _SECRET,
    ("POST", "/login/v2"): "starts a login flow",
    ("POST", "/login/v2/poll"): _SECRET,
    ("POST", "/index.php/login/v2"): "starts a login flow",
    ("POST", "/index.php/login/v2/poll"): _SECRET,
    ("POST", "/core/wipe/check"): "the presented app password's own device",
    ("POST", "/core/wipe/success"): "the presented app password's own device",
    ("POST", "/index.php/core/wipe/check"): "the presented app password's own device",
    ("POST", "/index.php/core/wipe/success"): "the presented app password's own device",
    ("GET", "/account"): _OWN,
    ("GET", "/account/password"): _OWN,
    ("POST", "/account/password"): _OWN,
    ("POST", "/account/language"): _OWN,
    ("GET", "/account/devices"): _OWN,
    ("POST", "/account/devices/app-passwords"): _OWN,
    ("POST", "/account/devices/sign-out-everywhere"): _OWN,
    ("GET", "/accounts"): _ORGANISATION,
    ("GET", "/accounts/new"): _ORGANISATION,
    ("POST", "/accounts/new"): _ORGANISATION,
    ("GET", "/organisation"): _ORGANISATION,
    ("POST", "/organisation"): _ORGANISATION,
    ("GET", "/organisation/team-folders"): _ORGANISATION,
    ("POST", "/organisation/team-folders"): _ORGANISATION,
    ("POST", "/organisation/groups"): _ORGANISATION,
    ("GET", "/organisation/links"): _ORGANISATION,
    ("GET", "/organisation/link-policy"): _ORGANISATION,
    ("POST", "/organisation/link-policy"): _ORGANISATION,
    ("GET", "/audit"): _ORGANISATION + "; filters are text",
    ("GET", "/audit.csv"): _ORGANISATION + "; filters are text",
    ("GET", "/provider"): "the provider's console, for provider admins only",
    ("POST", "/provider/organisations"): "creates an organisation; provider admins only",
    ("POST", "/provider/admins"): "creates a provider admin; provider admins only",
    ("GET", "/shared"): "shares with the signed-in person",
    ("GET", "/s/{token}"): _SECRET,
    ("POST", "/s/{token}/unlock"): _SECRET,
    ("GET", "/s/{token}/browse/{sub_path:path}"): _SECRET,
    ("GET", "/s/{token}/download"): _SECRET,
    ("GET", "/s/{token}/download/{sub_path:path}"): _SECRET,
    ("GET", "/s/{token}/preview"): _SECRET,
    ("GET", "/s/{token}/preview/{sub_path:path}"): _SECRET,
    ("GET", "/s/{token}/zip"): _SECRET,
    ("GET", "/s/{token}/zip/{sub_path:path}"): _SECRET,
    ("POST", "/s/{token}/upload"): _SECRET,
}

# Doors with a matrix of their own (they authenticate otherwise: bearer tokens, app passwords).
OWN_MATRIX = {
    "/api/v1": "tests/integration/test_rest_door_matrix.py",
    "/ocs/": "tests/integration/test_ocs_shares.py, test_nextcloud_tenancy.py",
    "/remote.php": "tests/integration/test_dav_tenancy.py",
}


def _walk(routes: list[object]) -> Iterator[Route]:
    for route in routes:
        original = getattr(route, "original_router", None)  # FastAPI's lazily included router
        if original is not None:
            yield from _walk(original.routes)
        elif isinstance(route, Route):
            yield route


def portal_routes(app: FastAPI) -> set[tuple[str, str]]:
    found = set()
    for route in _walk(list(app.router.routes)):
        if isinstance(route, Mount) or any(route.path.startswith(p) for p in OWN_MATRIX):
            continue
        for method in route.methods or ():
            if method != "HEAD":
                found.add((method, route.path))
    return found


def test_every_portal_route_is_in_the_matrix(services: Services) -> None:
    routes = portal_routes(create_app(services))
    assert not AIMED.keys() & NOTHING_TO_AIM.keys()
    assert routes - AIMED.keys() - NOTHING_TO_AIM.keys() == set(), "a new route: add it above"
    assert (AIMED.keys() | NOTHING_TO_AIM.keys()) - routes == set(), "a route is gone"


# --- the matrix ------------------------------------------------------------------------------


@dataclass
class Browser:
    client: TestClient
    csrf: str


@pytest.fixture
def world(client: TestClient, services: Services) -> World:
    return build_world(client, services)


@pytest.fixture
def browsers(client: TestClient, world: World) -> Iterator[dict[str, Browser]]:
    opened = {}
    for role, email in (("member", world.alice_email), ("admin", world.acme_admin_email)):
        browser = TestClient(client.app, base_url=str(client.base_url))
        browser.__enter__()
        log_in(browser, email)
        opened[role] = Browser(browser, page_csrf_token(browser, "/account"))
    yield opened
    for browser in opened.values():
        browser.client.__exit__(None, None, None)


_VARYING = re.compile(r'(nonce|value|content)="[^"]*"|csrf[^"<>]*"[^"]*"')


def _answer(browser: Browser, visit: Visit) -> tuple[int, str, str]:
    headers = {"X-CSRF-Token": browser.csrf} if visit.content is not None else {}
    data = {"csrf_token": browser.csrf, **visit.form} if visit.method == "POST" else None
    answer = browser.client.request(
        visit.method,
        visit.url,
        data=data,
        content=visit.content,
        headers=headers,
        follow_redirects=False,
    )
    main = re.search(r"<main.*?</main>", answer.text, re.DOTALL)
    text = _VARYING.sub("", main.group(0) if main else answer.text)
    return answer.status_code, answer.headers.get("location", ""), text


def _in_reach(role: str, case: str, kinds: set[str]) -> bool:
    """The organisation's own people, groups, team folders and links, which its admin manages."""
    return role == "admin" and case == "private" and kinds <= ADMIN_MANAGES


def test_ids_out_of_reach_are_answered_as_ids_that_exist_nowhere_and_change_nothing(
    services: Services, world: World, browsers: dict[str, Browser]
) -> None:
    before = database_state(services)
    wrong: list[str] = []
    answered: dict[int, int] = {}
    for route, (kinds, aim) in AIMED.items():
        for role, browser in browsers.items():
            for case, target in (("foreign", world.foreign), ("private", world.private)):
                if _in_reach(role, case, kinds):
                    continue
                for aimed, made_up in zip(aim(target), aim(world.nowhere), strict=True):
                    status, location, text = _answer(browser, aimed)
                    seen = (
                        status,
                        *(as_if_nowhere(x, target, world.nowhere) for x in (location, text)),
                    )
                    unknown = _answer(browser, made_up)
                    said = f"{role} {case} {aimed.method} {aimed.url}: {status} {location}"
                    answered[status] = answered.get(status, 0) + 1
                    if status < 400:  # a redirect to /login too: the browser was signed out
                        wrong.append(f"not refused: {said}")
                    elif seen != unknown:
                        wrong.append(
                            f"answered unlike an id that is nowhere ({unknown[:2]}): {said}"
                        )
        changed = [t for t, rows in database_state(services).items() if rows != before.get(t)]
        if changed:
            wrong.append(f"{route} changed {changed}")
            before = database_state(services)
    assert wrong == [], "\n".join(wrong)
    assert sum(answered.values()) > 3 * len(AIMED), answered
    print(answered)
