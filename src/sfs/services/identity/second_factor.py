"""Two-factor authentication: the method menu, enrolment, login challenges and the backup key.

Policy lives here; the arithmetic lives in `sfs.auth.totp` and `sfs.auth.backup_keys`.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from sfs.auth import totp
from sfs.auth.backup_keys import BACKUP_KEY_BYTES, new_backup_key, normalize_backup_key
from sfs.auth.throttle import RateLimiters
from sfs.crypto.passwords import PasswordHasher
from sfs.crypto.secret_box import SecretBox
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import (
    InvalidCode,
    InvalidInput,
    PermissionDenied,
    ResendTooSoon,
    TooManyAttempts,
)
from sfs.domain.stages import LoginStage
from sfs.i18n import N_, translator
from sfs.metadata.db import Database
from sfs.metadata.models import Organization, User
from sfs.ports import Clock, Randomness
from sfs.services.audit import AuditLog
from sfs.services.identity.credentials import clear_second_factor
from sfs.services.identity.email_codes import CodeStatus, EmailCodeService
from sfs.services.notifications import Notifier

TOTP = "totp"
EMAIL = "email"
TEXT_MESSAGE = "sms"
METHOD_LABELS = {
    TOTP: N_("Authenticator mobile app"),
    EMAIL: N_("Email"),
    TEXT_MESSAGE: N_("Text message"),
}
ACCEPTED_DRIFT_STEPS = 1
# A code matching only within this many steps means the phone's clock is wrong: say so.
DIAGNOSED_DRIFT_STEPS = 10
EUROPEAN_REGIONS = frozenset({"eu"})


@dataclass(frozen=True)
class MethodOption:
    method: str
    label: str
    available: bool
    reason: str | None = None


@dataclass(frozen=True)
class TotpSetup:
    secret: str
    uri: str
    backup_key: str | None  # shown once: only when the enrolment begins

    @property
    def grouped_secret(self) -> str:
        return totp.grouped(self.secret)


@dataclass(frozen=True)
class EmailSetup:
    email: str
    backup_key: str


class SecondFactorService:
    def __init__(
        self,
        database: Database,
        audit: AuditLog,
        clock: Clock,
        randomness: Randomness,
        hasher: PasswordHasher,
        limiters: RateLimiters,
        email_codes: EmailCodeService,
        notifier: Notifier,
        secret_box: SecretBox,
        *,
        deployment_region: str,
    ) -> None:
        self._database = database
        self._audit = audit
        self._clock = clock
        self._randomness = randomness
        self._hasher = hasher
        self._limiters = limiters
        self._email_codes = email_codes
        self._notifier = notifier
        self._box = secret_box
        self._deployment_region = deployment_region

    # -- after the password -------------------------------------------------------------------

    def stage_after_password(self, actor: Actor, *, client: ClientInfo) -> LoginStage:
        """What a correct password leads to; sends the email code when that is the method."""
        with self._database.transaction() as session:
            user = _user(session, actor)
            method = user.second_factor_method
            required = user.organization is not None and user.organization.require_second_factor
        if method == EMAIL:
            self._send_code_if_allowed(user.id, client)
            return LoginStage.SECOND_FACTOR
        if method == TOTP:
            return LoginStage.SECOND_FACTOR
        return LoginStage.ENROLMENT if required else LoginStage.ACTIVE

    def enrolled_method(self, actor: Actor) -> str | None:
        with self._database.transaction() as session:
            return _user(session, actor).second_factor_method

    # -- the method menu ----------------------------------------------------------------------

    def method_menu(self, actor: Actor) -> list[MethodOption]:
        """The three options in the manual's order, each available or not, with the reason."""
        with self._database.transaction() as session:
            organisation = _user(session, actor).organization
            allowed = _allowed_methods(organisation)
            region = organisation.region if organisation else self._deployment_region
        not_allowed = N_("Your organisation does not allow this method.")
        if region in EUROPEAN_REGIONS or self._deployment_region in EUROPEAN_REGIONS:
            sms_reason = N_("Text message is not supported in Europe")
        else:
            sms_reason = N_("Text message is not configured for this service")
        return [
            MethodOption(
                TOTP, METHOD_LABELS[TOTP], TOTP in allowed, None if TOTP in allowed else not_allowed
            ),
            MethodOption(
                EMAIL,
                METHOD_LABELS[EMAIL],
                EMAIL in allowed,
                None if EMAIL in allowed else not_allowed,
            ),
            MethodOption(TEXT_MESSAGE, METHOD_LABELS[TEXT_MESSAGE], False, sms_reason),
        ]

    # -- enrolment ----------------------------------------------------------------------------

    def mailbox_proof_due(self, actor: Actor) -> bool:
        """After a reset or a spent Backup Key, an emailed code comes before a new authenticator.

        (Enrolling Email proves the mailbox by itself: its first code is the proof.)
        """
        with self._database.transaction() as session:
            return _user(session, actor).mailbox_proof_due

    def send_mailbox_code(self, actor: Actor, *, client: ClientInfo) -> None:
        if self.mailbox_proof_due(actor):
            self._send_code_if_allowed(actor.user_id, client)

    def prove_mailbox(self, actor: Actor, *, code: str, client: ClientInfo) -> None:
        """Accept the emailed code as proof that the account's owner reads its mail."""
        self._refuse_when_throttled(actor)
        if not self.mailbox_proof_due(actor):
            # Nothing to prove: the caller must not treat this as a way past the password step.
            raise InvalidInput(N_("Start setting up two-factor authentication again."))
        try:
            self._email_codes.verify(actor.user_id, code)
        except InvalidCode as problem:
            self._record_failure(actor, client, problem, stage="mailbox")
            raise
        with self._database.transaction() as session:
            user = _user(session, actor)
            user.mailbox_proof_due = False
            self._audit.record(
                session,
                AuditEventType.MAILBOX_PROVEN,
                organization_id=user.organization_id,
                client=client,
                actor=actor,
                target_user_id=user.id,
                target_email=user.email,
            )

    def begin_totp(self, actor: Actor, *, client: ClientInfo) -> TotpSetup:
        """A new secret and backup key; the password must have been re-entered just before."""
        secret = totp.new_secret(self._randomness.token_bytes(totp.SECRET_BYTES))
        backup_key = new_backup_key(self._randomness.token_bytes(BACKUP_KEY_BYTES))
        backup_hash = self._hasher.hash(backup_key)
        with self._database.transaction() as session:
            user = self._enrollable(session, actor, TOTP)
            if user.mailbox_proof_due:
                raise PermissionDenied(N_("First enter the code we emailed you."))
            user.totp_secret_sealed = self._box.seal(secret.encode(), associated=user.id.bytes)
            user.totp_last_step = None
            user.backup_key_hash = backup_hash
        return TotpSetup(
            secret=secret,
            uri=totp.provisioning_uri(secret, account=actor.email),
            backup_key=backup_key,
        )

    def enrolment_under_way(self, actor: Actor) -> str | None:
        """The method being set up (a Backup Key was shown, no code confirmed yet), if any.

        Starting again replaces that Backup Key (and the app's secret): pages ask first.
        """
        with self._database.transaction() as session:
            user = _user(session, actor)
            if user.second_factor_method is not None or user.backup_key_hash is None:
                return None
            return TOTP if user.totp_secret_sealed is not None else EMAIL

    def pending_totp(self, actor: Actor) -> TotpSetup:
        """The secret of an enrolment under way (to show the QR code again after a wrong code)."""
        with self._database.transaction() as session:
            user = _user(session, actor)
            if user.second_factor_method is not None or user.totp_secret_sealed is None:
                raise InvalidInput(N_("Start setting up the authenticator app again."))
            secret = self._box.open(user.totp_secret_sealed, associated=user.id.bytes).decode()
        return TotpSetup(
            secret=secret, uri=totp.provisioning_uri(secret, account=actor.email), backup_key=None
        )

    def begin_email(self, actor: Actor, *, client: ClientInfo) -> EmailSetup:
        backup_key = new_backup_key(self._randomness.token_bytes(BACKUP_KEY_BYTES))
        backup_hash = self._hasher.hash(backup_key)
        with self._database.transaction() as session:
            user = self._enrollable(session, actor, EMAIL)
            user.totp_secret_sealed = None
            user.totp_last_step = None
            user.backup_key_hash = backup_hash
        self._send_code_if_allowed(actor.user_id, client)
        return EmailSetup(email=actor.email, backup_key=backup_key)

    def complete_enrolment(
        self, actor: Actor, *, method: str, code: str, client: ClientInfo
    ) -> None:
        """The first correct code finishes enrolment."""
        self._refuse_when_throttled(actor)
        now = self._clock.now()
        with self._database.transaction() as session:
            user = self._enrollable(session, actor, method)
            if user.backup_key_hash is None or (method == TOTP and not user.totp_secret_sealed):
                raise InvalidInput(N_("Start setting up two-factor authentication again."))
        try:
            if method == EMAIL:
                self._email_codes.verify(actor.user_id, code)
            with self._database.transaction() as session:
                user = self._enrollable(session, actor, method)
                if method == TOTP:
                    self._check_totp(session, user, code, now)
                user.second_factor_method = method
                user.second_factor_enrolled_at = now
                user.mailbox_proof_due = False  # an email code or a proven mailbox got here
                self._audit.record(
                    session,
                    AuditEventType.SECOND_FACTOR_ENROLLED,
                    organization_id=user.organization_id,
                    client=client,
                    actor=actor,
                    target_user_id=user.id,
                    target_email=user.email,
                    method=method,
                )
        except InvalidCode as problem:
            self._record_failure(actor, client, problem, stage="enrolment")
            raise
        _ = translator(self._language_of(actor.user_id))
        self._notifier.send(
            to=actor.email,
            subject=_("Two-factor authentication is on"),
            body=(
                _(
                    "Two-factor authentication with %(method)s is now set up for your Secure "
                    "File Sync account."
                )
                % {"method": _(METHOD_LABELS[method])}
                + "\n"
                + _(
                    "Keep your Backup Key somewhere safe: it lets you in when your second "
                    "factor is not available."
                )
                + "\n"
            ),
        )

    # -- logging in ---------------------------------------------------------------------------

    def verify(self, actor: Actor, *, code: str, client: ClientInfo) -> None:
        """Answer the login challenge with a code from the enrolled method."""
        self._refuse_when_throttled(actor)
        now = self._clock.now()
        method = self.enrolled_method(actor)
        if method is None:
            raise InvalidInput(N_("No second factor is set up for this account."))
        try:
            if method == EMAIL:
                self._email_codes.verify(actor.user_id, code)
            with self._database.transaction() as session:
                user = _user(session, actor)
                if method == TOTP:
                    self._check_totp(session, user, code, now)
                self._audit.record(
                    session,
                    AuditEventType.SECOND_FACTOR_VERIFIED,
                    organization_id=user.organization_id,
                    client=client,
                    actor=actor,
                    target_user_id=user.id,
                    target_email=user.email,
                    method=method,
                )
        except InvalidCode as problem:
            self._record_failure(actor, client, problem, stage="login")
            raise
        self._limiters.second_factor_user.clear(str(actor.user_id))

    def email_code_status(self, actor: Actor) -> CodeStatus | None:
        """The emailed code that works now, so a page can say when it was sent and until when."""
        return self._email_codes.status(actor.user_id)

    def resend_email_code(self, actor: Actor, *, client: ClientInfo) -> CodeStatus:
        with self._database.transaction() as session:
            user = _user(session, actor)
            enrolling_by_email = (
                user.second_factor_method is None and user.backup_key_hash is not None
            )
            proving_mailbox = user.second_factor_method is None and user.mailbox_proof_due
            if user.second_factor_method != EMAIL and not (enrolling_by_email or proving_mailbox):
                raise InvalidInput(N_("Codes are sent by email only when Email is your method."))
        return self._email_codes.send(actor.user_id, client=client)

    def use_backup_key(self, actor: Actor, *, backup_key: str, client: ClientInfo) -> None:
        """Let the user in with the backup key, which is then spent: they must enrol again."""
        self._refuse_when_throttled(actor)
        with self._database.transaction() as session:
            stored = _user(session, actor).backup_key_hash
            method = _user(session, actor).second_factor_method
        typed = normalize_backup_key(backup_key)
        if (
            stored is None
            or method is None
            or len(typed) > 64
            or not self._hasher.verify(stored, typed)
        ):
            problem = InvalidCode(N_("This Backup Key is not right."))
            self._record_failure(actor, client, problem, stage="backup_key")
            raise problem
        self.consume_backup_key(actor.user_id, client=client, actor=actor)

    def consume_backup_key(
        self, user_id: uuid.UUID, *, client: ClientInfo, actor: Actor | None
    ) -> None:
        """Spend the (already verified) backup key: forget the factor, tell the user, audit."""
        now = self._clock.now()
        with self._database.transaction() as session:
            user = session.get(User, user_id)
            assert user is not None
            method = user.second_factor_method
            clear_second_factor(session, user, now)
            self._audit.record(
                session,
                AuditEventType.BACKUP_KEY_USED,
                organization_id=user.organization_id,
                client=client,
                actor=actor,
                target_user_id=user.id,
                target_email=user.email,
                method=method,
            )
            email, language = user.email, user.language
        self._limiters.second_factor_user.clear(str(user_id))
        _ = translator(language)
        self._notifier.send(
            to=email,
            subject=_("Your Backup Key was used"),
            body=(
                _(
                    "Your Secure File Sync Backup Key was just used to log in. It no longer "
                    "works, and two-factor authentication must be set up again, with a new "
                    "Backup Key."
                )
                + "\n"
                + _("Address: %(address)s") % {"address": client.address or "—"}
                + "\n"
                + _("If this was not you, contact your organisation's administrator at once.")
                + "\n"
            ),
        )

    def _language_of(self, user_id: uuid.UUID) -> str | None:
        with self._database.transaction() as session:
            user = session.get(User, user_id)
            return user.language if user is not None else None

    def backup_key_matches(self, user_id: uuid.UUID, backup_key: str) -> bool:
        with self._database.transaction() as session:
            user = session.get(User, user_id)
            stored = user.backup_key_hash if user and user.second_factor_method else None
        return stored is not None and self._key_matches(stored, normalize_backup_key(backup_key))

    def _key_matches(self, stored_hash: str, typed: str) -> bool:
        return len(typed) <= 64 and self._hasher.verify(stored_hash, typed)

    # -- rules ----------------------------------------------------------------------------------

    def _enrollable(self, session: Session, actor: Actor, method: str) -> User:
        user = _user(session, actor)
        if user.second_factor_method is not None:
            raise InvalidInput(N_("Two-factor authentication is already set up for this account."))
        if method not in (TOTP, EMAIL):
            raise InvalidInput(N_("Choose the Authenticator mobile app or Email."))
        if method not in _allowed_methods(user.organization):
            raise PermissionDenied(N_("Your organisation does not allow this method."))
        return user

    def _check_totp(self, session: Session, user: User, code: str, now: datetime) -> None:
        assert user.totp_secret_sealed is not None
        secret = self._box.open(user.totp_secret_sealed, associated=user.id.bytes).decode()
        step = totp.matching_step(secret, code, now=now, window=ACCEPTED_DRIFT_STEPS)
        if step is None:
            far = totp.matching_step(secret, code, now=now, window=DIAGNOSED_DRIFT_STEPS)
            if far is not None:
                offset = (far - totp.time_step(now)) * totp.PERIOD_SECONDS
                direction = "ahead" if offset > 0 else "behind"
                minutes = max(1, round(abs(offset) / 60))
                raise InvalidCode(
                    N_(
                        (
                            "This code is from a clock about %(minutes)s minute(s) %(direction)s. "
                            "Your phone's clock is wrong: set its date and time to automatic, then "
                            "try again."
                        ),
                        minutes=minutes,
                        direction=direction,
                    )
                )
            raise InvalidCode(N_("Wrong code. Enter the code your authenticator app shows now."))
        replayed = InvalidCode(
            N_("This code was already used. Wait for the next code in your app.")
        )
        if user.totp_last_step is not None and step <= user.totp_last_step:
            raise replayed
        # A conditional update, so two requests racing with the same code cannot both pass.
        claimed = session.execute(
            update(User)
            .where(
                User.id == user.id,
                or_(User.totp_last_step.is_(None), User.totp_last_step < step),
            )
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise replayed

    def _refuse_when_throttled(self, actor: Actor) -> None:
        limiter = self._limiters.second_factor_user
        if not limiter.test(str(actor.user_id)):
            raise TooManyAttempts(retry_after_seconds=limiter.resets_in(str(actor.user_id)))

    def _record_failure(
        self, actor: Actor, client: ClientInfo, problem: InvalidCode, *, stage: str
    ) -> None:
        self._limiters.second_factor_user.hit(str(actor.user_id))
        with self._database.transaction() as session:
            self._audit.record(
                session,
                AuditEventType.SECOND_FACTOR_FAILED,
                organization_id=actor.organization_id,
                client=client,
                actor=actor,
                target_user_id=actor.user_id,
                target_email=actor.email,
                stage=stage,
                reason=problem.message,
            )

    def _send_code_if_allowed(self, user_id: uuid.UUID, client: ClientInfo) -> None:
        # When throttled, the code sent moments ago is still valid; the page offers a re-send.
        with contextlib.suppress(ResendTooSoon):
            self._email_codes.send(user_id, client=client)


def _user(session: Session, actor: Actor) -> User:
    user = session.get(User, actor.user_id)
    assert user is not None  # the actor came from a live session
    return user


def _allowed_methods(organisation: Organization | None) -> set[str]:
    if organisation is None:
        return {TOTP, EMAIL}
    return {m for m in organisation.allowed_second_factors.split(",") if m}
