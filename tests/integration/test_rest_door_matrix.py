"""Every REST route x another organisation's ids x another member's private ids x each role.

Two organisations, each with an admin and members. Alice, an ordinary member of Acme, and Acme's
admin aim every route that takes an id (in its path, its query or its body) at ids that are not
theirs to reach:
- `foreign`: Globex's ids (its member's space, file, trashed file, chunk, link, share, device,
  its group, team folder and people);
- `private`: Bob's — another member of Acme — and, for Alice, Acme's group and team folder she
  is not in. Acme's admin manages the organisation's people, groups, team folders and may revoke
  any of its links, so those are not private from the admin (their own tests cover that power).

Each refused answer must be the answer an id that exists nowhere gets (no leak of whether the id
exists), must be a 4xx, and must change nothing in the database (every row of every table but the
audit trail and the last-use timestamps is compared before and after).

`test_every_route_is_in_the_matrix` makes a new route join: it fails until the route is listed in
`AIMED` (with the requests that aim it) or in `NOTHING_TO_AIM` (with why it takes no id).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.web.api.app import create_api
from tests.door_world import API, Headers, Ids, World, as_if_nowhere, build_world, database_state


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    json: Any = None
    params: dict[str, str] | None = None
    content: bytes | None = None


Aim = Callable[[Ids], list[Call]]

# Kinds of id the organisation's admin may manage in their own organisation (not private to them).
ADMIN_MANAGES = {"user", "group", "team_folder", "team_member", "link"}

MANIFEST_ENTRY = {"chunk_id": "", "size": 3}


def _commit(ids: Ids) -> dict[str, Any]:
    """A commit into one's own space that would link the target's chunk into a new file."""
    return {
        "path": "/borrowed.txt",
        "manifest": [{**MANIFEST_ENTRY, "chunk_id": ids.chunk}],
        "modified_at": "2026-01-01T00:00:00Z",
    }


# (method, route template) → (the kinds of id it is aimed with, the requests that aim them).
AIMED: dict[tuple[str, str], tuple[set[str], Aim]] = {
    ("DELETE", "/devices/{device_id}"): (
        {"device"},
        lambda t: [Call("DELETE", f"/devices/{t.device}")],
    ),
    ("GET", "/users/{user_id}"): ({"user"}, lambda t: [Call("GET", f"/users/{t.user}")]),
    ("GET", "/spaces/{space}/children"): (
        {"space"},
        lambda t: [Call("GET", f"/spaces/{t.space}/children")],
    ),
    ("GET", "/spaces/{space}/node"): (
        {"space"},
        lambda t: [Call("GET", f"/spaces/{t.space}/node", params={"path": "/secret.txt"})],
    ),
    ("POST", "/spaces/{space}/folders"): (
        {"space"},
        lambda t: [Call("POST", f"/spaces/{t.space}/folders", json={"path": "/planted"})],
    ),
    ("POST", "/spaces/{space}/folders/batch"): (
        {"space"},
        lambda t: [Call("POST", f"/spaces/{t.space}/folders/batch", json={"paths": ["/planted"]})],
    ),
    ("PUT", "/spaces/{space}/content"): (
        {"space"},
        lambda t: [
            Call("PUT", f"/spaces/{t.space}/content", params={"path": "/secret.txt"}, content=b"x")
        ],
    ),
    ("GET", "/spaces/{space}/content"): (
        {"space"},
        lambda t: [Call("GET", f"/spaces/{t.space}/content", params={"path": "/secret.txt"})],
    ),
    ("POST", "/spaces/{space}/move"): (
        {"space"},
        lambda t: [
            Call(
                "POST",
                f"/spaces/{t.space}/move",
                json={"source": "/secret.txt", "target": "/moved.txt"},
            )
        ],
    ),
    ("POST", "/spaces/{space}/copy"): (
        {"space"},
        lambda t: [
            Call(
                "POST",
                f"/spaces/{t.space}/copy",
                json={"source": "/secret.txt", "target": "/copied.txt"},
            )
        ],
    ),
    ("DELETE", "/spaces/{space}/node"): (
        {"space"},
        lambda t: [Call("DELETE", f"/spaces/{t.space}/node", params={"path": "/secret.txt"})],
    ),
    ("GET", "/spaces/{space}/versions"): (
        {"space"},
        lambda t: [Call("GET", f"/spaces/{t.space}/versions", params={"path": "/secret.txt"})],
    ),
    ("POST", "/spaces/{space}/versions/restore"): (
        {"space"},
        lambda t: [
            Call(
                "POST",
                f"/spaces/{t.space}/versions/restore",
                json={"path": "/secret.txt", "number": 1},
            )
        ],
    ),
    ("GET", "/spaces/{space}/trash"): (
        {"space"},
        lambda t: [Call("GET", f"/spaces/{t.space}/trash")],
    ),
    ("POST", "/spaces/{space}/trash/{node_id}/restore"): (
        {"space", "trashed"},
        lambda t: [
            Call("POST", f"/spaces/{t.space}/trash/{t.trashed}/restore"),
            Call("POST", f"/spaces/me/trash/{t.trashed}/restore"),
        ],
    ),
    ("DELETE", "/spaces/{space}/trash/{node_id}"): (
        {"space", "trashed"},
        lambda t: [
            Call("DELETE", f"/spaces/{t.space}/trash/{t.trashed}"),
            Call("DELETE", f"/spaces/me/trash/{t.trashed}"),
        ],
    ),
    ("POST", "/chunks/missing"): (
        {"chunk"},
        # The answer is "missing" for a chunk one cannot reach, exactly as for one that is nowhere.
        lambda t: [Call("POST", "/chunks/missing", json={"chunk_ids": [t.chunk]})],
    ),
    ("PUT", "/chunks/{chunk_id}"): (
        {"chunk"},
        lambda t: [Call("PUT", f"/chunks/{t.chunk}", content=b"not the chunk")],
    ),
    ("GET", "/chunks/{chunk_id}"): (
        {"chunk"},
        lambda t: [Call("GET", f"/chunks/{t.chunk}")],
    ),
    ("POST", "/spaces/{space}/commit"): (
        {"space", "chunk"},
        lambda t: [
            Call("POST", f"/spaces/{t.space}/commit", json=_commit(t)),
            Call("POST", "/spaces/me/commit", json=_commit(t)),
        ],
    ),
    ("POST", "/spaces/{space}/commit-batch"): (
        {"space", "chunk"},
        lambda t: [
            Call("POST", f"/spaces/{t.space}/commit-batch", json={"commits": [_commit(t)]}),
            Call("POST", "/spaces/me/commit-batch", json={"commits": [_commit(t)]}),
        ],
    ),
    ("GET", "/spaces/{space}/changes"): (
        {"space"},
        lambda t: [Call("GET", f"/spaces/{t.space}/changes", params={"cursor": "0"})],
    ),
    ("GET", "/spaces/{space}/snapshot"): (
        {"space"},
        lambda t: [Call("GET", f"/spaces/{t.space}/snapshot")],
    ),
    ("GET", "/spaces/{space}/manifest"): (
        {"space"},
        lambda t: [Call("GET", f"/spaces/{t.space}/manifest", params={"path": "/secret.txt"})],
    ),
    ("POST", "/spaces/{space}/manifests"): (
        {"space", "node"},
        lambda t: [
            Call("POST", f"/spaces/{t.space}/manifests", json={"files": [{"node_id": t.node}]}),
            Call("POST", "/spaces/me/manifests", json={"files": [{"node_id": t.node}]}),
        ],
    ),
    ("GET", "/spaces/{space}/manifest-delta"): (
        {"space", "node"},
        lambda t: [
            Call(
                "GET",
                f"/spaces/{where}/manifest-delta",
                params={"node_id": t.node, "base_node_id": t.node, "base_version": "1"},
            )
            for where in (t.space, "me")
        ],
    ),
    ("POST", "/chunks/fetch"): (
        {"chunk"},
        lambda t: [Call("POST", "/chunks/fetch", json={"chunk_ids": [t.chunk]})],
    ),
    ("GET", "/groups/{group_id}"): ({"group"}, lambda t: [Call("GET", f"/groups/{t.group}")]),
    ("PATCH", "/groups/{group_id}"): (
        {"group"},
        lambda t: [Call("PATCH", f"/groups/{t.group}", json={"name": "Renamed"})],
    ),
    ("DELETE", "/groups/{group_id}"): ({"group"}, lambda t: [Call("DELETE", f"/groups/{t.group}")]),
    ("POST", "/groups/{group_id}/members"): (
        {"group"},
        lambda t: [Call("POST", f"/groups/{t.group}/members", json={"email": t.email})],
    ),
    ("DELETE", "/groups/{group_id}/members/{user_id}"): (
        {"group", "user"},
        lambda t: [Call("DELETE", f"/groups/{t.group}/members/{t.user}")],
    ),
    ("GET", "/team-folders/{space_id}"): (
        {"team_folder"},
        lambda t: [Call("GET", f"/team-folders/{t.team_folder}")],
    ),
    ("PATCH", "/team-folders/{space_id}"): (
        {"team_folder"},
        lambda t: [Call("PATCH", f"/team-folders/{t.team_folder}", json={"name": "Renamed"})],
    ),
    ("DELETE", "/team-folders/{space_id}"): (
        {"team_folder"},
        lambda t: [Call("DELETE", f"/team-folders/{t.team_folder}")],
    ),
    ("PUT", "/team-folders/{space_id}/members"): (
        {"team_folder"},
        lambda t: [
            Call(
                "PUT",
                f"/team-folders/{t.team_folder}/members",
                json={"email": t.email, "role": "manager"},
            )
        ],
    ),
    ("DELETE", "/team-folders/{space_id}/members/{member_id}"): (
        {"team_folder", "team_member"},
        lambda t: [Call("DELETE", f"/team-folders/{t.team_folder}/members/{t.team_member}")],
    ),
    ("POST", "/spaces/{space}/links"): (
        {"space"},
        lambda t: [Call("POST", f"/spaces/{t.space}/links", json={"path": "/secret.txt"})],
    ),
    ("PATCH", "/links/{link_id}"): (
        {"link"},
        lambda t: [Call("PATCH", f"/links/{t.link}", json={"max_downloads": 1000})],
    ),
    ("DELETE", "/links/{link_id}"): ({"link"}, lambda t: [Call("DELETE", f"/links/{t.link}")]),
    ("POST", "/spaces/{space}/shares"): (
        {"space"},
        lambda t: [
            Call(
                "POST", f"/spaces/{t.space}/shares", json={"path": "/Shared", "with_user": t.email}
            )
        ],
    ),
    ("GET", "/spaces/{space}/shares"): (
        {"space"},
        lambda t: [Call("GET", f"/spaces/{t.space}/shares")],
    ),
    ("GET", "/shares/{share_id}"): ({"share"}, lambda t: [Call("GET", f"/shares/{t.share}")]),
    ("PATCH", "/shares/{share_id}"): (
        {"share"},
        lambda t: [Call("PATCH", f"/shares/{t.share}", json={"role": "editor"})],
    ),
    ("DELETE", "/shares/{share_id}"): ({"share"}, lambda t: [Call("DELETE", f"/shares/{t.share}")]),
}

# Routes that take no id of anyone's: they act on the caller's own account or organisation.
NOTHING_TO_AIM: dict[tuple[str, str], str] = {
    ("POST", "/auth/login"): "credentials only",
    ("POST", "/auth/login/second-factor"): "an opaque challenge of one's own login",
    ("POST", "/auth/login/second-factor/resend"): "an opaque challenge of one's own login",
    ("POST", "/auth/logout"): "ends the caller's own token",
    ("GET", "/me"): "the caller",
    ("GET", "/devices"): "the caller's devices",
    ("POST", "/auth/wipe/check"): "the presented token's own device",
    ("POST", "/auth/wipe/done"): "the presented token's own device",
    ("GET", "/users"): "the caller's organisation",
    ("POST", "/users"): "creates in the caller's organisation",
    ("GET", "/spaces"): "the caller's spaces",
    ("GET", "/chunking"): "the caller's organisation's chunking parameters",
    ("POST", "/chunks/batch"): "uploads chunks hashed under the caller's organisation's key",
    ("GET", "/groups"): "the caller's organisation",
    ("POST", "/groups"): "creates in the caller's organisation",
    ("GET", "/team-folders"): "the caller's organisation",
    ("POST", "/team-folders"): "creates in the caller's organisation",
    ("GET", "/links"): "the caller's links",
    ("GET", "/organisation/links"): "the caller's organisation",
    ("GET", "/shares"): "the caller's shares",
    ("GET", "/shared-with-me"): "shares with the caller",
    ("GET", "/audit"): "the caller's organisation",
}


def api_routes() -> set[tuple[str, str]]:
    """Every route of the API, from its OpenAPI document (every route is in it)."""
    paths = create_api().openapi()["paths"]
    return {(method.upper(), path) for path, operations in paths.items() for method in operations}


def test_every_route_is_in_the_matrix() -> None:
    routes = api_routes()
    assert not AIMED.keys() & NOTHING_TO_AIM.keys()
    assert routes - AIMED.keys() - NOTHING_TO_AIM.keys() == set(), "a new route: add it above"
    assert (AIMED.keys() | NOTHING_TO_AIM.keys()) - routes == set(), "a route is gone"


# --- the matrix ------------------------------------------------------------------------------


def _send(client: TestClient, who: Headers, call: Call) -> tuple[int, Any]:
    answer = client.request(
        call.method,
        API + call.url,
        headers=who,
        json=call.json,
        params=call.params,
        content=call.content,
    )
    body = (
        answer.json()
        if answer.headers.get("content-type", "").startswith("application/json")
        else answer.text
    )
    return answer.status_code, body


# Batch routes answer 200 with a result per item; an unreachable id gets the same item answer as
# an id that exists nowhere ("missing", "not found").
ANSWERED_PER_ITEM = {
    ("POST", "/chunks/missing"),
    ("POST", "/spaces/{space}/commit-batch"),
    ("POST", "/spaces/{space}/manifests"),
    ("POST", "/spaces/{space}/folders/batch"),
}

# What a member may see of their own organisation: its groups (to share with them).
VISIBLE_TO_MEMBERS = {("GET", "/groups/{group_id}")}

ROLES = ("member", "admin")
CASES = ("foreign", "private")


def _refusals(
    client: TestClient, world: World, role: str, case: str, route: tuple[str, str]
) -> list[str]:
    """What is wrong with how `role` is answered when aiming `route` at `case` ids."""
    _, aim = AIMED[route]
    who = world.alice if role == "member" else world.acme_admin
    target = world.foreign if case == "foreign" else world.private
    wrong = []
    for aimed, made_up in zip(aim(target), aim(world.nowhere), strict=True):
        status, body = _send(client, who, aimed)
        unknown_status, unknown_body = _send(client, who, made_up)
        said = f"{role} {case} {aimed.method} {aimed.url}: {status} {str(body)[:200]}"
        if not (400 <= status < 500 or route in ANSWERED_PER_ITEM):
            wrong.append(f"not refused: {said}")
        elif (status, as_if_nowhere(repr(body), target, world.nowhere)) != (
            unknown_status,
            repr(unknown_body),
        ):
            wrong.append(f"answered unlike an id that is nowhere ({unknown_status}): {said}")
    return wrong


def _in_reach(role: str, case: str, route: tuple[str, str]) -> bool:
    """The organisation's own things its admin manages, and the groups its members see."""
    kinds, _ = AIMED[route]
    if case != "private":
        return False
    if role == "admin":
        return bool(kinds & ADMIN_MANAGES) and kinds <= ADMIN_MANAGES | {"space"}
    return route in VISIBLE_TO_MEMBERS


@pytest.fixture
def world(client: TestClient, services: Services) -> World:
    return build_world(client, services)


def test_ids_out_of_reach_are_answered_as_ids_that_exist_nowhere_and_change_nothing(
    client: TestClient, services: Services, world: World
) -> None:
    before = database_state(services)
    wrong: list[str] = []
    aimed = 0
    for route in AIMED:
        for role in ROLES:
            for case in CASES:
                if not _in_reach(role, case, route):
                    wrong += _refusals(client, world, role, case, route)
                    aimed += 1
        changed = [t for t, rows in database_state(services).items() if rows != before.get(t)]
        if changed:
            wrong.append(f"{route} changed {changed}")
            before = database_state(services)
    assert wrong == [], "\n".join(wrong)
    assert aimed > 3 * len(AIMED)  # most routes are aimed by both roles at both kinds of ids
