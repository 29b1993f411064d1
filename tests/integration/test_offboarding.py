"""Offboarding: disabling an account closes off its devices (optionally wiping them); deleting
it may first hand its files, with their versions, to a colleague."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sfs.app import Services
from sfs.domain.actor import Actor, ClientInfo, operator
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import DeviceWiped, InvalidInput, NotAuthenticated, QuotaExceeded
from sfs.metadata.file_models import Node, Space, Version
from sfs.metadata.models import User
from tests.integration.test_devices import events, mails
from tests.signed_in import log_in, page_csrf_token
from tests.world import CLIENT, Tenant, actor, make_tenant

LAPTOP = ClientInfo(address="198.51.100.20", user_agent="sfs-sync/0.1.0 (Linux; x86_64)")


@pytest.fixture
def acme(services: Services) -> Tenant:
    return make_tenant(services, "Acme")


def put(services: Services, who: Actor, path: str, data: bytes, base: int | None = None) -> None:
    services.file_content.upload(
        who,
        space_id=services.spaces.my_files(who).id,
        path=path,
        source=[data],
        modified_at=services.clock.now(),
        base_version=base,
        client=CLIENT,
    )


def read(services: Services, who: Actor, path: str, version: int | None = None) -> bytes:
    space = services.spaces.my_files(who).id
    download = services.file_content.download(who, space_id=space, path=path, version=version)
    return b"".join(download.body)


def some_files(services: Services, who: Actor) -> None:
    """A file with two versions, a folder with a file, and a file in the trash."""
    space = services.spaces.my_files(who).id
    put(services, who, "/report.txt", b"first draft")
    put(services, who, "/report.txt", b"final text", base=1)
    services.file_tree.create_folder(who, space_id=space, path="/clients", client=CLIENT)
    put(services, who, "/clients/acme.pdf", b"contract")
    put(services, who, "/clients/old.pdf", b"binned")
    services.file_tree.delete(who, space_id=space, path="/clients/old.pdf", client=CLIENT)


# -- disabling -----------------------------------------------------------------------------


def test_disabling_revokes_every_device_each_audited(services: Services, acme: Tenant) -> None:
    user = actor(services, acme.user)
    laptop = services.device_tokens.issue(user, device_name="Laptop", client=LAPTOP)
    services.app_passwords.create(user, name="Phone", client=LAPTOP)
    browser = services.web_sessions.start(user, client=LAPTOP)

    services.account_admin.disable(actor(services, acme.admin), acme.user.id, client=CLIENT)

    with pytest.raises(NotAuthenticated):
        services.device_tokens.resolve(laptop.secret)
    with pytest.raises(NotAuthenticated):
        services.web_sessions.resolve(browser.cookie_value, client=LAPTOP)
    revoked = events(services, AuditEventType.DEVICE_TOKEN_REVOKED)
    assert [(e["device"], e["reason"]) for e in revoked] == [
        ("Laptop", "account_disabled"),
        ("Phone", "account_disabled"),
    ]
    assert services.device_wipe.must_wipe(laptop.secret) is False
    assert events(services, AuditEventType.DEVICE_WIPE_REQUESTED) == []


def test_disabling_with_wipe_has_each_device_erase_itself_and_report(
    services: Services, acme: Tenant
) -> None:
    user = actor(services, acme.user)
    laptop = services.device_tokens.issue(user, device_name="Laptop", client=LAPTOP)
    old = services.device_tokens.issue(user, device_name="Old laptop", client=LAPTOP)
    services.devices.revoke(user, old.id, client=CLIENT)  # signed out long ago: not wiped

    services.account_admin.disable(
        actor(services, acme.admin), acme.user.id, client=CLIENT, wipe_devices=True
    )

    with pytest.raises(DeviceWiped):  # the disabled account's device still learns to erase
        services.device_tokens.resolve(laptop.secret)
    assert services.device_wipe.must_wipe(laptop.secret) is True
    assert services.device_wipe.must_wipe(old.secret) is False
    before = len(mails(services))
    services.device_wipe.confirm(laptop.secret, client=LAPTOP)
    sent = mails(services)[before:]
    assert sorted(m["To"] for m in sent) == [acme.admin.email, acme.user.email]
    (requested,) = events(services, AuditEventType.DEVICE_WIPE_REQUESTED)
    assert requested["reason"] == "account_disabled"
    (disabled,) = events(services, AuditEventType.USER_DISABLED)
    assert disabled["devices_wiped"] == 1


# -- deleting with a transfer ---------------------------------------------------------------


def test_deleting_hands_the_files_and_their_versions_to_a_colleague(
    services: Services, acme: Tenant
) -> None:
    leaver, admin = actor(services, acme.user), actor(services, acme.admin)
    some_files(services, leaver)
    put(services, admin, "/mine.txt", b"the admin's own")
    receiving = services.spaces.my_files(admin)
    cursor = receiving.journal_seq

    services.account_admin.delete(
        admin,
        acme.user.id,
        confirm_email=acme.user.email,
        client=CLIENT,
        transfer_to=acme.admin.id,
    )

    folder = "/From Umberto Acme"
    assert read(services, admin, f"{folder}/report.txt") == b"final text"
    assert read(services, admin, f"{folder}/clients/acme.pdf") == b"contract"
    assert read(services, admin, "/mine.txt") == b"the admin's own"
    history = services.file_versions.list_versions(
        admin, space_id=receiving.id, path=f"{folder}/report.txt"
    )
    assert [v.number for v in history] == [2, 1]
    assert read(services, admin, f"{folder}/report.txt", version=1) == b"first draft"
    listed = services.file_tree.list_folder(admin, space_id=receiving.id, path=f"{folder}/clients")
    assert [n.name for n in listed] == ["acme.pdf"]  # the trash was not handed over
    feed = services.changes.since(admin, space_id=receiving.id, cursor=cursor)
    assert [(c.operation, c.path) for c in feed.changes] == [
        ("create", folder),
        ("create", f"{folder}/clients"),
        ("create", f"{folder}/clients/acme.pdf"),
        ("create", f"{folder}/report.txt"),
    ]
    with services.database.transaction() as session:
        assert session.get(User, acme.user.id) is None
        assert session.scalar(select(func.count()).select_from(Space)) == 1
        # report.txt's two, acme.pdf's and the admin's own: the trashed file's went with the
        # account.
        assert session.scalar(select(func.count()).select_from(Version)) == 4
    (moved,) = events(services, AuditEventType.FILES_TRANSFERRED)
    assert (moved["receiver"], moved["files"], moved["folders"]) == (acme.admin.email, 2, 1)


def test_a_second_transfer_gets_a_folder_of_its_own(services: Services, acme: Tenant) -> None:
    admin = actor(services, acme.admin)
    services.file_tree.create_folder(
        admin, space_id=services.spaces.my_files(admin).id, path="/From Umberto Acme", client=CLIENT
    )
    put(services, admin, "/From Umberto Acme/keep.txt", b"already here")
    some_files(services, actor(services, acme.user))
    services.account_admin.delete(
        admin, acme.user.id, confirm_email=acme.user.email, client=CLIENT, transfer_to=admin.user_id
    )
    assert read(services, admin, "/From Umberto Acme (2)/report.txt") == b"final text"
    assert read(services, admin, "/From Umberto Acme/keep.txt") == b"already here"


def test_a_transfer_to_someone_outside_the_organisation_or_to_themselves_changes_nothing(
    services: Services, acme: Tenant
) -> None:
    globex = make_tenant(services, "Globex")
    leaver, admin = actor(services, acme.user), actor(services, acme.admin)
    some_files(services, leaver)
    for receiver in (globex.user.id, acme.user.id, globex.organisation.id):
        with pytest.raises(InvalidInput, match="another member"):
            services.account_admin.delete(
                admin,
                acme.user.id,
                confirm_email=acme.user.email,
                client=CLIENT,
                transfer_to=receiver,
            )
    assert read(services, leaver, "/report.txt") == b"final text"
    with services.database.transaction() as session:
        assert session.get(User, acme.user.id) is not None
        assert (
            session.scalar(
                select(func.count())
                .select_from(Node)
                .where(Node.space_id == services.spaces.my_files(leaver).id)
            )
            == 5
        )  # the root, two files, a folder, the trashed file
    assert events(services, AuditEventType.FILES_TRANSFERRED) == []


# -- in the portal --------------------------------------------------------------------------


def test_the_admin_disables_with_wipe_and_deletes_with_a_transfer_in_the_portal(
    client: TestClient, services: Services, acme: Tenant
) -> None:
    user = actor(services, acme.user)
    laptop = services.device_tokens.issue(user, device_name="Laptop", client=LAPTOP)
    some_files(services, user)
    log_in(client, acme.admin.email)
    token = page_csrf_token(client, f"/accounts/{acme.user.id}")
    assert 'name="wipe_devices"' in client.get(f"/accounts/{acme.user.id}").text
    disabled = client.post(
        f"/accounts/{acme.user.id}/disable",
        data={"csrf_token": token, "wipe_devices": "on"},
        follow_redirects=False,
    )
    assert disabled.status_code == 303
    assert services.device_wipe.must_wipe(laptop.secret) is True

    form = client.get(f"/accounts/{acme.user.id}/delete").text
    assert f'<option value="{acme.admin.id}">' in form and f'value="{acme.user.id}"' not in form
    refused = client.post(
        f"/accounts/{acme.user.id}/delete",
        data={"csrf_token": token, "confirm_email": acme.user.email, "transfer_to": "bogus"},
    )
    assert refused.status_code == 422 and "another member" in refused.text
    deleted = client.post(
        f"/accounts/{acme.user.id}/delete",
        data={
            "csrf_token": token,
            "confirm_email": acme.user.email,
            "transfer_to": str(acme.admin.id),
        },
        follow_redirects=False,
    )
    assert deleted.status_code == 303
    admin = actor(services, acme.admin)
    assert read(services, admin, "/From Umberto Acme/report.txt") == b"final text"


def test_a_transfer_over_the_receivers_quota_is_refused_and_changes_nothing(
    services: Services, acme: Tenant
) -> None:
    leaver, admin = actor(services, acme.user), actor(services, acme.admin)
    some_files(services, leaver)
    services.retention.set_quota(
        operator(),  # the provider sets quotas
        organization_id=acme.organisation.id,
        user_id=acme.admin.id,
        quota_bytes=10,  # the receiver: less than the leaver's files hold
        client=CLIENT,
    )
    with pytest.raises(QuotaExceeded, match="over their quota"):
        services.account_admin.delete(
            admin,
            acme.user.id,
            confirm_email=acme.user.email,
            client=CLIENT,
            transfer_to=admin.user_id,
        )
    assert read(services, leaver, "/report.txt") == b"final text"
    assert read(services, leaver, "/report.txt", version=1) == b"first draft"
    with services.database.transaction() as session:
        assert session.get(User, acme.user.id) is not None
    assert [
        n.name
        for n in services.file_tree.list_folder(
            admin, space_id=services.spaces.my_files(admin).id, path="/"
        )
    ] == []
    assert events(services, AuditEventType.FILES_TRANSFERRED) == []
