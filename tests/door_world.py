"""The world the door matrices aim at: two organisations, the things one account and its
organisation hold (made through the REST API, as a user would), ids of the same shapes that exist
nowhere, and a snapshot of the database to prove a refusal changed nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from sfs.app import Services
from sfs.metadata.models import Base, WebSession
from sfs.services.identity.web_sessions import browser_handle
from tests.integration.test_api_http import token_for
from tests.integration.test_team_folders_api import add_user
from tests.signed_in import log_in
from tests.world import make_tenant

API = "/api/v1"
Headers = dict[str, str]


@dataclass(frozen=True)
class Ids:
    """What one target account and its organisation hold, as the API names them."""

    space: str
    node: str
    trashed: str
    chunk: str
    link: str
    share: str
    device: str
    user: str
    group: str
    team_folder: str
    team_member: str
    organisation: str
    session: str  # a browser session's handle, as the account's Devices page names it
    email: str  # someone the calls that add a person to a thing try to add


@dataclass(frozen=True)
class World:
    alice: Headers  # an ordinary member of Acme
    acme_admin: Headers
    alice_email: str
    acme_admin_email: str
    foreign: Ids  # Globex's member's, and Globex's
    private: Ids  # Bob's (Acme), and Acme's group and team folder that Alice is not in
    nowhere: Ids  # ids of the same shapes that exist nowhere


def _ok(answer: Any, *statuses: int) -> Any:
    assert answer.status_code in statuses, answer.text
    return answer.json() if answer.content else None


def _browser_session(client: TestClient, services: Services, email: str, user_id: str) -> str:
    """Signs `email` in to the portal in a browser of its own; the handle of that session."""
    with TestClient(client.app, base_url=str(client.base_url)) as browser:
        log_in(browser, email)
    with services.database.transaction() as session:
        rows = session.scalars(select(WebSession).where(WebSession.user_id == uuid.UUID(user_id)))
        return browser_handle(next(iter(rows)).id_hash)


def _holdings(
    client: TestClient,
    services: Services,
    owner_email: str,
    admin_email: str,
    colleague_email: str,
    outsider_email: str,
) -> Ids:
    """An account's private things (made as the owner) and its organisation's (by its admin)."""
    owner, admin = token_for(client, owner_email), token_for(client, admin_email)

    def call(who: Headers, method: str, url: str, **kwargs: Any) -> Any:
        return _ok(client.request(method, API + url, headers=who, **kwargs), 200, 201, 204)

    call(owner, "PUT", "/spaces/me/content", params={"path": "/secret.txt"}, content=b"top secret")
    call(owner, "PUT", "/spaces/me/content", params={"path": "/old.txt"}, content=b"old")
    call(owner, "DELETE", "/spaces/me/node", params={"path": "/old.txt"})
    call(owner, "POST", "/spaces/me/folders", json={"path": "/Shared"})
    space = call(owner, "GET", "/spaces")[0]["id"]
    manifest = call(owner, "GET", "/spaces/me/manifest", params={"path": "/secret.txt"})
    group = call(admin, "POST", "/groups", json={"name": "Board"})
    team = call(admin, "POST", "/team-folders", json={"name": "Finance"})
    team = call(
        admin,
        "PUT",
        f"/team-folders/{team['id']}/members",
        json={"email": colleague_email, "role": "editor"},
    )
    me = call(owner, "GET", "/me")
    return Ids(
        space=space,
        node=call(owner, "GET", "/spaces/me/node", params={"path": "/secret.txt"})["id"],
        trashed=call(owner, "GET", "/spaces/me/trash")[0]["id"],
        chunk=manifest["chunks"][0]["chunk_id"],
        link=call(owner, "POST", "/spaces/me/links", json={"path": "/secret.txt"})["link"]["id"],
        share=call(
            owner,
            "POST",
            "/spaces/me/shares",
            json={"path": "/Shared", "with_user": colleague_email},
        )["id"],
        device=call(owner, "GET", "/devices")[0]["id"],
        user=me["id"],
        group=group["id"],
        team_folder=team["id"],
        team_member=team["members"][0]["id"],
        organisation=me["organization_id"],
        session=_browser_session(client, services, owner_email, me["id"]),
        email=outsider_email,
    )


def build_world(client: TestClient, services: Services) -> World:
    acme, globex = make_tenant(services, "Acme"), make_tenant(services, "Globex")
    bob, dave = add_user(services, acme, "bob"), add_user(services, acme, "dave")
    gina = add_user(services, globex, "gina")
    alice = token_for(client, acme.user.email)
    acme_admin = token_for(client, acme.admin.email)
    private = _holdings(client, services, bob, acme.admin.email, dave, acme.user.email)
    foreign = _holdings(
        client, services, globex.user.email, globex.admin.email, gina, acme.user.email
    )
    for own in (alice, acme_admin):  # their My Files exist before the matrix (made at first use)
        _ok(client.get(f"{API}/spaces/me/children", headers=own), 200)
    # Alice's own email in `email`: the calls that add "someone" try to add her to their things.
    nowhere = replace(
        foreign,
        space=str(uuid.uuid4()),
        node=str(uuid.uuid4()),
        trashed=str(uuid.uuid4()),
        chunk="f" * 64,
        link=str(uuid.uuid4()),
        share=str(uuid.uuid4()),
        device=str(uuid.uuid4()),
        user=str(uuid.uuid4()),
        group=str(uuid.uuid4()),
        team_folder=str(uuid.uuid4()),
        team_member=str(uuid.uuid4()),
        organisation=str(uuid.uuid4()),
        session="0" * 32,
    )
    return World(
        alice=alice,
        acme_admin=acme_admin,
        alice_email=acme.user.email,
        acme_admin_email=acme.admin.email,
        foreign=foreign,
        private=private,
        nowhere=nowhere,
    )


ID_FIELDS = (
    "space",
    "node",
    "trashed",
    "chunk",
    "link",
    "share",
    "device",
    "user",
    "group",
    "team_folder",
    "team_member",
    "organisation",
    "session",
)


def as_if_nowhere(text: str, target: Ids, nowhere: Ids) -> str:
    """`text` with the aimed ids replaced by the made-up ones, so two answers compare."""
    for field in ID_FIELDS:
        text = text.replace(getattr(target, field), getattr(nowhere, field))
    return text


# Columns that change on any authenticated call (last use), not state a refusal could alter.
TOUCHED_ON_USE = {
    "last_used_at",
    "last_used_address",
    "user_agent",
    "last_seen_at",
    "last_login_at",
}
BOOKKEEPING_TABLES = {"audit_events", "background_jobs"}


def database_state(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    state = {}
    with services.database.transaction() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in BOOKKEEPING_TABLES:
                continue
            columns = [c for c in table.columns if c.name not in TOUCHED_ON_USE]
            rows = session.execute(select(*columns)).all()
            state[table.name] = sorted(tuple(map(repr, row)) for row in rows)
    return state
