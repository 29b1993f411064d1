"""Login Flow v2: a Nextcloud client gets an app password through the browser.

The client starts a flow and polls with its poll token; it shows the user an address holding
the login token, where the user logs in (second factor and all, in the portal) and grants
access. The next poll then hands out a new app password named after the client, once; every
other poll, before or after, finds nothing. A flow lasts 20 minutes. Both tokens are stored as
digests, and a flow lives in the database, so any instance may answer any step.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from sfs.auth.secrets import digest, new_secret
from sfs.auth.throttle import RateLimiters
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.errors import AccountUnavailable, InvalidInput, NotFound, TooManyAttempts
from sfs.i18n import N_
from sfs.metadata.db import Database
from sfs.metadata.models import User
from sfs.metadata.nextcloud_models import LoginFlow
from sfs.ports import Clock, Randomness
from sfs.services.identity.actors import actor_of, require_may_log_in
from sfs.services.identity.app_passwords import MAX_NAME_LENGTH, AppPasswordService

FLOW_LIFETIME = timedelta(minutes=20)
UNKNOWN_CLIENT = "Unknown client"
MAX_TOKEN_LENGTH = 128
GONE = N_("This sign-in link is unknown or has expired. Start again from your app.")


@dataclass(frozen=True)
class StartedFlow:
    poll_token: str
    login_token: str
    expires_at: datetime


@dataclass(frozen=True)
class WaitingFlow:
    client_name: str
    granted: bool


@dataclass(frozen=True)
class CollectedPassword:
    login_name: str
    app_password: str


def client_name(user_agent: str | None) -> str:
    """A name for the device from its User-Agent: printable, at most the app-password limit."""
    printable = "".join(
        ch for ch in (user_agent or "") if unicodedata.category(ch)[0] != "C"
    ).strip()
    return printable[:MAX_NAME_LENGTH].strip() or UNKNOWN_CLIENT


class LoginFlowService:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        randomness: Randomness,
        app_passwords: AppPasswordService,
        limiters: RateLimiters,
    ) -> None:
        self._database = database
        self._clock = clock
        self._randomness = randomness
        self._app_passwords = app_passwords
        self._limiters = limiters

    def start(self, *, client: ClientInfo) -> StartedFlow:
        """A new flow; TooManyAttempts when this address started too many lately (anyone may
        start one, and each is a row until it expires)."""
        limiter, address_key = self._limiters.login_flow_address, client.address or "unknown"
        if not limiter.hit(address_key):
            raise TooManyAttempts(retry_after_seconds=limiter.resets_in(address_key))
        now = self._clock.now()
        poll_token, login_token = new_secret(self._randomness), new_secret(self._randomness)
        with self._database.transaction() as session:
            session.add(
                LoginFlow(
                    id=uuid.uuid4(),
                    poll_token_hash=digest(poll_token),
                    login_token_hash=digest(login_token),
                    client_name=client_name(client.user_agent),
                    client_address=(client.address or "")[:64] or None,
                    created_at=now,
                    expires_at=now + FLOW_LIFETIME,
                )
            )
        return StartedFlow(poll_token, login_token, now + FLOW_LIFETIME)

    def waiting(self, viewer: Actor, login_token: str) -> WaitingFlow:
        """The flow behind a browser's address; NotFound once expired or collected, and for
        anyone but the user who granted it."""
        with self._database.transaction() as session:
            flow = self._open_flow(session, login_token)
            if flow.granted_at is not None and flow.user_id != viewer.user_id:
                raise NotFound(GONE)
            return WaitingFlow(flow.client_name, granted=flow.granted_at is not None)

    def grant(self, actor: Actor, login_token: str) -> str:
        """The signed-in user lets the waiting client in; returns the client's name."""
        if actor.organization_id is None:
            raise InvalidInput(N_("Provider administrators have no files to reach with a device."))
        with self._database.transaction() as session:
            flow = self._open_flow(session, login_token)
            if flow.granted_at is not None and flow.user_id != actor.user_id:
                raise NotFound(GONE)  # someone else's: as if it did not exist
            flow.user_id = actor.user_id
            flow.organization_id = actor.organization_id
            flow.granted_at = flow.granted_at or self._clock.now()
            return flow.client_name

    def deny(self, viewer: Actor, login_token: str) -> str:
        """The user refuses: the flow ends, and the client's polls find nothing; returns the
        client's name."""
        with self._database.transaction() as session:
            flow = self._open_flow(session, login_token)
            if flow.granted_at is not None:
                raise NotFound(GONE)
            session.delete(flow)
            return flow.client_name

    def collect(self, poll_token: str, *, client: ClientInfo) -> CollectedPassword:
        """The app password for a granted flow, once; NotFound before, after, or ever."""
        if not poll_token or len(poll_token) > MAX_TOKEN_LENGTH:
            raise NotFound(N_("No such login flow."))
        now = self._clock.now()
        with self._database.transaction() as session:
            # One poll wins, even when two reach two instances at once.
            taken = session.execute(
                update(LoginFlow)
                .where(
                    LoginFlow.poll_token_hash == digest(poll_token),
                    LoginFlow.granted_at.is_not(None),
                    LoginFlow.collected_at.is_(None),
                    LoginFlow.expires_at > now,
                )
                .values(collected_at=now)
                .returning(LoginFlow.user_id, LoginFlow.client_name)
            ).one_or_none()
            if taken is None or taken.user_id is None:
                raise NotFound(N_("No such login flow."))
            user = session.get(User, taken.user_id)
            if user is None:
                raise NotFound(N_("No such login flow."))
            try:
                require_may_log_in(user)
            except AccountUnavailable:
                raise NotFound(N_("No such login flow.")) from None
            actor = actor_of(user)
            name = taken.client_name
        created = self._app_passwords.create(actor, name=name, client=client)
        return CollectedPassword(login_name=actor.email, app_password=created.secret)

    def drop_expired(self) -> int:
        """Forget flows past their end (collected ones included); returns how many."""
        with self._database.transaction() as session:
            dropped = session.execute(
                delete(LoginFlow)
                .where(LoginFlow.expires_at <= self._clock.now())
                .execution_options(synchronize_session=False)
            )
            return int(dropped.rowcount or 0)  # type: ignore[attr-defined]

    def _open_flow(self, session: Session, login_token: str) -> LoginFlow:
        if not login_token or len(login_token) > MAX_TOKEN_LENGTH:
            raise NotFound(GONE)
        flow = session.scalars(
            select(LoginFlow).where(LoginFlow.login_token_hash == digest(login_token))
        ).one_or_none()
        if flow is None or flow.collected_at is not None or flow.expires_at <= self._clock.now():
            raise NotFound(GONE)
        return flow
