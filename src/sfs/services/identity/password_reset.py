"""`Forgot password?`: a single-use link valid 30 minutes; with a second factor, the Backup Key too.

The request never reveals whether an account exists. Setting the new password signs the user
out everywhere; using the Backup Key here spends it, so the user enrols a second factor again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from functools import partial

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sfs.auth.password_policy import check_password
from sfs.auth.secrets import digest, new_secret
from sfs.auth.throttle import RateLimiters
from sfs.crypto.passwords import PasswordHasher
from sfs.domain.actor import ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import InvalidCode, InvalidInput, TooManyAttempts
from sfs.domain.roles import UserStatus
from sfs.i18n import N_, translator
from sfs.metadata.db import Database
from sfs.metadata.models import AccountToken, User
from sfs.ports import Clock, Randomness
from sfs.services.audit import AuditLog
from sfs.services.identity.credentials import sign_out_everywhere
from sfs.services.identity.second_factor import SecondFactorService
from sfs.services.notifications import Notifier

PURPOSE = "password_reset"
LINK_LIFETIME = timedelta(minutes=30)
_LINK_GONE = N_("This link is no longer valid. Ask for a new one with Forgot password?")


@dataclass(frozen=True)
class ResetTicket:
    email: str
    needs_backup_key: bool
    min_password_length: int


class PasswordResetService:
    def __init__(
        self,
        database: Database,
        audit: AuditLog,
        clock: Clock,
        randomness: Randomness,
        hasher: PasswordHasher,
        limiters: RateLimiters,
        notifier: Notifier,
        second_factor: SecondFactorService,
    ) -> None:
        self._database = database
        self._audit = audit
        self._clock = clock
        self._randomness = randomness
        self._hasher = hasher
        self._limiters = limiters
        self._notifier = notifier
        self._second_factor = second_factor

    def request(self, *, email: str, client: ClientInfo) -> None:
        """Mail a reset link if the account exists and may log in; answer the same either way.

        The answer must not come sooner or later for a real account, so the request does the
        same work either way: it is throttled, then handed to the background sender, which looks
        the account up, makes the link and mails it while the browser already has its answer.
        """
        account_key = email.strip().casefold()[:254]
        address_key = client.address or "unknown"
        if not self._limiters.password_reset_address.hit(address_key):
            raise TooManyAttempts(
                retry_after_seconds=self._limiters.password_reset_address.resets_in(address_key)
            )
        if not self._limiters.password_reset_account.hit(account_key):
            return  # silently: a visible refusal would confirm the account exists
        self._notifier.send_later(
            partial(self._link_mail, account_key, client=client, now=self._clock.now())
        )

    def _link_mail(
        self, account_key: str, *, client: ClientInfo, now: datetime
    ) -> EmailMessage | None:
        """On the background sender: a new link for an account that may log in, and its mail."""
        secret = new_secret(self._randomness)
        with self._database.transaction() as session:
            user = session.scalars(select(User).where(User.email == account_key)).one_or_none()
            if user is not None and user.status != UserStatus.ACTIVE.value:
                user = None
            if user is not None:
                # A new link replaces any earlier one.
                session.execute(
                    update(AccountToken)
                    .where(
                        AccountToken.user_id == user.id,
                        AccountToken.purpose == PURPOSE,
                        AccountToken.used_at.is_(None),
                    )
                    .values(used_at=now)
                )
                session.add(
                    AccountToken(
                        id=uuid.uuid4(),
                        user_id=user.id,
                        organization_id=user.organization_id,
                        purpose=PURPOSE,
                        token_hash=digest(secret),
                        created_at=now,
                        expires_at=now + LINK_LIFETIME,
                    )
                )
            self._audit.record(
                session,
                AuditEventType.PASSWORD_RESET_REQUESTED,
                organization_id=user.organization_id if user else None,
                client=client,
                target_user_id=user.id if user else None,
                target_email=account_key,
                account_found=user is not None,
            )
            needs_key = user is not None and user.second_factor_method is not None
        if user is None:
            return None
        link = self._notifier.link(f"/password/reset/{secret}")
        _ = translator(user.language)  # the email speaks the recipient's language
        return self._notifier.compose(
            to=user.email,
            subject=_("Set a new Secure File Sync password"),
            body=(
                _("Someone (hopefully you) asked to set a new password for your account.")
                + "\n\n"
                + _("Open this link within 30 minutes: %(link)s") % {"link": link}
                + "\n\n"
                + (
                    _(
                        "You will also need your Backup Key, because your account uses "
                        "two-factor authentication."
                    )
                    + "\n"
                    if needs_key
                    else ""
                )
                + _("If you did not ask for this, ignore this message: your password stays.")
                + "\n"
            ),
        )

    def inspect(self, token: str) -> ResetTicket:
        with self._database.transaction() as session:
            _, user = self._valid_token(session, token)
            return ResetTicket(
                email=user.email,
                needs_backup_key=user.second_factor_method is not None,
                min_password_length=(
                    user.organization.min_password_length if user.organization else 0
                ),
            )

    def complete(
        self,
        token: str,
        *,
        new_password: str,
        confirmation: str,
        backup_key: str,
        client: ClientInfo,
    ) -> None:
        with self._database.transaction() as session:
            _, user = self._valid_token(session, token)
            user_id, email, name, language = user.id, user.email, user.display_name, user.language
            needs_key = user.second_factor_method is not None
            min_length = user.organization.min_password_length if user.organization else 12
        if new_password != confirmation:
            raise InvalidInput(N_("The two passwords are not the same."), field="confirmation")
        check_password(new_password, email=email, display_name=name, min_length=min_length)
        if needs_key:
            throttle_key = f"reset:{user_id}"
            limiter = self._limiters.second_factor_user
            if not limiter.test(throttle_key):
                raise TooManyAttempts(retry_after_seconds=limiter.resets_in(throttle_key))
            if not backup_key.strip():
                raise InvalidInput(N_("Enter your Backup Key as well."), field="backup_key")
            if not self._second_factor.backup_key_matches(user_id, backup_key):
                limiter.hit(throttle_key)
                raise InvalidCode(
                    N_(
                        "This Backup Key is not right. If you no longer have it, ask your "
                        "organisation's administrator to reset your two-factor authentication."
                    )
                )
        password_hash = self._hasher.hash(new_password)
        now = self._clock.now()
        with self._database.transaction() as session:
            row, user = self._valid_token(session, token)
            # Claim the link; a concurrent submission that claimed it first makes this one fail.
            claimed = session.execute(
                update(AccountToken)
                .where(AccountToken.id == row.id, AccountToken.used_at.is_(None))
                .values(used_at=now)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                raise InvalidCode(_LINK_GONE)
            user.password_hash = password_hash
            user.password_changed_at = now
            user.must_change_password = False
            sign_out_everywhere(session, user.id, now)
            self._audit.record(
                session,
                AuditEventType.PASSWORD_RESET_COMPLETED,
                organization_id=user.organization_id,
                client=client,
                target_user_id=user.id,
                target_email=user.email,
                with_backup_key=needs_key,
            )
        if needs_key:
            self._second_factor.consume_backup_key(user_id, client=client, actor=None)
        _ = translator(language)
        self._notifier.send(
            to=email,
            subject=_("Your Secure File Sync password was changed"),
            body=(
                _(
                    "The password of your account was just set with a reset link. All your "
                    "sessions and devices were signed out."
                )
                + "\n"
                + _("If this was not you, contact your organisation's administrator at once.")
                + "\n"
            ),
        )

    def _valid_token(self, session: Session, token: str) -> tuple[AccountToken, User]:
        if not token or len(token) > 200:
            raise InvalidCode(_LINK_GONE)
        row = session.scalars(
            select(AccountToken).where(
                AccountToken.token_hash == digest(token), AccountToken.purpose == PURPOSE
            )
        ).one_or_none()
        if row is None or row.used_at is not None or self._clock.now() >= row.expires_at:
            raise InvalidCode(_LINK_GONE)
        user = session.get(User, row.user_id)
        if user is None or user.status != UserStatus.ACTIVE.value:
            raise InvalidCode(_LINK_GONE)
        return row, user
