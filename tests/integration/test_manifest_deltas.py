"""A file version's manifest told as a delta against a version the caller holds: rebuilt
exactly for every kind of edit, and never against a base the caller may not read."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.domain.actor import Actor, operator
from sfs.domain.errors import InvalidInput, NotFound
from sfs.protocol.chunk_ids import chunk_id
from sfs.protocol.manifest_delta import Entry, apply, decode
from sfs.services.files.nodes import NodeView
from sfs.services.files.versions import ManifestEntry
from tests.integration.test_api_http import token_for
from tests.support import GOOD_PASSWORD
from tests.world import CLIENT, actor, make_tenant

MODIFIED = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
PIECES = [f"piece {n} of the report\n".encode() for n in range(10)]


def commit(
    services: Services,
    who: Actor,
    path: str,
    pieces: list[bytes],
    *,
    base: int | None = None,
    space_id: uuid.UUID | None = None,
) -> NodeView:
    assert who.organization_id is not None
    key = services.keyring.keys_for(who.organization_id).chunk_id_key
    chunks = [(chunk_id(key, piece), piece) for piece in pieces]
    services.file_content.put_chunks(who, list(dict(chunks).items()))
    return services.file_versions.commit(
        who,
        space_id=space_id or services.spaces.my_files(who).id,
        path=path,
        manifest=[ManifestEntry(chunk, len(piece)) for chunk, piece in chunks],
        modified_at=MODIFIED,
        base_version=base,
        client=CLIENT,
    )


def entries(services: Services, who: Actor, path: str, number: int) -> list[Entry]:
    _, _, listed = services.file_versions.manifest(
        who, space_id=services.spaces.my_files(who).id, path=path, number=number
    )
    return [(e.chunk_id, e.size) for e in listed]


@pytest.mark.parametrize(
    "edited",
    [
        [*PIECES[:4], b"inserted\n", b"and more\n", *PIECES[4:]],
        PIECES[:3] + PIECES[7:],  # deleted
        [*PIECES, b"appended\n"],
        [b"all new\n", b"nothing kept\n"],  # replaced
        [],  # emptied
    ],
    ids=["insert", "delete", "append", "replace", "empty"],
)
def test_each_edit_is_rebuilt_exactly_from_the_previous_version(
    services: Services, edited: list[bytes]
) -> None:
    who = actor(services, make_tenant(services, "Acme").user)
    node = commit(services, who, "/report.txt", PIECES)
    commit(services, who, "/report.txt", edited, base=1)

    delta = services.manifest_deltas.manifest_delta(
        who,
        space_id=services.spaces.my_files(who).id,
        node_id=node.id,
        number=None,
        base_node_id=node.id,
        base_number=1,
    )

    base = entries(services, who, "/report.txt", 1)
    assert apply(delta, base) == entries(services, who, "/report.txt", 2)
    assert (delta.version, delta.size, delta.modified_at) == (2, sum(map(len, edited)), MODIFIED)


def test_an_empty_base_and_a_base_from_another_file(services: Services) -> None:
    who = actor(services, make_tenant(services, "Acme").user)
    space = services.spaces.my_files(who).id
    empty = commit(services, who, "/empty.txt", [])
    draft = commit(services, who, "/draft.txt", PIECES)
    final = commit(services, who, "/final.txt", [*PIECES[:6], b"signed\n"])

    def told(base: NodeView) -> list[Entry]:
        delta = services.manifest_deltas.manifest_delta(
            who, space_id=space, node_id=final.id, number=1, base_node_id=base.id, base_number=1
        )
        return apply(delta, entries(services, who, base.path, 1))

    assert told(empty) == told(draft) == entries(services, who, "/final.txt", 1)


def test_a_base_the_caller_may_not_read_is_not_found(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    owner, admin = actor(services, acme.user), actor(services, acme.admin)
    colleague = actor(
        services,
        services.accounts.create_user(
            operator(),
            organization_id=acme.organisation.id,
            email="vera@acme.example.com",
            display_name="Vera Acme",
            password=GOOD_PASSWORD,
            client=CLIENT,
        ),
    )
    stranger = actor(services, make_tenant(services, "Globex").user)
    mine = services.spaces.my_files(owner).id
    services.file_tree.create_folder(owner, space_id=mine, path="/Shared", client=CLIENT)
    shared = commit(services, owner, "/Shared/plan.txt", PIECES)
    private = commit(services, owner, "/private.txt", PIECES[:5])
    share = services.shares.create(
        owner,
        space_id=mine,
        path="/Shared",
        role="viewer",
        client=CLIENT,
        user_email=colleague.email,
    ).id
    theirs = commit(services, stranger, "/theirs.txt", PIECES)
    admins = commit(services, admin, "/admins.txt", PIECES)
    team = services.team_folders.create(admin, "Projects", client=CLIENT).id
    services.team_folders.set_user_role(admin, team, owner.email, "editor", client=CLIENT)
    in_team = commit(services, owner, "/plan.txt", PIECES, space_id=team)

    def ask(who: Actor, space: uuid.UUID, node: NodeView, base: NodeView) -> object:
        return services.manifest_deltas.manifest_delta(
            who, space_id=space, node_id=node.id, number=None, base_node_id=base.id, base_number=1
        )

    assert ask(colleague, share, shared, shared).count == len(PIECES)  # inside the share: yes
    refused = [
        (colleague, share, shared, private),  # the owner's file outside the share
        (owner, mine, shared, theirs),  # another organisation's file
        (owner, mine, shared, admins),  # another member's My Files
        (owner, mine, shared, in_team),  # the caller's own, but in another space
        (owner, team, in_team, shared),  # and the other way round
        (stranger, mine, shared, shared),  # another organisation's space altogether
    ]
    for who, space, node, base in refused:
        with pytest.raises(NotFound):
            ask(who, space, node, base)
    with pytest.raises(NotFound, match="No such version 9"):
        services.manifest_deltas.manifest_delta(
            owner,
            space_id=mine,
            node_id=shared.id,
            number=None,
            base_node_id=shared.id,
            base_number=9,
        )
    with pytest.raises(InvalidInput):
        services.manifest_deltas.manifest_delta(
            owner,
            space_id=mine,
            node_id=shared.id,
            number=None,
            base_node_id=shared.id,
            base_number=0,
        )


def test_the_http_call_answers_the_binary_delta_and_404_for_a_base_of_another_tenant(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    auth = token_for(client, acme.user.email)
    who = actor(services, acme.user)
    node = commit(services, who, "/big.bin", PIECES)
    commit(services, who, "/big.bin", [*PIECES[:5], b"new\n", *PIECES[5:]], base=1)
    other = make_tenant(services, "Globex")
    theirs = commit(services, actor(services, other.user), "/t.bin", PIECES)
    url = "/api/v1/spaces/me/manifest-delta"
    ask = {"node_id": str(node.id), "base_node_id": str(node.id), "base_version": 1}

    answer = client.get(url, params=ask, headers=auth)

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/vnd.sfs.manifest-delta"
    rebuilt = apply(decode(answer.content), entries(services, who, "/big.bin", 1))
    assert rebuilt == entries(services, who, "/big.bin", 2)
    assert len(answer.content) < 120  # two runs and one new chunk, not the whole list
    stranger = client.get(url, params={**ask, "base_node_id": str(theirs.id)}, headers=auth)
    assert stranger.status_code == 404 and stranger.json()["code"] == "not_found"
    for bad in ({"base_version": 0}, {"version": 0}, {"base_node_id": "nope"}):
        refused = client.get(url, params={**ask, **bad}, headers=auth)
        assert refused.status_code == 422, bad
    assert client.get(url, params=ask).status_code == 401
