import json
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sfs.app import Services
from sfs.metadata.models import User
from sfs.web.server import MAX_BODY_BYTES, body_limits
from tests.support import GOOD_PASSWORD, OTHER_GOOD_PASSWORD
from tests.world import make_tenant


def token_for(client: TestClient, email: str, password: str = GOOD_PASSWORD) -> dict[str, str]:
    answer = client.post(
        "/api/v1/auth/login", json={"email": email, "password": password, "device_name": "tests"}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def test_login_gives_a_device_token_that_identifies_the_user(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    headers = token_for(client, acme.user.email.upper())
    me = client.get("/api/v1/me", headers=headers).json()
    assert me["email"] == acme.user.email and me["role"] == "user"
    assert me["organization_name"] == "Acme"
    devices = client.get("/api/v1/devices", headers=headers).json()
    assert [(d["name"], d["current"]) for d in devices] == [("tests", True)]


def test_logout_revokes_the_token(client: TestClient, services: Services) -> None:
    acme = make_tenant(services, "Acme")
    headers = token_for(client, acme.user.email)
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    answer = client.get("/api/v1/me", headers=headers)
    assert answer.status_code == 401
    assert answer.json()["code"] == "not_authenticated"


def test_errors_are_json_with_a_stable_code(client: TestClient, services: Services) -> None:
    acme = make_tenant(services, "Acme")
    wrong = client.post("/api/v1/auth/login", json={"email": acme.user.email, "password": "nope"})
    assert wrong.status_code == 401
    assert wrong.json() == {"code": "authentication_failed", "message": "Wrong email or password."}
    malformed = client.post(
        "/api/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400 and malformed.json()["code"] == "bad_request"
    extra = client.post(
        "/api/v1/auth/login", json={"email": "a@b.nl", "password": "x", "admin": True}
    )
    assert extra.status_code == 422 and "admin" in extra.json()["message"]
    anonymous = client.get("/api/v1/me")
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_a_body_that_is_not_json_is_400_as_documented(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    for body in (b"{not json", b"\xff\xfe{"):
        answer = client.post(
            "/api/v1/auth/login", content=body, headers={"content-type": "application/json"}
        )
        assert answer.status_code == 400, (body, answer.text)
        assert answer.json()["code"] == "bad_request"
    documented = spec["paths"]["/auth/login"]["post"]["responses"]["400"]
    assert documented["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }


def test_every_error_under_the_api_is_json_even_off_its_routes(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    headers = token_for(client, acme.user.email)
    # A path with a newline in it fell through to the portal's HTML page.
    cases = {
        "/api/v1/spaces/%0A/children": (422, "invalid_input"),  # not `me` nor a space id
        "/api/v1/no%0Asuch": (404, "not_found"),
        "/api/v1/no/such": (404, "not_found"),
    }
    for path, (status, code) in cases.items():
        answer = client.get(path, headers=headers)
        assert answer.status_code == status, path
        assert answer.headers["content-type"] == "application/json", path
        assert answer.json()["code"] == code, path


def test_405_names_every_method_of_the_path(client: TestClient, services: Services) -> None:
    acme = make_tenant(services, "Acme")
    headers = token_for(client, acme.admin.email)
    some_chunk = "0" * 64
    cases = {
        ("OPTIONS", "/api/v1/users"): "GET, POST",
        ("PATCH", "/api/v1/spaces/me/node"): "DELETE, GET",
        ("OPTIONS", f"/api/v1/chunks/{some_chunk}"): "GET, PUT",
        # Not taken for a chunk id: /chunks/batch and /chunks/fetch are paths of their own.
        ("PUT", "/api/v1/chunks/batch"): "POST",
        ("GET", "/api/v1/chunks/fetch"): "POST",
    }
    for (method, path), allow in cases.items():
        answer = client.request(method, path, headers=headers)
        assert answer.status_code == 405, (method, path, answer.text)
        assert answer.headers["allow"] == allow, (method, path)
        assert answer.json()["code"] == "method_not_allowed"
    spec = client.get("/api/v1/openapi.json").json()
    assert set(spec["paths"]["/users"]) == {"get", "post"}
    assert set(spec["paths"]["/chunks/{chunk_id}"]) == {"get", "put"}


def test_throttled_logins_answer_429_with_retry_after(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    for _ in range(10):
        client.post("/api/v1/auth/login", json={"email": acme.user.email, "password": "nope"})
    answer = client.post(
        "/api/v1/auth/login", json={"email": acme.user.email, "password": GOOD_PASSWORD}
    )
    assert answer.status_code == 429
    assert answer.json()["code"] == "too_many_attempts"
    assert int(answer.headers["retry-after"]) > 0


def test_the_openapi_document_describes_the_api(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["info"]["title"] == "Secure File Sync API"
    assert {"/auth/login", "/auth/logout", "/me", "/users", "/users/{user_id}"} <= set(
        spec["paths"]
    )


class TestTenantIsolationOverHttp:
    def test_an_org_admin_lists_only_their_own_organisation(
        self, client: TestClient, services: Services
    ) -> None:
        acme, globex = make_tenant(services, "Acme"), make_tenant(services, "Globex")
        headers = token_for(client, acme.admin.email)
        listed = {u["email"] for u in client.get("/api/v1/users", headers=headers).json()}
        assert listed == {acme.admin.email, acme.user.email}
        for other in (globex.user.id, globex.admin.id, uuid.uuid4()):
            answer = client.get(f"/api/v1/users/{other}", headers=headers)
            assert answer.status_code == 404
            assert answer.json()["code"] == "not_found"

    def test_created_users_land_in_the_admins_own_organisation(
        self, client: TestClient, services: Services
    ) -> None:
        acme, globex = make_tenant(services, "Acme"), make_tenant(services, "Globex")
        headers = token_for(client, acme.admin.email)
        answer = client.post(
            "/api/v1/users",
            headers=headers,
            json={
                "email": "New@Acme.example.com",
                "display_name": "Nina Nieuw",
                "password": OTHER_GOOD_PASSWORD,
            },
        )
        assert answer.status_code == 201, answer.text
        assert answer.json()["organization_id"] == str(acme.organisation.id)
        assert answer.json()["email"] == "new@acme.example.com"
        smuggled = client.post(
            "/api/v1/users",
            headers=headers,
            json={
                "email": "mole@globex.example.com",
                "display_name": "Mole",
                "password": OTHER_GOOD_PASSWORD,
                "organization_id": str(globex.organisation.id),
            },
        )
        assert smuggled.status_code == 422

    def test_a_user_cannot_administer(self, client: TestClient, services: Services) -> None:
        acme = make_tenant(services, "Acme")
        headers = token_for(client, acme.user.email)
        assert client.get("/api/v1/users", headers=headers).status_code == 403
        assert client.get(f"/api/v1/users/{acme.admin.id}", headers=headers).status_code == 404
        created = client.post(
            "/api/v1/users",
            headers=headers,
            json={
                "email": "x@acme.example.com",
                "display_name": "X Y",
                "password": OTHER_GOOD_PASSWORD,
            },
        )
        assert created.status_code == 403


def test_bad_user_input_changes_nothing(client: TestClient, services: Services) -> None:
    acme = make_tenant(services, "Acme")
    headers = token_for(client, acme.admin.email)

    def users() -> int:
        with services.database.transaction() as session:
            return session.scalar(select(func.count()).select_from(User)) or 0

    before = users()
    cases = [
        (
            {"email": "broken", "display_name": "B", "password": OTHER_GOOD_PASSWORD},
            422,
            "invalid_input",
        ),
        (
            {
                "email": acme.user.email.upper(),
                "display_name": "B",
                "password": OTHER_GOOD_PASSWORD,
            },
            409,
            "already_exists",
        ),
        (
            {"email": "b@acme.example.com", "display_name": "B", "password": "password1234"},
            422,
            "weak_password",
        ),
        (
            {
                "email": "b@acme.example.com",
                "display_name": "B" * 500,
                "password": OTHER_GOOD_PASSWORD,
            },
            422,
            "invalid_input",
        ),
        (
            {
                "email": "b@acme.example.com",
                "display_name": "B",
                "password": OTHER_GOOD_PASSWORD,
                "role": "provider_admin",
            },
            422,
            "invalid_input",
        ),
    ]
    for body, status, code in cases:
        answer = client.post("/api/v1/users", headers=headers, json=body)
        assert (answer.status_code, answer.json()["code"]) == (status, code), body
    assert users() == before


def test_an_oversized_body_is_refused(client: TestClient) -> None:
    answer = client.post(
        "/api/v1/auth/login",
        content=b"{" + b" " * (400 * 1024) + b"}",
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 413
    assert answer.json()["code"] == "request_too_large"


def test_the_largest_bodies_the_schema_allows_fit_under_the_size_caps(
    client: TestClient, services: Services
) -> None:
    """Item counts and lengths from the OpenAPI document itself, encoded as a client library
    encodes JSON (json.dumps): none may meet the 413 that guards the server's memory."""
    acme = make_tenant(services, "Acme")
    headers = {**token_for(client, acme.user.email), "content-type": "application/json"}
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]

    def most(model: str, field: str) -> int:
        prop = schemas[model]["properties"][field]
        return int(prop.get("maxItems", prop.get("maxLength", 0)))

    def cap(path: str) -> int | None:
        ceilings = [c for p, c in body_limits(services.settings) if p.match(f"POST {path}")]
        return ceilings[0] if ceilings else MAX_BODY_BYTES

    longest_path = "a" * most("PathBody", "path")
    largest_version = 2**31 - 1
    lists = {  # path: (body with one item in its list, the list's name, its maxItems)
        "/api/v1/chunks/missing": (
            {"chunk_ids": ["f" * 64]},
            "chunk_ids",
            most("ChunkIds", "chunk_ids"),
        ),
        "/api/v1/chunks/fetch": (
            {"chunk_ids": ["f" * 64]},
            "chunk_ids",
            most("FetchChunkIds", "chunk_ids"),
        ),
        "/api/v1/spaces/me/manifests": (
            {"files": [{"node_id": str(uuid.uuid4()), "version": largest_version}]},
            "files",
            most("ManifestsBody", "files"),
        ),
        "/api/v1/spaces/me/folders/batch": (
            {"paths": [longest_path]},
            "paths",
            most("FoldersBody", "paths"),
        ),
        "/api/v1/spaces/me/commit": (
            {
                "path": longest_path,
                "manifest": [{"chunk_id": "f" * 64, "size": 16 * 1024 * 1024}],
                "modified_at": "2024-01-01T00:00:00+00:00",
                "base_version": largest_version,
                "device_name": "d" * 100,
            },
            "manifest",
            most("CommitBody", "manifest"),
        ),
    }
    for path, (one, name, count) in lists.items():
        size = len(json.dumps(one))
        each = len(json.dumps({**one, name: one[name] * 2})) - size
        largest = size + (count - 1) * each
        ceiling = cap(path)
        assert ceiling is not None and largest <= ceiling, (path, largest, ceiling)
        if largest <= 8 * 1024 * 1024:  # sent for real (the biggest only counted)
            body = json.dumps({**one, name: one[name] * count})
            assert len(body) == largest
            answer = client.post(path, content=body, headers=headers)
            assert answer.status_code != 413, (path, answer.text)
            assert answer.status_code < 500, (path, answer.text)
