"""Numbers and times at the edges of what the database holds: refused with 422 and the field
named, by the API, the portal and the services alike, on SQLite and PostgreSQL (whose version
columns are 32-bit). Nothing is stored by a refused request."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from sfs.app import Services
from sfs.domain.errors import InvalidInput
from sfs.protocol.limits import EARLIEST_TIME, LATEST_TIME, MAX_SEQUENCE, MAX_VERSION
from sfs.services.audit import AuditFilter
from tests.integration.test_api_http import token_for
from tests.signed_in import log_in
from tests.support import csrf_token_in
from tests.world import CLIENT, Tenant, actor, make_tenant

TOO_BIG_FOR_POSTGRES = 2**31  # one past a 32-bit column
TOO_BIG_FOR_ANY = 2**63  # one past a 64-bit column
FAR_PAST = "0001-01-01T00:00:00+14:00"  # no UTC form in Python at all
FAR_FUTURE = "9999-12-31T23:59:59-14:00"
OUTSIDE_THE_WINDOW = [FAR_PAST, FAR_FUTURE, "1969-12-31T23:59:59Z", "2200-01-01T00:00:00Z"]


@pytest.fixture
def acme(services: Services) -> Tenant:
    return make_tenant(services, "Acme")


@pytest.fixture
def auth(client: TestClient, acme: Tenant) -> dict[str, str]:
    headers = token_for(client, acme.user.email)
    answer = client.put(
        "/api/v1/spaces/me/content", params={"path": "/a.txt"}, content=b"one", headers=headers
    )
    assert answer.status_code == 200, answer.text
    return headers


def refused(answer: Response, field: str) -> None:
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["code"] == "invalid_input" and body["field"].endswith(field), body


@pytest.mark.parametrize("number", [TOO_BIG_FOR_POSTGRES, TOO_BIG_FOR_ANY])
def test_version_numbers_past_32_bits_are_refused_by_every_call_that_takes_one(
    client: TestClient, auth: dict[str, str], number: int
) -> None:
    node_id = client.get("/api/v1/spaces/me/node", params={"path": "/a.txt"}, headers=auth)
    params = {"path": "/a.txt", "version": number}
    refused(client.get("/api/v1/spaces/me/content", params=params, headers=auth), "version")
    refused(client.get("/api/v1/spaces/me/manifest", params=params, headers=auth), "version")
    refused(
        client.post(
            "/api/v1/spaces/me/versions/restore",
            json={"path": "/a.txt", "number": number},
            headers=auth,
        ),
        "number",
    )
    refused(
        client.post(
            "/api/v1/spaces/me/manifests",
            json={"files": [{"node_id": node_id.json()["id"], "version": number}]},
            headers=auth,
        ),
        "version",
    )
    refused(
        client.put(
            "/api/v1/spaces/me/content",
            params={"path": "/a.txt", "base_version": number},
            content=b"two",
            headers=auth,
        ),
        "base_version",
    )
    refused(
        client.post(
            "/api/v1/spaces/me/commit",
            json={
                "path": "/a.txt",
                "manifest": [],
                "modified_at": "2026-01-01T00:00:00Z",
                "base_version": number,
            },
            headers=auth,
        ),
        "base_version",
    )
    versions = client.get("/api/v1/spaces/me/versions", params={"path": "/a.txt"}, headers=auth)
    assert [v["number"] for v in versions.json()] == [1]  # nothing was restored or replaced


def test_offsets_cursors_and_event_ids_past_64_bits_are_refused(
    client: TestClient, services: Services, acme: Tenant, auth: dict[str, str]
) -> None:
    admin = token_for(client, acme.admin.email)
    refused(
        client.get("/api/v1/users", params={"offset": TOO_BIG_FOR_ANY}, headers=admin), "offset"
    )
    refused(
        client.get("/api/v1/audit", params={"before": TOO_BIG_FOR_ANY}, headers=admin), "before"
    )
    refused(
        client.get("/api/v1/spaces/me/changes", params={"cursor": TOO_BIG_FOR_ANY}, headers=auth),
        "cursor",
    )
    # the largest values that fit are answered as any other
    assert client.get("/api/v1/users", params={"offset": MAX_SEQUENCE}, headers=admin).json() == []
    last = client.get("/api/v1/audit", params={"before": MAX_SEQUENCE}, headers=admin)
    assert last.status_code == 200 and last.json()["events"]


@pytest.mark.parametrize("moment", OUTSIDE_THE_WINDOW)
def test_modification_times_outside_the_window_are_refused_and_nothing_is_stored(
    client: TestClient, auth: dict[str, str], moment: str
) -> None:
    upload = client.put(
        "/api/v1/spaces/me/content",
        params={"path": "/new.txt", "modified_at": moment},
        content=b"new",
        headers=auth,
    )
    refused(upload, "modified_at")
    commit = {"path": "/empty.txt", "manifest": [], "modified_at": moment}
    refused(client.post("/api/v1/spaces/me/commit", json=commit, headers=auth), "modified_at")
    batch = client.post("/api/v1/spaces/me/commit-batch", json={"commits": [commit]}, headers=auth)
    refused(batch, "modified_at")
    names = client.get("/api/v1/spaces/me/children", headers=auth).json()
    assert [n["name"] for n in names] == ["a.txt"]


def test_the_edges_of_the_window_are_kept_as_given(
    client: TestClient, auth: dict[str, str]
) -> None:
    for name, moment in [("first.txt", EARLIEST_TIME), ("last.txt", LATEST_TIME)]:
        if moment == LATEST_TIME:
            moment -= timedelta(seconds=1)
        answer = client.put(
            "/api/v1/spaces/me/content",
            params={"path": f"/{name}", "modified_at": moment.isoformat()},
            content=b"x",
            headers=auth,
        )
        assert answer.status_code == 200, answer.text
        assert datetime.fromisoformat(answer.json()["modified_at"]) == moment


def test_the_audit_log_refuses_days_outside_the_window_on_the_api_and_the_portal(
    client: TestClient, acme: Tenant
) -> None:
    admin = token_for(client, acme.admin.email)
    for field, day in [("date_to", "9999-12-31"), ("date_from", "0001-01-01")]:
        answer = client.get("/api/v1/audit", params={field: day}, headers=admin)
        refused(answer, field)
    log_in(client, acme.admin.email)
    page = client.get("/audit", params={"date_to": "9999-12-31"})
    assert page.status_code == 422
    assert "Give dates from 1970-01-01 to 2199-12-31." in page.text
    dutch = client.get(
        "/audit", params={"date_to": "9999-12-31"}, headers={"Accept-Language": "nl"}
    )
    assert "Geef datums van 1970-01-01 tot en met 2199-12-31." in dutch.text
    older = client.get("/audit", params={"before": str(TOO_BIG_FOR_ANY)})
    assert older.status_code == 422 and "before must be 1 to" in older.text


def test_the_portal_refuses_a_version_number_past_32_bits(
    client: TestClient, services: Services, acme: Tenant, auth: dict[str, str]
) -> None:
    log_in(client, acme.user.email)
    token = csrf_token_in(client.get("/file/versions/a.txt").text)
    answer = client.post(
        "/file/versions/a.txt",
        data={"csrf_token": token, "number": str(TOO_BIG_FOR_ANY)},
        follow_redirects=False,
    )
    assert answer.status_code == 422 and "number must be a version number" in answer.text


def test_the_portal_brings_a_browsers_implausible_file_time_into_the_window(
    client: TestClient, acme: Tenant
) -> None:
    log_in(client, acme.user.email)
    token = csrf_token_in(client.get("/files").text)
    for name, millis in [("future.txt", "999999999999999"), ("epoch.txt", "0")]:
        answer = client.put(
            f"/file/upload/{name}",
            content=b"x",
            headers={"X-CSRF-Token": token, "X-Modified-At": millis},
        )
        assert answer.status_code == 200, answer.text


def test_the_services_refuse_the_same_ranges_for_doors_that_skip_the_api(
    services: Services, acme: Tenant
) -> None:
    user, admin = actor(services, acme.user), actor(services, acme.admin)
    space = services.spaces.my_files(user).id
    for moment in [
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-14))),
        datetime(2026, 1, 1),  # no zone: which moment is meant is unknown
    ]:
        with pytest.raises(InvalidInput) as caught:
            services.file_versions.commit(
                user,
                space_id=space,
                path="/x.txt",
                manifest=[],
                modified_at=moment,
                base_version=None,
                client=CLIENT,
            )
        assert caught.value.field == "modified_at"
    services.file_content.upload(
        user,
        space_id=space,
        path="/a.txt",
        source=[b"one"],
        modified_at=datetime(2026, 1, 1, tzinfo=UTC),
        base_version=None,
        client=CLIENT,
    )
    cases = [
        (
            "number",
            lambda: services.file_versions.restore_version(
                user, space_id=space, path="/a.txt", number=TOO_BIG_FOR_POSTGRES, client=CLIENT
            ),
        ),
        (
            "version",
            lambda: services.file_versions.manifest(
                user, space_id=space, path="/a.txt", number=MAX_VERSION + 1
            ),
        ),
        ("before", lambda: services.audit.search(admin, before=TOO_BIG_FOR_ANY)),
        ("offset", lambda: services.accounts.list_users(admin, offset=TOO_BIG_FOR_ANY)),
        (
            "date_to",
            lambda: services.audit.search(admin, where=AuditFilter(date_to=date(9999, 12, 31))),
        ),
    ]
    for field, call in cases:
        with pytest.raises(InvalidInput) as caught:
            call()
        assert caught.value.field == field
    assert services.file_tree.list_folder(user, space_id=space, path="/")[0].name == "a.txt"
