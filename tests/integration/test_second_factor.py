"""Two-factor authentication in the service layer: menu, enrolment, challenges, backup key."""

import re
import subprocess
from datetime import datetime

import pytest
from sqlalchemy import select

from sfs.app import Services
from sfs.auth import totp
from sfs.crypto.secret_box import SealedSecretError
from sfs.domain.actor import Actor, ClientInfo, operator
from sfs.domain.errors import (
    InvalidCode,
    PermissionDenied,
    ResendTooSoon,
    TooManyAttempts,
)
from sfs.domain.stages import LoginStage
from sfs.metadata.models import EmailCode, Organization, User
from tests.support import FakeClock, read_outbox, require_tool
from tests.world import CLIENT, actor, make_tenant


def code_now(secret: str, clock: FakeClock, *, steps: int = 0) -> str:
    return totp.code_at_step(secret, totp.time_step(clock.now()) + steps)


def oathtool_code(secret: str, moment: datetime) -> str:
    """The code a real, independent TOTP implementation computes (Debian's oathtool)."""
    stamp = moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    result = subprocess.run(
        [require_tool("oathtool"), "--totp", "-b", secret, "--now", stamp],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def last_mailed_code(services: Services) -> str:
    messages = read_outbox(services.settings.outbox_dir)
    match = re.search(r"code is: (\d{6})", messages[-1].get_content())
    assert match
    return match.group(1)


def require_2fa(services: Services, organisation_id, *, allowed: str = "totp,email") -> None:  # type: ignore[no-untyped-def]
    with services.database.transaction() as session:
        org = session.get(Organization, organisation_id)
        assert org is not None
        org.require_second_factor = True
        org.allowed_second_factors = allowed


def enrol_totp(services: Services, user: Actor, clock: FakeClock) -> tuple[str, str]:
    setup = services.second_factor.begin_totp(user, client=CLIENT)
    assert setup.backup_key
    services.second_factor.complete_enrolment(
        user, method="totp", code=code_now(setup.secret, clock), client=CLIENT
    )
    return setup.secret, setup.backup_key


class TestStageAfterPassword:
    def test_without_a_policy_the_password_is_enough(self, services: Services) -> None:
        acme = make_tenant(services, "Acme")
        stage = services.second_factor.stage_after_password(
            actor(services, acme.user), client=CLIENT
        )
        assert stage is LoginStage.ACTIVE

    def test_under_the_policy_a_user_without_a_factor_must_enrol(self, services: Services) -> None:
        acme = make_tenant(services, "Acme")
        require_2fa(services, acme.organisation.id)
        stage = services.second_factor.stage_after_password(
            actor(services, acme.user), client=CLIENT
        )
        assert stage is LoginStage.ENROLMENT

    def test_an_enrolled_user_gets_a_challenge(self, services: Services, clock: FakeClock) -> None:
        acme = make_tenant(services, "Acme")
        user = actor(services, acme.user)
        enrol_totp(services, user, clock)
        assert (
            services.second_factor.stage_after_password(user, client=CLIENT)
            is LoginStage.SECOND_FACTOR
        )


class TestMethodMenu:
    def test_three_options_in_the_manuals_order_with_text_message_refused_in_europe(
        self, services: Services
    ) -> None:
        acme = make_tenant(services, "Acme")
        menu = services.second_factor.method_menu(actor(services, acme.user))
        assert [(o.label, o.available) for o in menu] == [
            ("Authenticator mobile app", True),
            ("Email", True),
            ("Text message", False),
        ]
        assert menu[2].reason == "Text message is not supported in Europe"

    def test_a_method_the_organisation_disallows_is_shown_unavailable_and_refused(
        self, services: Services
    ) -> None:
        acme = make_tenant(services, "Acme")
        require_2fa(services, acme.organisation.id, allowed="totp")
        user = actor(services, acme.user)
        menu = services.second_factor.method_menu(user)
        assert [o.available for o in menu] == [True, False, False]
        with pytest.raises(PermissionDenied):
            services.second_factor.begin_email(user, client=CLIENT)


class TestAuthenticatorApp:
    def test_enrolment_gives_a_qr_uri_a_secret_and_a_backup_key(
        self, services: Services, clock: FakeClock
    ) -> None:
        acme = make_tenant(services, "Acme")
        user = actor(services, acme.user)
        setup = services.second_factor.begin_totp(user, client=CLIENT)
        assert setup.uri.startswith("otpauth://totp/Secure%20File%20Sync:user%40acme.example.com?")
        assert f"secret={setup.secret}" in setup.uri and "issuer=Secure%20File%20Sync" in setup.uri
        assert len(setup.secret) == 32  # 160 bits in base32
        assert setup.backup_key and re.fullmatch(r"([A-Z2-7]{4}-){7}[A-Z2-7]{4}", setup.backup_key)
        with services.database.transaction() as session:
            row = session.get(User, acme.user.id)
            assert row is not None and row.totp_secret_sealed and row.backup_key_hash
            assert setup.secret not in row.totp_secret_sealed
            assert row.backup_key_hash.startswith("$argon2id$")
            assert row.second_factor_method is None  # not before the first correct code
        services.second_factor.complete_enrolment(
            user, method="totp", code=code_now(setup.secret, clock), client=CLIENT
        )
        assert services.second_factor.enrolled_method(user) == "totp"
        assert (
            "Two-factor authentication is on"
            in read_outbox(services.settings.outbox_dir)[-1]["Subject"]
        )

    def test_codes_from_oathtool_are_accepted(self, services: Services, clock: FakeClock) -> None:
        acme = make_tenant(services, "Acme")
        user = actor(services, acme.user)
        setup = services.second_factor.begin_totp(user, client=CLIENT)
        services.second_factor.complete_enrolment(
            user, method="totp", code=oathtool_code(setup.secret, clock.now()), client=CLIENT
        )
        clock.advance(seconds=30)
        services.second_factor.verify(
            user, code=oathtool_code(setup.secret, clock.now()), client=CLIENT
        )

    def test_one_step_of_drift_either_way_is_accepted(
        self, services: Services, clock: FakeClock
    ) -> None:
        acme = make_tenant(services, "Acme")
        user = actor(services, acme.user)
        secret, _ = enrol_totp(services, user, clock)
        clock.advance(minutes=2)
        services.second_factor.verify(user, code=code_now(secret, clock, steps=-1), client=CLIENT)
        clock.advance(minutes=2)
        services.second_factor.verify(user, code=code_now(secret, clock, steps=+1), client=CLIENT)

    def test_a_replayed_totp_code_is_refused(self, services: Services, clock: FakeClock) -> None:
        acme = make_tenant(services, "Acme")
        user = actor(services, acme.user)
        secret, _ = enrol_totp(services, user, clock)
        clock.advance(seconds=30)
        code = code_now(secret, clock)
        services.second_factor.verify(user, code=code, client=CLIENT)
        clock.advance(seconds=10)  # same time step
        with pytest.raises(InvalidCode, match="already used"):
            services.second_factor.verify(user, code=code, client=CLIENT)

    def test_an_older_step_than_the_last_used_is_refused(
        self, services: Services, clock: FakeClock
    ) -> None:
        acme = make_tenant(services, "Acme")
        user = actor(services, acme.user)
        secret, _ = enrol_totp(services, user, clock)
        clock.advance(seconds=60)
        services.second_factor.verify(user, code=code_now(secret, clock, steps=1), client=CLIENT)
        with pytest.raises(InvalidCode, match="already used"):
            services.second_factor.verify(user, code=code_now(secret, clock), client=CLIENT)

    def test_a_wrong_phone_clock_is_diagnosed(self, services: Services, clock: FakeClock) -> None:
        acme = make_tenant(services, "Acme")
        user = actor(services, acme.user)
        secret, _ = enrol_totp(services, user, clock)
        clock.advance(minutes=5)
        with pytest.raises(
            InvalidCode, match=r"about 3 minute\(s\) behind.*phone's clock is wrong"
        ):
            services.second_factor.verify(
                user, code=code_now(secret, clock, steps=-6), client=CLIENT
            )
        with pytest.raises(InvalidCode, match="Wrong code"):
            services.second_factor.verify(
                user, code=code_now(secret, clock, steps=20), client=CLIENT
            )

    @pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 5x"])
    def test_malformed_codes_are_wrong_codes(
        self, services: Services, clock: FakeClock, code: str
    ) -> None:
        acme = make_tenant(services, "Acme")
        user = actor(services, acme.user)
        enrol_totp(services, user, clock)
        with pytest.raises(InvalidCode, match="Wrong code"):
            services.second_factor.verify(user, code=code, client=CLIENT)

    def test_ten_wrong_codes_lock_the_challenge(self, services: Services, clock: FakeClock) -> None:
        acme = make_tenant(services, "Acme")
        user = actor(services, acme.user)
        secret, _ = enrol_totp(services, user, clock)
        clock.advance(seconds=30)
        for _ in range(10):
            with pytest.raises(InvalidCode):
                services.second_factor.verify(user, code="000000", client=CLIENT)
        with pytest.raises(TooManyAttempts):
            services.second_factor.verify(user, code=code_now(secret, clock), client=CLIENT)

    def test_the_sealed_secret_does_not_open_for_another_account(
        self, services: Services, clock: FakeClock
    ) -> None:
        acme = make_tenant(services, "Acme")
        enrol_totp(services, actor(services, acme.user), clock)
        with services.database.transaction() as session:
            victim = session.get(User, acme.user.id)
            thief = session.get(User, acme.admin.id)
            assert victim is not None and thief is not None
            thief.totp_secret_sealed = victim.totp_secret_sealed
        with pytest.raises(SealedSecretError):
            services.second_factor.pending_totp(actor(services, acme.admin))


class TestEmailCodes:
    def test_enrolment_by_email_mails_a_code_and_a_backup_key_is_given(
        self, services: Services
    ) -> None:
        acme = make_tenant(services, "Acme")
        user = actor(services, acme.user)
        setup = services.second_factor.begin_email(user, client=CLIENT)
        assert setup.backup_key
        message = read_outbox(services.settings.outbox_dir)[-1]
        assert message["To"] == acme.user.email
        code = last_mailed_code(services)
        services.second_factor.complete_enrolment(user, method="email", code=code, client=CLIENT)
        assert services.second_factor.enrolled_method(user) == "email"
        with services.database.transaction() as session:
            digests = session.scalars(select(EmailCode.code_digest)).all()
        assert all(code not in d for d in digests)

    def test_a_code_is_single_use(self, services: Services, clock: FakeClock) -> None:
        acme = make_tenant(services, "Acme")
        user = actor(services, acme.user)
        services.second_factor.begin_email(user, client=CLIENT)
        code = last_mailed_code(services)
        services.second_factor.complete_enrolment(user, method="email", code=code, client=CLIENT)
        with pytest.raises(InvalidCode):
            services.second_factor.verify(user, code=code, client=CLIENT)

    def test_an_expired_code_says_to_resend(self, services: Services, clock: FakeClock) -> None:
        acme = make_tenant(services, "Acme")
        user = actor(services, acme.user)
        services.second_factor.begin_email(user, client=CLIENT)
        code = last_mailed_code(services)
        clock.advance(minutes=10, seconds=1)
        with pytest.raises(InvalidCode, match=r"no longer valid.*Re-send Authentication Code"):
            services.second_factor.complete_enrolment(
                user, method="email", code=code, client=CLIENT
            )

    def test_a_resend_replaces_the_old_code_and_is_throttled(
        self, services: Services, clock: FakeClock
    ) -> None:
        acme = make_tenant(services, "Acme")
        user = actor(services, acme.user)
        services.second_factor.begin_email(user, client=CLIENT)
        first = last_mailed_code(services)
        with pytest.raises(
            ResendTooSoon,
            match=r"The last code, sent at 09:00 UTC, is still valid until 09:10 UTC\. "
            r"A new one can be sent in 1 minute\.",
        ):
            services.second_factor.resend_email_code(user, client=CLIENT)
        clock.advance(seconds=61)
        services.second_factor.resend_email_code(user, client=CLIENT)
        second = last_mailed_code(services)
        if first != second:
            with pytest.raises(InvalidCode):
                services.second_factor.complete_enrolment(
                    user, method="email", code=first, client=CLIENT
                )
        services.second_factor.complete_enrolment(user, method="email", code=second, client=CLIENT)

    def test_at_most_five_codes_an_hour(self, services: Services, clock: FakeClock) -> None:
        acme = make_tenant(services, "Acme")
        user = actor(services, acme.user)
        services.second_factor.begin_email(user, client=CLIENT)
        for _ in range(4):
            clock.advance(minutes=2)
            services.second_factor.resend_email_code(user, client=CLIENT)
        clock.advance(minutes=2)
        with pytest.raises(ResendTooSoon, match="in 50 minutes"):
            services.second_factor.resend_email_code(user, client=CLIENT)
        assert len(read_outbox(services.settings.outbox_dir)) == 5

    def test_five_wrong_tries_use_up_a_code(self, services: Services) -> None:
        acme = make_tenant(services, "Acme")
        user = actor(services, acme.user)
        services.second_factor.begin_email(user, client=CLIENT)
        code = last_mailed_code(services)
        wrong = "000000" if code != "000000" else "111111"
        for left in (4, 3, 2, 1):
            with pytest.raises(InvalidCode, match=f"{left} tr"):
                services.second_factor.complete_enrolment(
                    user, method="email", code=wrong, client=CLIENT
                )
        with pytest.raises(InvalidCode, match="too many times"):
            services.second_factor.complete_enrolment(
                user, method="email", code=wrong, client=CLIENT
            )
        with pytest.raises(InvalidCode):
            services.second_factor.complete_enrolment(
                user, method="email", code=code, client=CLIENT
            )

    def test_a_login_challenge_mails_a_code_by_itself(
        self, services: Services, clock: FakeClock
    ) -> None:
        acme = make_tenant(services, "Acme")
        user = actor(services, acme.user)
        services.second_factor.begin_email(user, client=CLIENT)
        services.second_factor.complete_enrolment(
            user, method="email", code=last_mailed_code(services), client=CLIENT
        )
        clock.advance(minutes=5)
        assert (
            services.second_factor.stage_after_password(user, client=CLIENT)
            is LoginStage.SECOND_FACTOR
        )
        services.second_factor.verify(user, code=last_mailed_code(services), client=CLIENT)


class TestBackupKey:
    def test_the_backup_key_logs_in_once_and_forces_a_new_enrolment(
        self, services: Services, clock: FakeClock
    ) -> None:
        acme = make_tenant(services, "Acme")
        user = actor(services, acme.user)
        _, backup_key = enrol_totp(services, user, clock)
        services.second_factor.use_backup_key(
            user, backup_key=backup_key.lower().replace("-", " "), client=CLIENT
        )
        assert services.second_factor.enrolled_method(user) is None
        assert "Backup Key was used" in read_outbox(services.settings.outbox_dir)[-1]["Subject"]
        kinds = [e.event_type for e in services.audit.recent(operator())]
        assert "second_factor.backup_key_used" in kinds
        with pytest.raises(InvalidCode):
            services.second_factor.use_backup_key(user, backup_key=backup_key, client=CLIENT)

    def test_a_wrong_backup_key_is_refused(self, services: Services, clock: FakeClock) -> None:
        acme = make_tenant(services, "Acme")
        user = actor(services, acme.user)
        enrol_totp(services, user, clock)
        with pytest.raises(InvalidCode, match="not right"):
            services.second_factor.use_backup_key(
                user, backup_key="AAAA-BBBB-CCCC-DDDD", client=CLIENT
            )
        assert services.second_factor.enrolled_method(user) == "totp"


def test_failures_are_audited_with_the_reason(services: Services, clock: FakeClock) -> None:
    acme = make_tenant(services, "Acme")
    user = actor(services, acme.user)
    enrol_totp(services, user, clock)
    client = ClientInfo(address="198.51.100.9", user_agent="phone")
    with pytest.raises(InvalidCode):
        services.second_factor.verify(user, code="000000", client=client)
    failure = next(
        e for e in services.audit.recent(operator()) if e.event_type == "second_factor.failed"
    )
    assert failure.client_address == "198.51.100.9"
    assert failure.details["stage"] == "login"
