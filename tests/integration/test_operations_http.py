"""/healthz, /readyz and /metrics as a load balancer and Prometheus see them, and the request id
that ties a response, its log lines and its audit events together."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sfs.app import Services, build_services
from sfs.auth.throttle import RateLimiters
from sfs.blobs.memory import MemoryBackend
from sfs.config import Settings, load_settings
from sfs.crypto.passwords import PasswordHasher
from sfs.domain.actor import operator
from sfs.domain.audit import AuditEventType
from sfs.mail.outbox import OutboxMailer
from sfs.metadata import migrate
from sfs.metadata.db import Database, create_database_engine
from sfs.observability.logs import JsonLines, RequestIdFilter
from sfs.observability.request_ids import begin_request, end_request
from sfs.web.portal.csv_export import audit_csv
from sfs.web.server import create_app
from tests.integration.test_api_http import token_for
from tests.support import FAST_HASH, FakeClock
from tests.world import make_tenant

TOKEN = "metrics-token-0123456789"
SCRAPE = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return load_settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        metrics_token=TOKEN,
        trusted_proxies="*",
    )


def services_over(settings: Settings, **parts: object) -> Services:
    return build_services(
        settings,
        clock=FakeClock(),
        mailer=OutboxMailer(settings.outbox_dir),
        hasher=PasswordHasher(FAST_HASH),
        limiters=RateLimiters.from_storage_uri("memory://"),
        master_key=bytes(range(32)),
        **parts,  # type: ignore[arg-type]
    )


@pytest.fixture
def served() -> Iterator[list[Services]]:
    built: list[Services] = []
    yield built
    for services in built:
        services.database.dispose()


def sample(services: Services, name: str, **labels: str) -> float:
    return services.metrics.registry.get_sample_value(name, labels) or 0.0


def test_healthz_answers_without_credentials_or_the_database(client: TestClient) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.text == "ok\n"
    assert answer.headers["cache-control"] == "no-store"


def test_readyz_is_200_when_database_schema_and_blob_store_answer(client: TestClient) -> None:
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {
        "ready": True,
        "checks": {"database": "ok", "migrations": "ok", "blob_store": "ok"},
    }


def test_readyz_is_503_naming_the_database_without_its_address_or_password(
    tmp_path: Path, served: list[Services]
) -> None:
    address = "postgresql://sfs:hunter2-secret@127.0.0.1:1/nowhere"
    settings = load_settings(data_dir=tmp_path / "down", database_url=address)
    engine = create_database_engine(address, connect_args={"connect_timeout": 2})
    served.append(services_over(settings, database=Database(engine)))
    with TestClient(create_app(served[0])) as client:
        answer = client.get("/readyz")
        alive = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["checks"] == {
        "database": "unreachable",
        "migrations": "unknown",
        "blob_store": "ok",
    }
    assert "hunter2" not in answer.text and "127.0.0.1" not in answer.text
    assert alive.status_code == 200


def test_readyz_is_503_while_the_schema_is_behind(tmp_path: Path, served: list[Services]) -> None:
    database_url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_database_engine(database_url)
    migrate.upgrade(engine, "0013")
    engine.dispose()
    settings = load_settings(data_dir=tmp_path / "old", database_url=database_url)
    served.append(services_over(settings))
    with TestClient(create_app(served[0])) as client:
        answer = client.get("/readyz")
    assert answer.status_code == 503 and answer.json()["checks"]["migrations"] == "behind"


class _AwayBackend(MemoryBackend):
    def exists(self, name: str) -> bool:
        raise ConnectionError("s3.example.net: connection refused")


def test_readyz_is_503_when_the_blob_store_fails_and_the_failure_is_counted(
    settings: Settings, served: list[Services]
) -> None:
    served.append(services_over(settings, blob_backend=_AwayBackend()))
    services = served[0]
    with TestClient(create_app(services)) as client:
        answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["blob_store"] == "unreachable"
    assert "s3.example.net" not in answer.text
    assert sample(services, "sfs_blob_store_errors_total", operation="exists") == 1


def test_metrics_want_the_token(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 401
    wrong = {"Authorization": "Bearer metrics-token-9876543210"}
    assert client.get("/metrics", headers=wrong).status_code == 401
    answer = client.get("/metrics", headers=SCRAPE)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")


def test_metrics_are_off_without_a_token(tmp_path: Path, served: list[Services]) -> None:
    settings = load_settings(data_dir=tmp_path / "quiet", database_url=f"sqlite:///{tmp_path}/q.db")
    served.append(services_over(settings))
    migrate.upgrade(served[0].database.engine)
    with TestClient(create_app(served[0])) as client:
        assert client.get("/metrics", headers=SCRAPE).status_code == 404


def test_metrics_count_requests_by_route_template_and_bytes_and_failures(
    client: TestClient, services: Services
) -> None:
    auth = token_for(client, make_tenant(services, "Acme").user.email)
    for name in ("a", "b", "c"):
        client.post("/api/v1/spaces/me/folders", json={"path": f"/{name}"}, headers=auth)
    client.get("/api/v1/spaces/me/changes", params={"cursor": 0}, headers=auth)
    client.put(
        "/api/v1/spaces/me/content",
        params={"path": "/hello.txt"},
        content=b"x" * 5000,
        headers=auth,
    )
    client.post(
        "/api/v1/auth/login",
        json={"email": "user@acme.example.com", "password": "wrong", "device_name": "t"},
    )
    text = client.get("/metrics", headers=SCRAPE).text
    folders = "/api/v1/spaces/{space}/folders"
    requests = "sfs_http_requests_total"
    assert sample(services, requests, method="POST", route=folders, status="201") == 3
    assert "/api/v1/spaces/me/folders" not in text  # templates, not raw paths
    content = "/api/v1/spaces/{space}/content"
    assert sample(services, "sfs_http_received_bytes_total", route=content) >= 5000
    assert sample(services, "sfs_http_sent_bytes_total", route="/api/v1/spaces/{space}/changes") > 0
    assert sample(services, "sfs_login_failures_total", kind="password") == 1
    assert "sfs_long_poll_waiters 0.0" in text
    assert "sfs_database_connections_in_use" in text
    assert "process_resident_memory_bytes" in text


def test_every_response_carries_a_request_id_and_a_trusted_one_is_kept(
    client: TestClient, services: Services
) -> None:
    fresh = client.get("/healthz").headers["x-request-id"]
    assert len(fresh) == 24 and fresh != client.get("/healthz").headers["x-request-id"]
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a9c21-0001"})
    assert kept.headers["x-request-id"] == "lb-7f3a9c21-0001"
    mangled = client.get("/healthz", headers={"X-Request-ID": "bad id\twith; stuff"})
    assert mangled.headers["x-request-id"] not in ("bad id\twith; stuff", fresh)


def test_an_untrusted_peer_cannot_choose_the_request_id(
    tmp_path: Path, database_url: str, served: list[Services]
) -> None:
    settings = load_settings(data_dir=tmp_path / "direct", database_url=database_url)
    served.append(services_over(settings))
    with TestClient(create_app(served[0])) as client:
        answer = client.get("/healthz", headers={"X-Request-ID": "forged-0123456789"})
    assert answer.headers["x-request-id"] != "forged-0123456789"


def test_the_audit_event_of_a_request_records_its_id(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    client.post(
        "/api/v1/auth/login",
        json={"email": acme.user.email, "password": "wrong", "device_name": "t"},
        headers={"X-Request-ID": "proxy-req-424242", "X-Forwarded-For": "198.51.100.9"},
    )
    events = [
        e
        for e in services.audit.recent(operator(), limit=20)
        if e.event_type == AuditEventType.LOGIN_FAILED.value
    ]
    assert [(e.request_id, e.client_address) for e in events] == [
        ("proxy-req-424242", "198.51.100.9")  # both from the trusted proxy
    ]
    setup = services.audit.recent(operator(), limit=50)[-1]
    assert setup.request_id is None  # made outside any request
    exported = "".join(audit_csv(services.audit.recent(operator(), limit=50)))
    assert exported.splitlines()[0].endswith(",details,request_id")
    assert "proxy-req-424242" in exported


def test_log_lines_carry_the_request_id_as_text_and_as_json() -> None:
    record = logging.LogRecord("sfs.test", logging.INFO, __file__, 1, "moved %s", ("/a",), None)
    request_id, token = begin_request("proxy-req-777777")
    try:
        RequestIdFilter().filter(record)
    finally:
        end_request(token)
    assert vars(record)["request_id"] == request_id == "proxy-req-777777"
    line = json.loads(JsonLines().format(record))
    assert line["request_id"] == "proxy-req-777777" and line["message"] == "moved /a"
    assert line["level"] == "INFO" and line["logger"] == "sfs.test"


def test_throttled_requests_are_counted_by_route(client: TestClient, services: Services) -> None:
    acme = make_tenant(services, "Acme")
    wrong = {"email": acme.user.email, "password": "not-it", "device_name": "t"}
    statuses = [client.post("/api/v1/auth/login", json=wrong).status_code for _ in range(12)]
    assert statuses.count(429) >= 1
    counted = sample(services, "sfs_throttled_requests_total", route="/api/v1/auth/login")
    assert counted == statuses.count(429)


def test_readyz_is_503_when_the_local_blob_folder_is_gone(
    client: TestClient, services: Services
) -> None:
    blobs = Path(services.settings.blob_url.removeprefix("file://"))
    assert client.get("/readyz").status_code == 200
    blobs.rename(blobs.with_name("blobs-unmounted"))
    answer = client.get("/readyz")
    assert answer.status_code == 503 and answer.json()["checks"]["blob_store"] == "unreachable"
    assert str(blobs) not in answer.text
