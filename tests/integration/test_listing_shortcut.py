"""The folder listing answered before FastAPI's router (web/api/listing_shortcut.py) answers as
the documented route does: the same status, headers and bytes, errors included, for every
caller and every space, their own and other organisations' alike.

Each request is sent twice: once just after the caller's credential was forgotten (the clock
moved past the time a checked token is remembered), which the shortcut leaves to the route,
and once again at once, which the shortcut answers itself when it can. Which of them answered
is counted, so the comparison cannot pass by the route answering both.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.web.api import listing_shortcut
from tests.door_world import API, Headers, World, build_world
from tests.signed_in import make_provider_admin
from tests.support import FakeClock
from tests.world import CLIENT, actor, make_tenant

ROUTE = f"{API}/spaces/{{space}}/children"


@dataclass(frozen=True)
class Ask:
    who: str  # a key of `callers`
    space: str
    query: str = ""  # the raw query string
    shortcut: bool = True  # whether the shortcut should answer the second time

    def url(self) -> str:
        return f"{API}/spaces/{self.space}/children" + (f"?{self.query}" if self.query else "")


@pytest.fixture
def world(client: TestClient, services: Services) -> World:
    return build_world(client, services)


def _ok(answer: httpx.Response) -> dict[str, str]:
    assert answer.status_code in (200, 201, 204), answer.text
    return answer.json() if answer.content else {}


def _shown(answer: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    """Everything a client receives, but the request's own id (which must be there)."""
    assert answer.headers.get("x-request-id")
    headers = [(k, v) for k, v in answer.headers.multi_items() if k != "x-request-id"]
    return answer.status_code, answer.content, headers


def _counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many listings the shortcut worked out (not the route: it calls its own import)."""
    calls = [0]
    original: Callable[..., bytes] = listing_shortcut.children_json

    def counting(*args: object) -> bytes:
        calls[0] += 1
        return original(*args)

    monkeypatch.setattr(listing_shortcut, "children_json", counting)
    return calls


def test_the_shortcut_answers_every_listing_as_the_documented_route(
    client: TestClient,
    services: Services,
    world: World,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alice, admin = world.alice, world.acme_admin

    def call(who: Headers, method: str, url: str, **kwargs: object) -> dict[str, str]:
        return _ok(client.request(method, API + url, headers=who, **kwargs))  # type: ignore[arg-type]

    call(alice, "POST", "/spaces/me/folders", json={"path": "/Docs"})
    call(alice, "POST", "/spaces/me/folders", json={"path": "/Docs/Deep"})
    call(alice, "PUT", "/spaces/me/content", params={"path": "/Docs/a b.txt"}, content=b"1")
    call(alice, "PUT", "/spaces/me/content", params={"path": "/notes.txt"}, content=b"22")
    call(alice, "PUT", "/spaces/me/content", params={"path": "/gone.txt"}, content=b"3")
    call(alice, "DELETE", "/spaces/me/node", params={"path": "/gone.txt"})
    own = call(alice, "GET", "/spaces")[0]["id"]  # type: ignore[index]
    team = call(admin, "POST", "/team-folders", json={"name": "Plans"})["id"]
    call(
        admin,
        "PUT",
        f"/team-folders/{team}/members",
        json={"email": world.alice_email, "role": "viewer"},
    )
    call(admin, "POST", "/spaces/me/folders", json={"path": "/Out"})
    call(admin, "PUT", "/spaces/me/content", params={"path": "/Out/x.txt"}, content=b"x")
    to_alice = {"with_user": world.alice_email}
    shared_folder = call(admin, "POST", "/spaces/me/shares", json={"path": "/Out", **to_alice})
    shared_file = call(admin, "POST", "/spaces/me/shares", json={"path": "/Out/x.txt", **to_alice})
    provider = make_provider_admin(services)
    provider_token = services.device_tokens.issue(
        actor(services, provider), device_name="laptop", client=CLIENT
    )
    callers: dict[str, Headers] = {
        "alice": alice,
        "admin": admin,
        "provider": {"Authorization": f"Bearer {provider_token.secret}"},
        "lower-case scheme": {"Authorization": alice["Authorization"].replace("Bearer", "bearer")},
        "nobody": {},
        "made-up token": {"Authorization": "Bearer sfs_" + "x" * 43},
        "basic": {"Authorization": "Basic YWxpY2U6c2VjcmV0"},
    }
    asks = [
        Ask("alice", "me"),
        Ask("alice", "me", "path=/"),
        Ask("alice", "me", "path=%2FDocs"),
        Ask("alice", "me", "path=/Docs/"),
        Ask("alice", "me", "path=/docs/deep"),
        Ask("alice", "me", "path=/Docs/a+b.txt"),  # a file: 422
        Ask("alice", "me", "path=/notes.txt"),
        Ask("alice", "me", "path=/gone.txt"),  # in the trash: 404
        Ask("alice", "me", "path=/missing/deeper"),
        Ask("alice", "me", "path=/../admin"),  # traversal: 422
        Ask("alice", "me", "path=/Docs/../notes.txt"),
        Ask("alice", "me", "path=%00"),
        Ask("alice", "me", "path=%ff"),
        Ask("alice", "me", "path="),
        Ask("alice", "me", "path"),
        Ask("alice", "me", "path=/" + "a" * 4095),  # at the route's limit
        Ask("alice", "me", "path=/" + "a" * 5000, shortcut=False),  # over the route's limit
        Ask("alice", "me", "path=/Docs&path=/", shortcut=False),
        Ask("alice", "me", "path=/&sort=name", shortcut=False),
        Ask("alice", own),
        Ask("alice", own.upper()),
        Ask("alice", team),
        Ask("alice", shared_folder["id"]),
        Ask("alice", shared_folder["id"], "path=/x.txt"),
        Ask("alice", shared_file["id"]),  # a shared file is no folder: 422
        Ask("alice", world.private.space),  # Bob's My Files
        Ask("alice", world.private.team_folder),
        Ask("alice", world.private.share),
        Ask("alice", world.foreign.space),
        Ask("alice", world.foreign.team_folder, "path=/"),
        Ask("alice", world.foreign.share),
        Ask("alice", world.nowhere.space),
        Ask("alice", "not-a-space", shortcut=False),
        Ask("alice", "ME", shortcut=False),
        Ask("alice", own + "x", shortcut=False),
        Ask("admin", "me"),
        Ask("admin", own),  # a member's My Files: not the admin's to read
        Ask("admin", team),
        Ask("admin", world.foreign.space),
        Ask("admin", world.private.team_folder),
        Ask("admin", shared_folder["id"]),  # shared by the admin, with Alice
        Ask("provider", "me"),  # provider administrators have no files: 403
        Ask("provider", own),
        Ask("lower-case scheme", "me"),
        Ask("nobody", "me", shortcut=False),
        Ask("made-up token", "me", shortcut=False),
        Ask("basic", "me", shortcut=False),
    ]
    # A token's first use stamps it as used, which forgets what was remembered: used once here.
    assert client.get(f"{API}/spaces/me/children", headers=callers["provider"]).status_code == 403
    counted = _counted(monkeypatch)
    statuses = set()
    for ask in asks:
        who = callers[ask.who]
        clock.advance(seconds=services.settings.credential_cache_seconds)
        before = counted[0]
        documented = client.get(ask.url(), headers=who)
        assert counted[0] == before, f"the route did not answer {ask}"
        again = client.get(ask.url(), headers=who)
        assert counted[0] == before + ask.shortcut, f"who answered {ask} again?"
        assert _shown(again) == _shown(documented), ask
        statuses.add(documented.status_code)
    assert statuses == {200, 401, 403, 404, 422}
    # Both counted in the metrics under the route's template, as the router counts it.
    metrics = services.metrics.registry
    counted_requests = sum(
        metrics.get_sample_value(
            "sfs_http_requests_total", {"method": "GET", "route": ROUTE, "status": str(status)}
        )
        or 0
        for status in statuses
    )
    assert counted_requests >= 2 * len(asks)


def test_a_revoked_token_is_refused_by_the_shortcut_at_once(
    client: TestClient, services: Services, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = _counted(monkeypatch)
    url = f"{API}/spaces/me/children"
    assert client.get(url, headers=world.alice).status_code == 200
    assert client.get(url, headers=world.alice).status_code == 200
    assert counted[0] >= 1  # remembered, so the shortcut answered
    device = client.get(f"{API}/devices", headers=world.alice).json()[0]["id"]
    _ok(client.delete(f"{API}/devices/{device}", headers=world.alice))
    refused = client.get(url, headers=world.alice)
    assert (refused.status_code, refused.json()["code"]) == (401, "not_authenticated")


def test_a_space_id_is_never_taken_for_another_caller_s(client: TestClient, world: World) -> None:
    """Two callers remembered at once each see their own My Files, and only theirs."""
    url = f"{API}/spaces/me/children"
    _ok(client.put(f"{API}/spaces/me/content?path=/mine.txt", headers=world.alice, content=b"1"))
    for _ in range(2):
        names = {n["name"] for n in client.get(url, headers=world.alice).json()}
        admins = {n["name"] for n in client.get(url, headers=world.acme_admin).json()}
        assert "mine.txt" in names and "mine.txt" not in admins
        elsewhere = client.get(f"{API}/spaces/{uuid.uuid4()}/children", headers=world.alice)
        assert elsewhere.status_code == 404


def test_a_first_listing_of_my_files_creates_them_and_later_ones_only_read(
    client: TestClient, services: Services
) -> None:
    """The shortcut lists on the event loop only what only reads: not the first "me", which
    creates My Files (a write, which may wait for the database's lock)."""
    acme = make_tenant(services, "Acme")
    user = actor(services, acme.user)
    token = services.device_tokens.issue(user, device_name="laptop", client=CLIENT)
    headers = {"Authorization": f"Bearer {token.secret}"}
    for _ in range(2):  # the token remembered, so the shortcut answers the listing
        assert client.get(f"{API}/me", headers=headers).status_code == 200
    assert not services.spaces.resolves_without_writing(user, "me")
    listed = client.get(f"{API}/spaces/me/children", headers=headers)
    assert (listed.status_code, listed.json()) == (200, [])
    assert services.spaces.resolves_without_writing(user, "me")
    assert services.spaces.resolves_without_writing(user, str(uuid.uuid4()))
