"""One-time codes sent by email: 6 digits, valid 10 minutes, single use, at most 5 wrong tries.

A new code replaces the previous one. Sending is throttled per user, counted from the stored
codes so the injected clock governs it: five an hour, and one a minute while the last code is
still good (a code used, expired or spent on wrong tries may be replaced at once, so a throttled
page never promises a code that cannot work).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sfs.crypto.secret_box import KeyedDigest
from sfs.domain.actor import ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import InvalidCode, ResendTooSoon
from sfs.i18n import N_, ngettext, plural_message, translator
from sfs.metadata.db import Database
from sfs.metadata.models import EmailCode, User
from sfs.ports import Clock, Randomness
from sfs.services.audit import AuditLog
from sfs.services.notifications import Notifier

CODE_DIGITS = 6
VALIDITY = timedelta(minutes=10)
MAX_WRONG_TRIES = 5
MIN_INTERVAL = timedelta(minutes=1)
HOURLY_LIMIT = 5

NO_VALID_CODE = N_("There is no valid code. Send a new one with Re-send Authentication Code.")
CODE_EXPIRED = N_("This code is no longer valid. Send a new one with Re-send Authentication Code.")
CODE_USED_UP = N_("Wrong code, too many times. Send a new one with Re-send Authentication Code.")


@dataclass(frozen=True, slots=True)
class CodeStatus:
    """The code that works now: when it was sent, and until when it is valid."""

    sent_at: datetime
    valid_until: datetime


class EmailCodeService:
    def __init__(
        self,
        database: Database,
        audit: AuditLog,
        clock: Clock,
        randomness: Randomness,
        notifier: Notifier,
        digest: KeyedDigest,
    ) -> None:
        self._database = database
        self._audit = audit
        self._clock = clock
        self._randomness = randomness
        self._notifier = notifier
        self._digest = digest

    def status(self, user_id: uuid.UUID) -> CodeStatus | None:
        """The user's code that can still be used, if any."""
        with self._database.transaction() as session:
            return _usable(session, user_id, self._clock.now())

    def send(self, user_id: uuid.UUID, *, client: ClientInfo) -> CodeStatus:
        """Mail a fresh code, closing any earlier one; ResendTooSoon when throttled."""
        now = self._clock.now()
        with self._database.transaction() as session:
            user = session.get(User, user_id)
            assert user is not None
            self._refuse_when_too_soon(session, user.id, now)
            for open_code in _open_codes(session, user.id):
                open_code.closed_at = now
            code = "".join(self._randomness.choice("0123456789") for _ in range(CODE_DIGITS))
            row = EmailCode(
                id=uuid.uuid4(),
                user_id=user.id,
                organization_id=user.organization_id,
                created_at=now,
                expires_at=now + VALIDITY,
                failed_attempts=0,
                code_digest="",
            )
            row.code_digest = self._digest.digest(f"{row.id}:{code}")
            session.add(row)
            self._audit.record(
                session,
                AuditEventType.EMAIL_CODE_SENT,
                organization_id=user.organization_id,
                client=client,
                target_user_id=user.id,
                target_email=user.email,
            )
            # Sent inside the unit of work: if the mail cannot go out, no code exists either.
            _ = translator(user.language)  # the email speaks the recipient's language
            minutes = int(VALIDITY.total_seconds() // 60)
            self._notifier.send(
                to=user.email,
                subject=_("Your Secure File Sync authentication code"),
                body=(
                    # "code is: 123456" stays in every language: tests and people look for it.
                    _("Your authentication code is: %(code)s") % {"code": code}
                    + "\n\n"
                    + ngettext(
                        "It is valid for %(num)d minute and can be used once.",
                        "It is valid for %(num)d minutes and can be used once.",
                        minutes,
                        language=user.language,
                    )
                    + "\n"
                    + _("If you did not try to log in, change your password: someone knows it.")
                    + "\n"
                ),
            )
            return CodeStatus(sent_at=now, valid_until=row.expires_at)

    def verify(self, user_id: uuid.UUID, code: str) -> None:
        """Accept the user's current code once; every refusal says why."""
        now = self._clock.now()
        typed = code.strip().replace(" ", "")
        with self._database.transaction() as session:
            current = max(_open_codes(session, user_id), key=lambda c: c.created_at, default=None)
            if current is None:
                problem = InvalidCode(NO_VALID_CODE)
            elif now >= current.expires_at:
                current.closed_at = now
                problem = InvalidCode(CODE_EXPIRED)
            elif self._digest.matches(f"{current.id}:{typed}", current.code_digest):
                current.closed_at = now
                return
            else:
                current.failed_attempts += 1
                left = MAX_WRONG_TRIES - current.failed_attempts
                if left <= 0:
                    current.closed_at = now
                    problem = InvalidCode(CODE_USED_UP)
                else:
                    problem = InvalidCode(
                        plural_message(
                            "Wrong code. %(num)d try left for this code.",
                            "Wrong code. %(num)d tries left for this code.",
                            left,
                        )
                    )
        # The unit of work above has committed the count before the refusal is raised.
        raise problem

    def _refuse_when_too_soon(self, session: Session, user_id: uuid.UUID, now: datetime) -> None:
        recent = list(
            session.scalars(
                select(EmailCode.created_at)
                .where(
                    EmailCode.user_id == user_id, EmailCode.created_at > now - timedelta(hours=1)
                )
                .order_by(EmailCode.created_at)
            )
        )
        usable = _usable(session, user_id, now)
        if usable is not None and recent and now - recent[-1] < MIN_INTERVAL:
            _too_soon(MIN_INTERVAL - (now - recent[-1]), usable)
        if len(recent) >= HOURLY_LIMIT:
            _too_soon(recent[0] + timedelta(hours=1) - now, usable)


def _open_codes(session: Session, user_id: uuid.UUID) -> list[EmailCode]:
    return list(
        session.scalars(
            select(EmailCode).where(EmailCode.user_id == user_id, EmailCode.closed_at.is_(None))
        )
    )


def _usable(session: Session, user_id: uuid.UUID, now: datetime) -> CodeStatus | None:
    newest = max(_open_codes(session, user_id), key=lambda c: c.created_at, default=None)
    if newest is None or now >= _aware(newest.expires_at):
        return None
    return CodeStatus(sent_at=_aware(newest.created_at), valid_until=_aware(newest.expires_at))


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _too_soon(wait: timedelta, usable: CodeStatus | None) -> None:
    seconds = max(1, math.ceil(wait.total_seconds()))
    if usable is None:
        raise ResendTooSoon(retry_after_seconds=seconds)
    raise ResendTooSoon(
        retry_after_seconds=seconds,
        last_sent_at=usable.sent_at,
        valid_until=usable.valid_until,
    )
