"""`Forgot password?` answers without waiting for the mail, and a reset link works exactly once,
even when two submissions race."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from sfs.app import Services, build_services
from sfs.auth.throttle import RateLimiters
from sfs.config import Settings
from sfs.crypto.passwords import PasswordHasher
from sfs.domain.actor import operator
from sfs.domain.errors import InvalidCode
from sfs.mail.outbox import OutboxMailer
from sfs.metadata.db import Database
from sfs.services.audit import AuditFilter
from sfs.web.server import create_app
from tests.support import FAST_HASH, OTHER_GOOD_PASSWORD, FakeClock, csrf_token_in, read_outbox
from tests.world import CLIENT, make_tenant

ANSWER = "If an account with this email address exists"


class GatedMailer:
    """Holds every message until the test opens the gate, noting which thread sent it."""

    def __init__(self, inner: OutboxMailer) -> None:
        self.inner = inner
        self.gate = threading.Event()
        self.senders: list[str] = []

    def send(self, message: EmailMessage) -> None:
        self.senders.append(threading.current_thread().name)
        # A request that sent mail itself would sit here, and the outbox check below would fail.
        self.gate.wait(timeout=30)
        self.inner.send(message)


@pytest.fixture
def gated(settings: Settings, clock: FakeClock) -> Iterator[tuple[Services, GatedMailer]]:
    mailer = GatedMailer(OutboxMailer(settings.outbox_dir))
    database = Database.from_url(settings.database_url)
    built = build_services(
        settings,
        database=database,
        clock=clock,
        mailer=mailer,
        hasher=PasswordHasher(FAST_HASH),
        limiters=RateLimiters.from_storage_uri("memory://"),
        master_key=bytes(range(32)),
    )
    try:
        yield built, mailer
    finally:
        mailer.gate.set()
        built.notifier.background.close()
        database.dispose()


def ask_for_a_link(client: TestClient, email: str):  # type: ignore[no-untyped-def]
    form = client.get("/password/forgot").text
    return client.post("/password/forgot", data={"email": email, "csrf_token": csrf_token_in(form)})


def test_the_answer_never_waits_for_the_mail_whether_or_not_the_account_exists(
    gated: tuple[Services, GatedMailer],
) -> None:
    services, mailer = gated
    acme = make_tenant(services, "Acme")
    statements: dict[str, list[str]] = {"known": [], "unknown": []}
    asking = ""

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if threading.current_thread().name != "sfs-mail":
            statements[asking].append(statement)

    event.listen(services.database.engine, "before_cursor_execute", note)
    try:
        with TestClient(create_app(services), base_url="http://127.0.0.1:8080") as client:
            asking = "known"
            known = ask_for_a_link(client, acme.user.email)
            assert read_outbox(services.settings.outbox_dir) == []  # answered before the mail
            asking = "unknown"
            unknown = ask_for_a_link(client, "nobody@acme.example.com")
    finally:
        event.remove(services.database.engine, "before_cursor_execute", note)
    assert known.status_code == unknown.status_code == 200
    assert ANSWER in known.text and ANSWER in unknown.text
    # The request itself does the same either way: the look-up, the link and the mail all
    # happen on the background sender.
    assert statements["known"] == statements["unknown"]
    mailer.gate.set()
    services.notifier.background.flush()
    delivered = read_outbox(services.settings.outbox_dir)
    assert [m["To"] for m in delivered] == [acme.user.email]
    assert re.search(r"/password/reset/\S+", delivered[0].get_content())
    assert mailer.senders == ["sfs-mail"]
    events = services.audit.search(
        operator(), where=AuditFilter(event_type="password_reset.requested")
    ).entries
    assert sorted(e.details["account_found"] for e in events) == [False, True]


def test_a_mail_that_fails_does_not_stop_the_next(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = make_tenant(services, "Acme")
    real_send = OutboxMailer.send
    failures = iter([OSError("mail server down")])

    def flaky(self: OutboxMailer, message: EmailMessage) -> None:
        problem = next(failures, None)
        if problem is not None:
            raise problem
        real_send(self, message)

    monkeypatch.setattr(OutboxMailer, "send", flaky)
    services.password_reset.request(email=acme.user.email, client=CLIENT)
    services.password_reset.request(email=acme.admin.email, client=CLIENT)
    services.notifier.background.flush()
    assert [m["To"] for m in read_outbox(services.settings.outbox_dir)] == [acme.admin.email]


def _link(services: Services) -> str:
    services.notifier.background.flush()
    found = re.search(
        r"/password/reset/(\S+)", read_outbox(services.settings.outbox_dir)[-1].get_content()
    )
    assert found
    return found.group(1)


def test_two_racing_submissions_of_one_link_succeed_once(services: Services) -> None:
    acme = make_tenant(services, "Acme")
    services.password_reset.request(email=acme.user.email, client=CLIENT)
    token = _link(services)
    # Both submissions have checked the link before either claims it: the claim decides.
    both_checked = threading.Barrier(2, timeout=30)

    def before_claim(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE ACCOUNT_TOKENS"):
            both_checked.wait()

    outcomes: list[str] = []

    def submit(password: str) -> None:
        try:
            services.password_reset.complete(
                token,
                new_password=password,
                confirmation=password,
                backup_key="",
                client=CLIENT,
            )
            outcomes.append("changed")
        except InvalidCode:
            outcomes.append("refused")

    engine = services.database.engine
    event.listen(engine, "before_cursor_execute", before_claim)
    try:
        racers = [
            threading.Thread(target=submit, args=(password,))
            for password in (OTHER_GOOD_PASSWORD, "second-racer-pebble-85-lantern")
        ]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join(timeout=60)
    finally:
        event.remove(engine, "before_cursor_execute", before_claim)
    assert sorted(outcomes) == ["changed", "refused"]
    completed = services.audit.search(
        operator(), where=AuditFilter(event_type="password_reset.completed")
    ).entries
    assert len(completed) == 1
