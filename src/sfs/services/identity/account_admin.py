"""Account administration by an Organization Admin: the Accounts list and each account's actions.

Every call is scoped to the actor's organisation: another organisation's account is NotFound,
exactly like an id that does not exist. An organisation never loses its last active
Organization Admin, and nobody gives a role above their own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from sfs.crypto.passwords import PasswordHasher
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import InvalidInput, NotFound, PermissionDenied
from sfs.domain.roles import ORGANISATION_ROLES, Role, UserStatus
from sfs.i18n import N_, translator
from sfs.metadata.db import Database
from sfs.metadata.models import DeviceToken, User
from sfs.metadata.search import LIKE_ESCAPE, contains_pattern
from sfs.ports import Clock
from sfs.services.audit import AuditLog
from sfs.services.identity.account_rules import (
    administered_user,
    check_new_password,
    close_account_tokens,
    end_web_sessions,
    lock_organisation,
    min_password_length,
    refuse_losing_last_admin,
    refuse_self,
    require_administrator,
    second_factor_label,
)
from sfs.services.identity.credentials import (
    clear_second_factor,
    revoke_device_tokens,
    sign_out_everywhere,
)
from sfs.services.identity.device_tokens import DEFAULT_IDLE_DAYS
from sfs.services.identity.offboarding import close_off_devices, hand_over_files
from sfs.services.notifications import Notifier

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_SEARCH_LENGTH = 254


@dataclass(frozen=True)
class AccountSummary:
    """One row of the Accounts list."""

    id: uuid.UUID
    display_name: str
    email: str
    role: Role
    status: UserStatus
    second_factor: str  # "Authenticator mobile app", "Email" or "Not set up"
    last_login_at: datetime | None

    @classmethod
    def of(cls, row: User) -> AccountSummary:
        return cls(
            id=row.id,
            display_name=row.display_name,
            email=row.email,
            role=Role(row.role),
            status=UserStatus(row.status),
            second_factor=second_factor_label(row.second_factor_method),
            last_login_at=row.last_login_at,
        )


@dataclass(frozen=True)
class AccountPage:
    accounts: list[AccountSummary]
    total: int  # matching accounts, on every page
    has_previous: bool
    has_next: bool

    @property
    def first_id(self) -> uuid.UUID | None:
        return self.accounts[0].id if self.accounts else None

    @property
    def last_id(self) -> uuid.UUID | None:
        return self.accounts[-1].id if self.accounts else None


@dataclass(frozen=True)
class AccountDetail:
    summary: AccountSummary
    organization_name: str
    created_at: datetime
    password_changed_at: datetime | None
    must_change_password: bool
    second_factor_enrolled_at: datetime | None
    is_self: bool
    min_password_length: int  # the organisation's, for the set-password form's rules


class AccountAdministration:
    def __init__(
        self,
        database: Database,
        audit: AuditLog,
        clock: Clock,
        hasher: PasswordHasher,
        notifier: Notifier,
        *,
        device_idle_days: int = DEFAULT_IDLE_DAYS,
    ) -> None:
        self._database = database
        self._audit = audit
        self._clock = clock
        self._hasher = hasher
        self._notifier = notifier
        self._device_idle = timedelta(days=device_idle_days)

    # -- the Accounts list -------------------------------------------------------------------

    def page(
        self,
        actor: Actor,
        *,
        search: str = "",
        after: uuid.UUID | None = None,
        before: uuid.UUID | None = None,
        limit: int = PAGE_SIZE,
        organization_id: uuid.UUID | None = None,
    ) -> AccountPage:
        """One page of the organisation's accounts by name, seeking from an account's position.

        Keyset paging on (display_name, id) rides the (organization_id, display_name) index, so
        the last page of 10,000 accounts costs what the first does.
        """
        require_administrator(actor)
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidInput(
                N_("Page size must be 1 to %(MAX_PAGE_SIZE)s.", MAX_PAGE_SIZE=MAX_PAGE_SIZE),
                field="limit",
            )
        if len(search) > MAX_SEARCH_LENGTH:
            raise InvalidInput(N_("The search text is too long."), field="q")
        if after is not None and before is not None:
            raise InvalidInput(N_("Page either after or before an account, not both."))
        organization_id = self._organisation_listed(actor, organization_id)
        filters: list[ColumnElement[bool]] = [User.organization_id == organization_id]
        text = search.strip().casefold()
        if text:
            pattern = contains_pattern(text)
            filters.append(
                or_(
                    func.lower(User.display_name).like(pattern, escape=LIKE_ESCAPE),
                    User.email.like(pattern, escape=LIKE_ESCAPE),
                )
            )
        with self._database.transaction() as session:
            total = session.scalar(select(func.count()).select_from(User).where(*filters)) or 0
            anchor = _anchor(session, organization_id, after or before)
            query = select(User).where(*filters)
            if anchor is not None and before is not None:
                query = query.where(_position_before(anchor))
                query = query.order_by(User.display_name.desc(), User.id.desc())
            else:
                if anchor is not None:
                    query = query.where(_position_after(anchor))
                query = query.order_by(User.display_name, User.id)
            rows = list(session.scalars(query.limit(limit + 1)))
            more = len(rows) > limit
            rows = rows[:limit]
            if anchor is not None and before is not None:
                rows.reverse()
                return AccountPage(
                    [AccountSummary.of(r) for r in rows], total, has_previous=more, has_next=True
                )
            return AccountPage(
                [AccountSummary.of(r) for r in rows],
                total,
                has_previous=anchor is not None,
                has_next=more,
            )

    def detail(self, actor: Actor, user_id: uuid.UUID) -> AccountDetail:
        with self._database.transaction() as session:
            row = administered_user(session, actor, user_id)
            assert row.organization is not None
            return AccountDetail(
                summary=AccountSummary.of(row),
                organization_name=row.organization.name,
                created_at=row.created_at,
                password_changed_at=row.password_changed_at,
                must_change_password=row.must_change_password,
                second_factor_enrolled_at=row.second_factor_enrolled_at,
                is_self=row.id == actor.user_id,
                min_password_length=row.organization.min_password_length,
            )

    # -- actions on one account --------------------------------------------------------------

    def change_password(
        self,
        actor: Actor,
        user_id: uuid.UUID,
        *,
        new_password: str,
        confirm_password: str,
        require_change_at_next_login: bool,
        client: ClientInfo,
    ) -> None:
        """Set a user's password; every session and device of theirs is signed out."""
        with self._database.transaction() as session:
            row = administered_user(session, actor, user_id)
            refuse_self(actor, row, "change the password of")
            if row.status == UserStatus.INVITED.value:
                raise InvalidInput(
                    N_(
                        "This account has not accepted its invitation yet; send the invitation "
                        "again."
                    )
                )
            email, name, language = row.email, row.display_name, row.language
            min_length = min_password_length(session, row)
        check_new_password(
            new_password,
            confirm_password,
            email=email,
            display_name=name,
            min_length=min_length,
            for_someone_else=True,
        )
        password_hash = self._hasher.hash(new_password)  # slow: kept outside the transaction
        now = self._clock.now()
        with self._database.transaction() as session:
            row = administered_user(session, actor, user_id)
            row.password_hash = password_hash
            row.password_changed_at = now
            row.must_change_password = require_change_at_next_login
            sign_out_everywhere(session, row.id, now)
            close_account_tokens(session, row.id, now, purpose="password_reset")
            self._audit.record(
                session,
                AuditEventType.PASSWORD_CHANGED_BY_ADMIN,
                organization_id=row.organization_id,
                client=client,
                actor=actor,
                target_user_id=row.id,
                target_email=row.email,
                require_change_at_next_login=require_change_at_next_login,
            )
        _ = translator(language)  # the email speaks the recipient's language
        self._notifier.send(
            to=email,
            subject=_("Your Secure File Sync password was changed by an administrator"),
            body=(
                _("Hello %(name)s,") % {"name": name}
                + "\n\n"
                + _(
                    "%(admin)s (%(email)s), an administrator of your organisation, changed your "
                    "Secure File Sync password. You were signed out everywhere, and your devices "
                    "must sign in again with the new password."
                )
                % {"admin": actor.display_name, "email": actor.email}
                + "\n\n"
                + _("If you did not expect this, contact your administrator.")
                + "\n"
            ),
        )

    def reset_second_factor(self, actor: Actor, user_id: uuid.UUID, *, client: ClientInfo) -> None:
        """Forget the user's second factor; they set up a new one at their next login.

        Whatever the old factor let in is signed out: browsers and devices alike.
        """
        now = self._clock.now()
        with self._database.transaction() as session:
            row = administered_user(session, actor, user_id)
            refuse_self(actor, row, "reset two-factor authentication of")
            previous = row.second_factor_method
            clear_second_factor(session, row, now)
            end_web_sessions(session, row.id)
            revoke_device_tokens(
                session,
                self._audit,
                DeviceToken.user_id == row.id,
                now=now,
                client=client,
                actor=actor,
                reason="second_factor_reset",
            )
            self._audit.record(
                session,
                AuditEventType.SECOND_FACTOR_RESET,
                organization_id=row.organization_id,
                client=client,
                actor=actor,
                target_user_id=row.id,
                target_email=row.email,
                previous_method=previous,
            )
            email, name, language = row.email, row.display_name, row.language
        _ = translator(language)  # the email speaks the recipient's language
        self._notifier.send(
            to=email,
            subject=_("Your two-factor authentication was reset"),
            body=(
                _("Hello %(name)s,") % {"name": name}
                + "\n\n"
                + _(
                    "%(admin)s (%(email)s), an administrator of your organisation, reset the "
                    "two-factor authentication of your Secure File Sync account. Your "
                    "authenticator app entry and Backup Key no longer work, and your devices "
                    "were signed out. At your next login you will set up two-factor "
                    "authentication again, after entering a code we email you."
                )
                % {"admin": actor.display_name, "email": actor.email}
                + "\n\n"
                + _("If you did not ask for this, contact your administrator.")
                + "\n"
            ),
        )

    def change_role(
        self, actor: Actor, user_id: uuid.UUID, *, role: Role, client: ClientInfo
    ) -> None:
        require_administrator(actor)
        if role.rank > actor.role.rank:
            raise PermissionDenied(N_("You cannot give anyone a role above your own."))
        if role not in ORGANISATION_ROLES:
            raise InvalidInput(N_("Role must be Organization Admin or User."), field="role")
        with self._database.transaction() as session:
            row = administered_user(session, actor, user_id)
            if row.role == role.value:
                return
            lock_organisation(session, row.organization_id)
            if role is not Role.ORG_ADMIN:
                refuse_losing_last_admin(session, row, "demote")
            previous = row.role
            row.role = role.value
            self._audit.record(
                session,
                AuditEventType.USER_ROLE_CHANGED,
                organization_id=row.organization_id,
                client=client,
                actor=actor,
                target_user_id=row.id,
                target_email=row.email,
                previous_role=previous,
                role=role.value,
            )

    def disable(
        self,
        actor: Actor,
        user_id: uuid.UUID,
        *,
        client: ClientInfo,
        wipe_devices: bool = False,
    ) -> None:
        """The account can no longer log in; its sessions end and every device is revoked now
        (with `wipe_devices`, each working device also erases what it synced)."""
        now = self._clock.now()
        with self._database.transaction() as session:
            row = administered_user(session, actor, user_id)
            refuse_self(actor, row, "disable")
            if row.status == UserStatus.DISABLED.value:
                raise InvalidInput(N_("This account is already disabled."))
            lock_organisation(session, row.organization_id)
            refuse_losing_last_admin(session, row, "disable")
            row.status = UserStatus.DISABLED.value
            end_web_sessions(session, row.id)
            wiped = close_off_devices(
                session,
                self._audit,
                row,
                actor=actor,
                client=client,
                now=now,
                idle_lifetime=self._device_idle,
                wipe=wipe_devices,
            )
            close_account_tokens(session, row.id, now)
            self._audit.record(
                session,
                AuditEventType.USER_DISABLED,
                organization_id=row.organization_id,
                client=client,
                actor=actor,
                target_user_id=row.id,
                target_email=row.email,
                devices_wiped=wiped,
            )

    def enable(self, actor: Actor, user_id: uuid.UUID, *, client: ClientInfo) -> None:
        """Back to active; an account that never set a password goes back to invited."""
        with self._database.transaction() as session:
            row = administered_user(session, actor, user_id)
            if row.status != UserStatus.DISABLED.value:
                raise InvalidInput(N_("This account is not disabled."))
            status = UserStatus.ACTIVE if row.password_hash else UserStatus.INVITED
            row.status = status.value
            self._audit.record(
                session,
                AuditEventType.USER_ENABLED,
                organization_id=row.organization_id,
                client=client,
                actor=actor,
                target_user_id=row.id,
                target_email=row.email,
                status=status.value,
            )

    def delete(
        self,
        actor: Actor,
        user_id: uuid.UUID,
        *,
        confirm_email: str,
        client: ClientInfo,
        transfer_to: uuid.UUID | None = None,
    ) -> None:
        """Delete the account with its sessions, devices and links; the audit trail remains.
        With `transfer_to`, its My Files first go, with their versions, to a folder "From
        <name>" in that member's My Files (in the same transaction: all or nothing)."""
        with self._database.transaction() as session:
            row = administered_user(session, actor, user_id)
            refuse_self(actor, row, "delete")
            if confirm_email.strip().casefold() != row.email:
                raise InvalidInput(
                    N_("Type the account's email address exactly to confirm the deletion."),
                    field="confirm_email",
                )
            lock_organisation(session, row.organization_id)
            refuse_losing_last_admin(session, row, "delete")
            if transfer_to is not None:
                hand_over_files(
                    session,
                    self._audit,
                    row,
                    transfer_to,
                    actor=actor,
                    client=client,
                    now=self._clock.now(),
                )
            self._audit.record(
                session,
                AuditEventType.USER_DELETED,
                organization_id=row.organization_id,
                client=client,
                actor=actor,
                target_user_id=row.id,
                target_email=row.email,
                role=row.role,
            )
            session.delete(row)

    def _organisation_listed(self, actor: Actor, organization_id: uuid.UUID | None) -> uuid.UUID:
        if actor.is_provider_admin:
            if organization_id is None:
                raise InvalidInput(N_("Choose an organisation."), field="organization_id")
            return organization_id
        assert actor.organization_id is not None
        if organization_id not in (None, actor.organization_id):
            raise NotFound(N_("No such organisation."))
        return actor.organization_id


def _anchor(
    session: Session, organization_id: uuid.UUID, user_id: uuid.UUID | None
) -> tuple[str, uuid.UUID] | None:
    """Where a page starts: an account of this organisation (anything else starts at the top)."""
    if user_id is None:
        return None
    found = session.execute(
        select(User.display_name, User.id).where(
            User.id == user_id, User.organization_id == organization_id
        )
    ).one_or_none()
    return (found[0], found[1]) if found else None


def _position_after(anchor: tuple[str, uuid.UUID]) -> ColumnElement[bool]:
    name, user_id = anchor
    return or_(User.display_name > name, and_(User.display_name == name, User.id > user_id))


def _position_before(anchor: tuple[str, uuid.UUID]) -> ColumnElement[bool]:
    name, user_id = anchor
    return or_(User.display_name < name, and_(User.display_name == name, User.id < user_id))
