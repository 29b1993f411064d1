"""Devices: every way a user is signed in, listed, revoked, signed out everywhere, and wiped.

The rules of the Devices page and of remote wipe, on SQLite and PostgreSQL: who may act on whose
devices, what a wiped token still answers (the wipe check and one confirmation) and what it does
not, the emails and the audit trail.
"""

from __future__ import annotations

import json
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sfs.app import Services, build_services
from sfs.auth.throttle import RateLimiters
from sfs.config import Settings
from sfs.crypto.passwords import PasswordHasher
from sfs.domain.actor import ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import (
    DeviceWiped,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from sfs.metadata.db import Database
from sfs.metadata.models import AuditEvent, DeviceToken, User, WebSession
from tests.support import FAST_HASH, FakeClock, read_outbox
from tests.world import CLIENT, Tenant, actor, make_tenant

LAPTOP = ClientInfo(address="198.51.100.20", user_agent="sfs-client/0.1.0 (Linux; x86_64)")
FIREFOX = ClientInfo(
    address="198.51.100.30",
    user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
)
NEXTCLOUD = ClientInfo(
    address="198.51.100.40",
    user_agent="Mozilla/5.0 (Windows) mirall/3.7.3git (Nextcloud, windows-10.0.19045)",
)


@pytest.fixture
def acme(services: Services) -> Tenant:
    return make_tenant(services, "Acme")


@pytest.fixture
def globex(services: Services) -> Tenant:
    return make_tenant(services, "Globex")


def mails(services: Services) -> list[EmailMessage]:
    services.notifier.background.flush()
    return read_outbox(services.settings.outbox_dir)


def mails_to(services: Services, email: str) -> list[EmailMessage]:
    return [message for message in mails(services) if message["To"] == email]


def events(services: Services, kind: AuditEventType) -> list[dict[str, object]]:
    with services.database.transaction() as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.event_type == kind.value).order_by(AuditEvent.id)
        ).all()
        return [
            {"actor": row.actor_email, "target": row.target_email, **json.loads(row.details)}
            for row in rows
        ]


def set_language(services: Services, tenant_user_id: object, language: str) -> None:
    with services.database.transaction() as session:
        user = session.get(User, tenant_user_id)
        assert user is not None
        user.language = language


def token_row(services: Services, token_id: object) -> DeviceToken:
    with services.database.transaction() as session:
        row = session.get(DeviceToken, token_id)
        assert row is not None
        session.expunge(row)
        return row


# -- the list ------------------------------------------------------------------------------


def test_the_list_shows_each_device_and_browser_with_what_its_user_agent_says(
    services: Services, acme: Tenant, clock: FakeClock
) -> None:
    user = actor(services, acme.user)
    laptop = services.device_tokens.issue(user, device_name="Work laptop", client=LAPTOP)
    clock.advance(hours=1)
    services.device_tokens.resolve(
        laptop.secret,
        client=ClientInfo(address="198.51.100.21", user_agent="sfs-sync/0.2.0 (Linux; x86_64)"),
        space="Projects",
    )
    app_password = services.app_passwords.create(user, name="Desktop", client=NEXTCLOUD)
    here = services.web_sessions.start(user, client=FIREFOX)
    services.web_sessions.start(
        user, client=ClientInfo(address="192.0.2.9", user_agent="Mozilla/5.0 (Windows NT 10.0)")
    )

    listed = services.devices.listing(user, current_session_cookie=here.cookie_value)

    first, second = listed.devices
    assert (first.id, first.name, first.kind) == (laptop.id, "Work laptop", "sync")
    assert (first.client, first.version, first.platform) == ("sfs sync", "0.2.0", "Linux")
    assert first.first_seen < first.last_seen  # type: ignore[operator]
    assert first.last_address == "198.51.100.21"
    assert first.synced_spaces == ["Projects"]
    assert first.wipe_state is None
    assert (second.id, second.kind) == (app_password.id, "app_password")
    assert (second.client, second.version, second.platform) == (
        "Nextcloud desktop",
        "3.7.3git",
        "Windows",
    )
    assert second.last_seen is None
    current = [browser for browser in listed.browsers if browser.is_current]
    assert len(listed.browsers) == 2 and len(current) == 1
    assert (current[0].client, current[0].version, current[0].platform) == (
        "Firefox",
        "128",
        "Linux",
    )


def test_a_device_names_each_space_it_syncs_and_its_newest_software(
    services: Services, acme: Tenant, clock: FakeClock
) -> None:
    user = actor(services, acme.user)
    laptop = services.device_tokens.issue(user, device_name="Laptop", client=LAPTOP)
    for space in ("My Files", "Projects", "My Files", "Bad\nname", ""):
        services.device_tokens.resolve(laptop.secret, client=LAPTOP, space=space)
    services.device_tokens.resolve(
        laptop.secret, client=ClientInfo(user_agent="sfs-sync/0.3.0 (Darwin; arm64)")
    )
    (device,) = services.devices.listing(user).devices
    assert device.synced_spaces == ["Projects", "My Files"]
    assert (device.version, device.platform) == ("0.3.0", "macOS")


def test_an_administrator_sees_the_devices_of_their_own_organisation_only(
    services: Services, acme: Tenant, globex: Tenant
) -> None:
    services.device_tokens.issue(actor(services, acme.user), device_name="Laptop", client=LAPTOP)
    listed = services.devices.listing(actor(services, acme.admin), user_id=acme.user.id)
    assert [device.name for device in listed.devices] == ["Laptop"]
    with pytest.raises(NotFound):
        services.devices.listing(actor(services, globex.admin), user_id=acme.user.id)
    with pytest.raises(PermissionDenied):
        services.devices.listing(actor(services, acme.user), user_id=acme.admin.id)


# -- revoke, end a browser, sign out everywhere --------------------------------------------


def test_revoking_a_device_ends_its_token_and_is_audited(
    services: Services, acme: Tenant, globex: Tenant
) -> None:
    user = actor(services, acme.user)
    laptop = services.device_tokens.issue(user, device_name="Laptop", client=LAPTOP)
    with pytest.raises(NotFound):  # another organisation's admin: as if it did not exist
        services.devices.revoke(
            actor(services, globex.admin), laptop.id, client=CLIENT, user_id=acme.user.id
        )
    services.device_tokens.resolve(laptop.secret)  # still works
    services.devices.revoke(
        actor(services, acme.admin), laptop.id, client=CLIENT, user_id=acme.user.id
    )
    with pytest.raises(NotAuthenticated):
        services.device_tokens.resolve(laptop.secret)
    with pytest.raises(InvalidInput):
        services.devices.revoke(user, laptop.id, client=CLIENT)
    (revoked,) = events(services, AuditEventType.DEVICE_TOKEN_REVOKED)
    assert revoked["actor"] == acme.admin.email and revoked["target"] == acme.user.email
    assert services.devices.listing(user).devices == []


def test_a_user_ends_a_browser_left_open_elsewhere_but_not_this_one_by_mistake(
    services: Services, acme: Tenant
) -> None:
    user = actor(services, acme.user)
    here = services.web_sessions.start(user, client=FIREFOX)
    services.web_sessions.start(user, client=CLIENT)
    listed = services.devices.listing(user, current_session_cookie=here.cookie_value)
    this = next(browser for browser in listed.browsers if browser.is_current)
    other = next(browser for browser in listed.browsers if not browser.is_current)

    with pytest.raises(InvalidInput, match="browser you are using"):
        services.devices.end_browser(
            user, this.handle, client=FIREFOX, current_session_cookie=here.cookie_value
        )
    services.devices.end_browser(
        user, other.handle, client=FIREFOX, current_session_cookie=here.cookie_value
    )
    left = services.devices.listing(user, current_session_cookie=here.cookie_value).browsers
    assert [browser.handle for browser in left] == [this.handle]
    with pytest.raises(NotFound):
        services.devices.end_browser(user, other.handle, client=FIREFOX)
    assert len(events(services, AuditEventType.SESSION_REVOKED)) == 1


def test_sign_out_everywhere_keeps_this_browser_only(services: Services, acme: Tenant) -> None:
    user = actor(services, acme.user)
    here = services.web_sessions.start(user, client=FIREFOX)
    services.web_sessions.start(user, client=CLIENT)
    laptop = services.device_tokens.issue(user, device_name="Laptop", client=LAPTOP)
    services.app_passwords.create(user, name="Phone", client=NEXTCLOUD)

    ended, revoked = services.devices.sign_out_everywhere(
        user, client=FIREFOX, current_session_cookie=here.cookie_value
    )

    assert (ended, revoked) == (1, 2)
    services.web_sessions.resolve(here.cookie_value, client=FIREFOX)
    with pytest.raises(NotAuthenticated):
        services.device_tokens.resolve(laptop.secret)
    with services.database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(WebSession)) == 1
    (everywhere,) = events(services, AuditEventType.SIGNED_OUT_EVERYWHERE)
    assert (everywhere["browsers"], everywhere["devices"]) == (1, 2)
    assert len(events(services, AuditEventType.DEVICE_TOKEN_REVOKED)) == 2


# -- remote wipe ---------------------------------------------------------------------------


def test_a_wiped_token_answers_only_the_wipe_check_and_one_confirmation(
    services: Services, acme: Tenant, clock: FakeClock
) -> None:
    user = actor(services, acme.user)
    laptop = services.device_tokens.issue(user, device_name="Laptop", client=LAPTOP)
    assert services.device_wipe.must_wipe(laptop.secret) is False
    with pytest.raises(NotFound):  # nothing to confirm before a wipe is asked for
        services.device_wipe.confirm(laptop.secret, client=LAPTOP)

    services.devices.request_wipe(
        actor(services, acme.admin), laptop.id, client=CLIENT, user_id=acme.user.id
    )

    with pytest.raises(DeviceWiped):
        services.device_tokens.resolve(laptop.secret)
    assert services.device_wipe.must_wipe(laptop.secret) is True
    (pending,) = services.devices.listing(user).devices
    assert pending.wipe_state == "wipe_pending" and pending.wipe_requested_at == clock.now()
    assert token_row(services, laptop.id).revoked_at == clock.now()

    clock.advance(minutes=3)
    services.device_wipe.confirm(laptop.secret, client=LAPTOP, kept=2)

    (done,) = services.devices.listing(user).devices
    assert done.wipe_state == "wiped" and done.wiped_at == clock.now()
    assert services.device_wipe.must_wipe(laptop.secret) is False
    with pytest.raises(DeviceWiped):  # every other call still tells it to erase
        services.device_tokens.resolve(laptop.secret)
    (requested,) = events(services, AuditEventType.DEVICE_WIPE_REQUESTED)
    assert requested["actor"] == acme.admin.email and requested["device"] == "Laptop"
    (confirmed,) = events(services, AuditEventType.DEVICE_WIPED)
    assert confirmed["target"] == acme.user.email and confirmed["files_kept"] == 2


def test_a_wipe_confirmed_sends_one_email_to_the_user_and_one_to_the_admin_in_their_language(
    services: Services, acme: Tenant
) -> None:
    set_language(services, acme.user.id, "nl")
    user = actor(services, acme.user)
    laptop = services.device_tokens.issue(user, device_name="Laptop", client=LAPTOP)
    services.devices.request_wipe(
        actor(services, acme.admin), laptop.id, client=CLIENT, user_id=acme.user.id
    )
    before = len(mails(services))
    services.device_wipe.confirm(laptop.secret, client=LAPTOP)

    with pytest.raises(NotFound):  # replayed: refused, and no second email
        services.device_wipe.confirm(laptop.secret, client=LAPTOP)
    sent = mails(services)[before:]
    assert sorted(message["To"] for message in sent) == [acme.admin.email, acme.user.email]
    to_user = next(message for message in sent if message["To"] == acme.user.email)
    to_admin = next(message for message in sent if message["To"] == acme.admin.email)
    assert to_user["Subject"] == "Een apparaat is gewist"
    assert 'Uw apparaat "Laptop" is gewist.' in to_user.get_content()
    assert to_admin["Subject"] == "A device was wiped"
    assert acme.user.email in to_admin.get_content()
    assert len(events(services, AuditEventType.DEVICE_WIPED)) == 1


def test_a_user_wipes_their_own_app_password_and_the_nextcloud_secret_is_checked_as_typed(
    services: Services, acme: Tenant
) -> None:
    user = actor(services, acme.user)
    created = services.app_passwords.create(user, name="Phone", client=NEXTCLOUD)
    services.devices.request_wipe(user, created.id, client=FIREFOX)
    typed = created.secret.upper().replace("-", " ")
    assert services.device_wipe.must_wipe(typed) is True
    assert services.app_passwords.find(acme.user.id, created.secret) is None  # dead for DAV
    before = len(mails(services))
    services.device_wipe.confirm(created.secret, client=NEXTCLOUD)
    # The user asked for it: one email, to them.
    assert [message["To"] for message in mails(services)[before:]] == [acme.user.email]


def test_a_wipe_of_another_organisations_device_is_not_found_and_changes_nothing(
    services: Services, acme: Tenant, globex: Tenant
) -> None:
    laptop = services.device_tokens.issue(
        actor(services, acme.user), device_name="Laptop", client=LAPTOP
    )
    with pytest.raises(NotFound):
        services.devices.request_wipe(
            actor(services, globex.admin), laptop.id, client=CLIENT, user_id=acme.user.id
        )
    with pytest.raises(NotFound):  # their own id, someone else's device
        services.devices.request_wipe(
            actor(services, globex.admin), laptop.id, client=CLIENT, user_id=globex.user.id
        )
    with pytest.raises(NotFound):
        services.devices.request_wipe(actor(services, globex.user), laptop.id, client=CLIENT)
    row = token_row(services, laptop.id)
    assert (row.wipe_state, row.revoked_at) == (None, None)
    services.device_tokens.resolve(laptop.secret)
    assert events(services, AuditEventType.DEVICE_WIPE_REQUESTED) == []


def test_a_wipe_asked_twice_is_refused_and_a_revoked_device_can_still_be_wiped(
    services: Services, acme: Tenant
) -> None:
    user = actor(services, acme.user)
    laptop = services.device_tokens.issue(user, device_name="Laptop", client=LAPTOP)
    services.devices.revoke(user, laptop.id, client=CLIENT)
    services.devices.request_wipe(user, laptop.id, client=CLIENT)  # stolen after all
    with pytest.raises(InvalidInput, match="already requested"):
        services.devices.request_wipe(user, laptop.id, client=CLIENT)
    assert services.device_wipe.must_wipe(laptop.secret) is True


def test_a_wipe_that_never_completes_stays_pending_and_visible(
    services: Services, acme: Tenant, clock: FakeClock
) -> None:
    user = actor(services, acme.user)
    laptop = services.device_tokens.issue(user, device_name="Laptop", client=LAPTOP)
    services.devices.request_wipe(user, laptop.id, client=CLIENT)
    clock.advance(days=400)  # far past the idle expiry
    (pending,) = services.devices.listing(user).devices
    assert pending.wipe_state == "wipe_pending"
    with pytest.raises(DeviceWiped):
        services.device_tokens.resolve(laptop.secret)
    assert services.device_wipe.must_wipe(laptop.secret) is True


def test_wipe_checks_of_secrets_that_are_no_device_say_no(services: Services, acme: Tenant) -> None:
    for secret in ("", "sfs_nothing", "x" * 500, "aaaaa-bbbbb-ccccc-ddddd-eeeee", "password"):
        assert services.device_wipe.must_wipe(secret) is False
        with pytest.raises(NotFound):
            services.device_wipe.confirm(secret, client=CLIENT)


# -- new-device notice ---------------------------------------------------------------------


def test_a_new_device_or_app_password_is_announced_to_the_user_in_their_language(
    services: Services, acme: Tenant
) -> None:
    user = actor(services, acme.user)
    services.device_tokens.issue(user, device_name="Work laptop", client=LAPTOP)
    (notice,) = mails_to(services, acme.user.email)
    assert notice["Subject"] == "A new device can reach your Secure File Sync files"
    body = notice.get_content()
    assert 'A new device "Work laptop" signed in' in body
    assert "198.51.100.20" in body and "sfs CLI 0.1.0 (Linux)" in body
    assert f"{services.settings.base_url}/account/devices" in body

    set_language(services, acme.user.id, "nl")
    services.app_passwords.create(user, name="Telefoon", client=NEXTCLOUD)
    dutch = mails_to(services, acme.user.email)[-1]
    assert dutch["Subject"] == "Een nieuw apparaat kan bij uw Secure File Sync-bestanden"
    assert 'nieuw app-wachtwoord "Telefoon"' in dutch.get_content()


def test_a_login_flow_approval_announces_the_new_app_password(
    services: Services, acme: Tenant
) -> None:
    started = services.login_flows.start(client=NEXTCLOUD)
    services.login_flows.grant(actor(services, acme.user), started.login_token)
    services.login_flows.collect(started.poll_token, client=NEXTCLOUD)
    (notice,) = mails_to(services, acme.user.email)
    assert "Nextcloud desktop 3.7.3git (Windows)" in notice.get_content()


# -- the native client's wipe calls over HTTP ----------------------------------------------


def test_over_http_a_wiped_token_gets_device_wiped_then_checks_and_confirms_once(
    client: TestClient, services: Services, acme: Tenant
) -> None:
    laptop = services.device_tokens.issue(
        actor(services, acme.user), device_name="Laptop", client=LAPTOP
    )
    bearer = {"Authorization": f"Bearer {laptop.secret}"}
    seen = client.get("/api/v1/me", headers={**bearer, "X-SFS-Synced-Space": "My Files"})
    assert seen.status_code == 200
    assert client.post("/api/v1/auth/wipe/check", headers=bearer).json() == {"wipe": False}
    assert client.post("/api/v1/auth/wipe/done", headers=bearer).status_code == 404

    services.devices.request_wipe(actor(services, acme.user), laptop.id, client=CLIENT)

    refused = client.get("/api/v1/me", headers=bearer)
    assert refused.status_code == 401 and refused.json()["code"] == "device_wiped"
    assert client.post("/api/v1/auth/wipe/check", headers=bearer).json() == {"wipe": True}
    assert client.post("/api/v1/auth/wipe/check").status_code == 401
    unknown = {"Authorization": "Bearer sfs_not-a-device"}
    assert client.post("/api/v1/auth/wipe/check", headers=unknown).status_code == 401
    assert client.post("/api/v1/auth/wipe/done", headers=unknown).status_code == 401
    bad = client.post("/api/v1/auth/wipe/done", headers=bearer, json={"files_kept": -1})
    assert bad.status_code == 422
    assert services.device_wipe.must_wipe(laptop.secret) is True  # nothing changed
    done = client.post("/api/v1/auth/wipe/done", headers=bearer, json={"files_kept": 1})
    assert done.status_code == 204
    replayed = client.post("/api/v1/auth/wipe/done", headers=bearer, json={"files_kept": 1})
    assert replayed.status_code == 404
    assert client.post("/api/v1/auth/wipe/check", headers=bearer).json() == {"wipe": False}
    (device,) = services.devices.listing(actor(services, acme.user)).devices
    assert device.wipe_state == "wiped" and device.synced_spaces == ["My Files"]
    assert len(events(services, AuditEventType.DEVICE_WIPED)) == 1


class RefusingMailer:
    def send(self, message: EmailMessage) -> None:
        raise OSError("the mail server is down")


def test_a_mail_server_refusing_the_notices_fails_neither_the_login_nor_the_wipe(
    settings: Settings, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    database = Database.from_url(settings.database_url)
    services = build_services(
        settings,
        database=database,
        clock=clock,
        mailer=RefusingMailer(),
        hasher=PasswordHasher(FAST_HASH),
        limiters=RateLimiters.from_storage_uri("memory://"),
        master_key=bytes(range(32)),
    )
    try:
        acme = make_tenant(services, "Acme")
        laptop = services.device_tokens.issue(
            actor(services, acme.user), device_name="Laptop", client=LAPTOP
        )
        services.devices.request_wipe(actor(services, acme.user), laptop.id, client=CLIENT)
        services.device_wipe.confirm(laptop.secret, client=LAPTOP)
        (device,) = services.devices.listing(actor(services, acme.user)).devices
        assert device.wipe_state == "wiped"
        assert caplog.text.count("Could not send a device notice") == 2
    finally:
        database.dispose()


def test_wipe_checks_and_confirmations_are_throttled_per_address(
    client: TestClient, services: Services, acme: Tenant
) -> None:
    laptop = services.device_tokens.issue(
        actor(services, acme.user), device_name="Laptop", client=LAPTOP
    )
    services.devices.request_wipe(actor(services, acme.user), laptop.id, client=CLIENT)
    guess = {"Authorization": "Bearer sfs_a-guessed-token"}
    answers = [client.post("/api/v1/auth/wipe/check", headers=guess).status_code for _ in range(30)]
    assert answers == [401] * 30
    for path in ("/api/v1/auth/wipe/check", "/api/v1/auth/wipe/done"):
        throttled = client.post(path, headers={"Authorization": f"Bearer {laptop.secret}"})
        assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    # Another address is counted on its own, and the device's wipe is still waiting for it.
    assert services.device_wipe.must_wipe(laptop.secret, client=LAPTOP) is True
