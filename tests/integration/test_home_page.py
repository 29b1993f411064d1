"""The home page: a user's recent files, storage, second factor and devices; for an Organization
Admin also the organisation's state. All of it from the user's own organisation only.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sfs.app import Services
from sfs.domain.actor import Actor, ClientInfo, operator
from sfs.domain.errors import AuthenticationFailed, PermissionDenied
from sfs.services.overview import SECURITY_EVENTS
from tests.integration.test_second_factor import enrol_totp
from tests.signed_in import log_in
from tests.support import FakeClock
from tests.world import CLIENT, actor, make_tenant

LAPTOP = ClientInfo(address="198.51.100.20", user_agent="sfs-sync/0.1.0 (Linux; x86_64)")


def put(services: Services, who: Actor, path: str, data: bytes) -> None:
    services.file_content.upload(
        who,
        space_id=services.spaces.my_files(who).id,
        path=path,
        source=[data],
        modified_at=services.clock.now(),
        base_version=None,
        client=CLIENT,
    )


def test_a_user_sees_recent_files_storage_second_factor_and_devices(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    user = actor(services, acme.user)
    services.file_tree.create_folder(
        user, space_id=services.spaces.my_files(user).id, path="/Plans", client=CLIENT
    )
    put(services, user, "/Plans/budget.ods", b"x" * 3000)
    clock.advance(minutes=1)
    put(services, user, "/notes.txt", b"hello")
    services.retention.set_quota(
        operator(),
        organization_id=acme.organisation.id,
        user_id=acme.user.id,
        quota_bytes=10 * 1024 * 1024,
        client=CLIENT,
    )
    services.device_tokens.issue(user, device_name="Work laptop", client=LAPTOP)

    mine = services.overview.mine(user)
    assert [f.path for f in mine.recent_files] == ["/notes.txt", "/Plans/budget.ods"]
    assert mine.used_bytes >= 3005 and mine.quota_bytes == 10 * 1024 * 1024

    log_in(client, acme.user.email)
    home = client.get("/").text
    assert "notes.txt" in home and "budget.ods" in home and "/Plans" in home
    assert "of 10.5 MB used" in home  # SI units everywhere: 10 MiB is 10.5 MB
    assert "Off: your password alone protects your files." in home
    assert "Work laptop" in home
    assert "Your organisation" not in home  # a user sees no organisation state


def test_an_administrator_sees_the_organisations_state_and_nothing_of_others(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    acme = make_tenant(services, "Acme")
    globex = make_tenant(services, "Globex")
    enrol_totp(services, actor(services, acme.admin), clock)
    # A security event in each organisation: a failed login.
    for tenant in (acme, globex):
        with pytest.raises(AuthenticationFailed):
            services.login.authenticate(
                email=tenant.user.email, password="wrong", client=CLIENT, channel="web"
            )
    state = services.overview.organisation(actor(services, acme.admin))
    assert state.name == "Acme"
    assert [p.email for p in state.without_second_factor] == [acme.user.email]
    assert state.without_second_factor_count == 1 and state.active_users == 2
    assert state.security_events and all(
        e.event_type in SECURITY_EVENTS for e in state.security_events
    )
    assert all(
        globex.user.email not in (e.target_email, e.actor_email) for e in state.security_events
    )
    with pytest.raises(PermissionDenied):
        services.overview.organisation(actor(services, acme.user))

    log_in(client, globex.admin.email)
    home = client.get("/").text
    assert "Your organisation" in home
    assert "2 of 2 active users have no second factor." in home
    assert acme.user.email not in home and acme.admin.display_name not in home
    assert "login.failed" in home
