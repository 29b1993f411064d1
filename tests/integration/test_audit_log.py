"""The audit log: filters, paging, CSV export and the REST endpoint, always within the tenant."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sfs.app import Services
from sfs.domain.actor import ClientInfo, operator
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import InvalidInput, PermissionDenied
from sfs.metadata.models import User
from sfs.services.audit import AuditFilter
from tests.signed_in import log_in, make_provider_admin
from tests.support import GOOD_PASSWORD, FakeClock
from tests.world import CLIENT, Tenant, actor, make_tenant


def _fail_login(services: Services, email: str, client: ClientInfo = CLIENT) -> None:
    """A failed login's event, written as the login service writes it."""
    with services.database.transaction() as session:
        row = session.scalars(select(User).where(User.email == email)).one()
        services.audit.record(
            session,
            AuditEventType.LOGIN_FAILED,
            organization_id=row.organization_id,
            client=client,
            target_user_id=row.id,
            target_email=email,
        )


def _two_tenants(services: Services) -> tuple[Tenant, Tenant]:
    return make_tenant(services, "Acme"), make_tenant(services, "Globex")


def test_an_org_admin_reads_only_their_organisations_events(services: Services) -> None:
    acme, globex = _two_tenants(services)
    _fail_login(services, globex.user.email)
    entries = services.audit.search(actor(services, acme.admin), limit=500).entries
    assert entries, "Acme's own events are listed"
    assert {entry.organization_id for entry in entries} == {acme.organisation.id}
    emails = {entry.target_email for entry in entries}
    assert globex.user.email not in emails and globex.admin.email not in emails


def test_a_provider_admin_reads_every_organisations_events(services: Services) -> None:
    acme, globex = _two_tenants(services)
    entries = services.audit.search(operator(), limit=500).entries
    assert {acme.organisation.id, globex.organisation.id} <= {e.organization_id for e in entries}
    names = {entry.organization_name for entry in entries if entry.organization_id}
    assert names == {"Acme", "Globex"}


def test_users_may_not_read_or_export_the_audit_log(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    user = actor(services, acme.user)
    with pytest.raises(PermissionDenied):
        services.audit.search(user)
    with pytest.raises(PermissionDenied):
        services.audit.export(user, client=CLIENT)
    # even with a bad filter, the refusal is about who asks
    with pytest.raises(PermissionDenied):
        services.audit.search(user, where=AuditFilter(event_type="no.such"))


def test_filters_by_user_email_event_type_and_date_range(
    services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    admin = actor(services, acme.admin)
    clock.advance(days=1)  # 2026-11-26
    _fail_login(services, acme.user.email)
    clock.advance(days=2)  # 2026-11-28
    _fail_login(services, acme.admin.email)
    by_user = services.audit.search(admin, where=AuditFilter(user="USER@acme")).entries
    assert by_user and all(acme.user.email in (e.actor_email, e.target_email) for e in by_user)
    failed = services.audit.search(admin, where=AuditFilter(event_type="login.failed")).entries
    assert [e.target_email for e in failed] == [acme.admin.email, acme.user.email]
    one_day = services.audit.search(
        admin,
        where=AuditFilter(
            event_type="login.failed", date_from=date(2026, 11, 26), date_to=date(2026, 11, 26)
        ),
    ).entries
    assert [e.target_email for e in one_day] == [acme.user.email]
    since = services.audit.search(admin, where=AuditFilter(date_from=date(2026, 11, 27))).entries
    assert [e.target_email for e in since] == [acme.admin.email]
    until = services.audit.search(admin, where=AuditFilter(date_to=date(2026, 11, 24))).entries
    assert until == []


def test_the_user_filter_treats_like_wildcards_as_text(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    admin = actor(services, acme.admin)
    assert services.audit.search(admin, where=AuditFilter(user="%")).entries == []
    assert services.audit.search(admin, where=AuditFilter(user="_")).entries == []


@pytest.mark.parametrize(
    ("where", "field"),
    [
        (AuditFilter(event_type="login.made_up"), "event_type"),
        (AuditFilter(date_from=date(2026, 12, 2), date_to=date(2026, 12, 1)), "date_from"),
        (AuditFilter(user="x" * 255), "user"),
    ],
)
def test_bad_filters_are_refused(services: Services, where: AuditFilter, field: str) -> None:
    acme = make_tenant(services, "Acme")
    with pytest.raises(InvalidInput) as refused:
        services.audit.search(actor(services, acme.admin), where=where)
    assert refused.value.field == field


def test_paging_walks_every_event_once_newest_first(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    admin = actor(services, acme.admin)
    for _ in range(7):
        _fail_login(services, acme.user.email)
    everything = services.audit.search(admin, limit=500).entries
    seen: list[int] = []
    before = None
    while True:
        page = services.audit.search(admin, before=before, limit=3)
        seen += [entry.id for entry in page.entries]
        if page.next_before is None:
            break
        before = page.next_before
    assert seen == [entry.id for entry in everything]
    assert seen == sorted(seen, reverse=True)


def test_the_export_reads_in_batches_and_is_itself_audited(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sfs.services.audit.EXPORT_BATCH_SIZE", 2)
    acme = make_tenant(services, "Acme")
    admin = actor(services, acme.admin)
    for _ in range(4):
        _fail_login(services, acme.user.email)
    before = [entry.id for entry in services.audit.search(admin, limit=500).entries]
    exported = [entry.id for entry in services.audit.export(admin, client=CLIENT)]
    # the export event itself is written before reading, so it leads the export
    assert exported[1:] == before
    (event,) = services.audit.search(
        admin, where=AuditFilter(event_type="audit_log.exported")
    ).entries
    assert event.id == exported[0] and event.actor_email == acme.admin.email


def _browser_events(client: TestClient, services: Services) -> tuple[Tenant, Tenant]:
    acme, globex = _two_tenants(services)
    _fail_login(services, globex.user.email, ClientInfo(address="198.51.100.9", user_agent="=cmd"))
    log_in(client, acme.admin.email)
    return acme, globex


def test_the_audit_page_lists_the_organisations_events(
    client: TestClient, services: Services
) -> None:
    acme, globex = _browser_events(client, services)
    page = client.get("/audit")
    assert page.status_code == 200
    assert '<a href="/audit" aria-current="page">Audit log</a>' in page.text
    assert "login.succeeded" in page.text and acme.admin.email in page.text
    assert globex.user.email not in page.text and "198.51.100.9" not in page.text
    filtered = client.get("/audit", params={"event_type": "user.created", "user": "umberto"})
    assert filtered.status_code == 200 and "No events match these filters." in filtered.text
    by_email = client.get("/audit", params={"event_type": "user.created", "user": "user@acme"})
    assert acme.user.email in by_email.text and acme.admin.email not in by_email.text
    assert 'href="/audit.csv?user=user%40acme&amp;event_type=user.created"' in by_email.text


def test_the_audit_page_pages_by_event_id(client: TestClient, services: Services) -> None:
    acme = make_tenant(services, "Acme")
    for _ in range(60):
        _fail_login(services, acme.user.email)
    log_in(client, acme.admin.email)
    first = client.get("/audit", params={"event_type": "login.failed"})
    assert first.text.count('">login.failed</td>') == 50
    older = first.text.split('href="/audit?event_type=login.failed&amp;before=')[1].split('"')[0]
    second = client.get("/audit", params={"event_type": "login.failed", "before": older})
    assert second.text.count('">login.failed</td>') == 10
    assert "Older events" not in second.text and "Newest events" in second.text


def test_a_bad_date_is_shown_as_an_error(client: TestClient, services: Services) -> None:
    _browser_events(client, services)
    answer = client.get("/audit", params={"date_from": "25/11/2026"})
    assert answer.status_code == 422
    assert "Enter dates as YYYY-MM-DD." in answer.text


def test_the_csv_export_is_scoped_filtered_and_safe_for_spreadsheets(
    client: TestClient, services: Services
) -> None:
    acme, globex = _browser_events(client, services)
    _fail_login(services, acme.user.email, ClientInfo(address="192.0.2.1", user_agent="@SUM(A1)"))
    answer = client.get("/audit.csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"].startswith('attachment; filename="audit-')
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0][:2] == ["time", "event_type"]
    assert globex.user.email not in answer.text and "=cmd" not in answer.text
    agents = [row[6] for row in rows[1:]]
    assert "'@SUM(A1)" in agents and "@SUM(A1)" not in agents
    filtered = client.get("/audit.csv", params={"event_type": "login.failed"})
    failed_rows = list(csv.reader(io.StringIO(filtered.text)))[1:]
    assert [row[4] for row in failed_rows] == [acme.user.email]


def test_a_provider_admin_exports_every_organisation(
    client: TestClient, services: Services
) -> None:
    _acme, globex = _two_tenants(services)
    _fail_login(services, globex.user.email, ClientInfo(address="198.51.100.9", user_agent="=cmd"))
    make_provider_admin(services)
    log_in(client, "provider@sfs.example.com")
    assert '<th scope="col">Organisation</th>' in client.get("/audit").text
    rows = list(csv.reader(io.StringIO(client.get("/audit.csv").text)))
    globex_failure = next(row for row in rows if row[1] == "login.failed")
    assert globex_failure[2] == "Globex" and globex_failure[6] == "'=cmd"


def test_users_get_403_for_the_audit_page_and_csv(client: TestClient, services: Services) -> None:
    acme = make_tenant(services, "Acme")
    log_in(client, acme.user.email)
    assert "/audit" not in client.get("/").text
    assert client.get("/audit").status_code == 403
    assert client.get("/audit.csv").status_code == 403
    assert client.get("/audit", params={"date_from": "bad"}).status_code == 403


def _api_token(client: TestClient, email: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/login", json={"email": email, "password": GOOD_PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def test_the_rest_endpoint_filters_within_the_organisation(
    client: TestClient, services: Services
) -> None:
    acme, globex = _two_tenants(services)
    _fail_login(services, globex.user.email)
    _fail_login(services, acme.user.email)
    headers = _api_token(client, acme.admin.email)
    answer = client.get("/api/v1/audit", headers=headers)
    assert answer.status_code == 200
    events = answer.json()["events"]
    assert events and {e["organization_id"] for e in events} == {str(acme.organisation.id)}
    assert globex.user.email not in answer.text
    failed = client.get(
        "/api/v1/audit", headers=headers, params={"event_type": "login.failed", "limit": 1}
    ).json()
    assert [e["target_email"] for e in failed["events"]] == [acme.user.email]
    assert failed["next_before"] is None
    bad = client.get("/api/v1/audit", headers=headers, params={"event_type": "nope"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_input"


def test_the_rest_endpoint_refuses_users_and_strangers(
    client: TestClient, services: Services
) -> None:
    acme = make_tenant(services, "Acme")
    assert client.get("/api/v1/audit").status_code == 401
    answer = client.get("/api/v1/audit", headers=_api_token(client, acme.user.email))
    assert answer.status_code == 403 and answer.json()["code"] == "permission_denied"


def test_there_is_no_way_to_change_or_delete_events(client: TestClient, services: Services) -> None:
    acme, _globex = _browser_events(client, services)
    headers = _api_token(client, acme.admin.email)
    first = client.get("/api/v1/audit", headers=headers).json()["events"][0]["id"]
    for method in ("PUT", "PATCH", "DELETE"):
        assert client.request(method, "/audit").status_code == 405
        assert client.request(method, "/api/v1/audit", headers=headers).status_code == 405
        assert client.request(method, f"/api/v1/audit/{first}", headers=headers).status_code in (
            404,
            405,
        )
