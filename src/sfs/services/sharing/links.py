"""Share links, the owner's side: create, list and revoke public links to a file or folder.

A link acts on behalf of the member who created it: a visitor reads (or adds to) what that
member may, and only below the linked node. The token is 256 random bits, stored only as its
digest; the URL is `/s/<token>` and never names the file. The organisation's link policy is
checked here at creation and again by `link_access` at every visit, so a policy tightened later
applies to existing links at their next use.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from sfs.auth.password_policy import MAX_LENGTH
from sfs.auth.secrets import digest, new_secret
from sfs.crypto.passwords import PasswordHasher
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import InvalidInput, NotFound, PermissionDenied
from sfs.i18n import N_
from sfs.metadata.db import Database
from sfs.metadata.file_models import Node
from sfs.metadata.link_models import ShareLink
from sfs.metadata.models import User
from sfs.ports import Clock, Randomness
from sfs.services.audit import AuditLog
from sfs.services.files.nodes import FOLDER, parse_path, path_of, resolve
from sfs.services.files.spaces import visible_space, writable_space
from sfs.services.sharing.access import whole_space_only
from sfs.services.sharing.link_policy import LinkPolicyView, load_policy

LINK_PATH = "/s/"
MIN_PASSWORD_LENGTH = 8
MAX_DOWNLOADS = 1_000_000


@dataclass(frozen=True)
class LinkOptions:
    password: str | None = None
    # The last day (UTC) on which the link works; None: the policy's default, if any.
    expires_on: date | None = None
    max_downloads: int | None = None
    upload_only: bool = False
    can_edit: bool = False
    notify_owner: bool = False


class _Unchanged(Enum):
    UNCHANGED = "unchanged"


# A field of LinkChanges left as it is (None means "remove" for the optional ones).
UNCHANGED: Final = _Unchanged.UNCHANGED


@dataclass(frozen=True)
class LinkChanges:
    """What an owner changes on an existing link; every field UNCHANGED unless given."""

    password: str | _Unchanged | None = UNCHANGED  # None: no password any more
    expires_on: date | _Unchanged | None = UNCHANGED  # None: never expires
    max_downloads: int | _Unchanged | None = UNCHANGED  # None: no limit
    upload_only: bool | _Unchanged = UNCHANGED
    can_edit: bool | _Unchanged = UNCHANGED
    notify_owner: bool | _Unchanged = UNCHANGED


@dataclass(frozen=True)
class LinkView:
    id: uuid.UUID
    space_id: uuid.UUID
    node_id: uuid.UUID
    path: str
    kind: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    max_downloads: int | None
    download_count: int
    upload_only: bool
    can_edit: bool
    has_password: bool
    notify_owner: bool
    state: str  # live, revoked, expired, exhausted, gone


@dataclass(frozen=True)
class CreatedLink:
    link: LinkView
    token: str

    @property
    def path(self) -> str:
        """The link's address below the portal's base URL."""
        return LINK_PATH + self.token


class ShareLinkService:
    def __init__(
        self,
        database: Database,
        audit: AuditLog,
        clock: Clock,
        randomness: Randomness,
        hasher: PasswordHasher,
    ) -> None:
        self._database = database
        self._audit = audit
        self._clock = clock
        self._randomness = randomness
        self._hasher = hasher

    def create(
        self,
        actor: Actor,
        *,
        space_id: uuid.UUID,
        path: str,
        options: LinkOptions,
        client: ClientInfo,
    ) -> CreatedLink:
        parts = parse_path(path)
        now = self._clock.now()
        with self._database.transaction() as session:
            # A share's recipient may not hand its files on to the public.
            space = whole_space_only(visible_space(session, actor, space_id))
            node = resolve(session, space, parts)
            policy = load_policy(session, space.organization_id)
            expires_at = _checked(options, policy, node.kind, now)
            if options.upload_only or options.can_edit:
                writable_space(session, actor, space_id)  # a Viewer may not hand out writing
        # Hashing takes a while: outside the transaction.
        password_hash = self._hasher.hash(options.password) if options.password else None
        token = new_secret(self._randomness)
        with self._database.transaction() as session:
            space = visible_space(session, actor, space_id)
            node = resolve(session, space, parts)
            row = ShareLink(
                id=uuid.uuid4(),
                organization_id=space.organization_id,
                space_id=space.id,
                node_id=node.id,
                created_by=actor.user_id,
                token_digest=digest(token),
                password_hash=password_hash,
                expires_at=expires_at,
                max_downloads=options.max_downloads,
                download_count=0,
                upload_only=options.upload_only,
                can_edit=options.can_edit,
                notify_owner=options.notify_owner,
                created_at=now,
            )
            session.add(row)
            session.flush()
            view = _view(session, row, now)
            self._audit.record(
                session,
                AuditEventType.SHARE_LINK_CREATED,
                organization_id=space.organization_id,
                client=client,
                actor=actor,
                link_id=str(row.id),
                path=view.path,
                password=password_hash is not None,
                expires_at=expires_at.isoformat() if expires_at else None,
                max_downloads=options.max_downloads,
                upload_only=options.upload_only,
                can_edit=options.can_edit,
            )
            return CreatedLink(view, token)

    def links_of(self, actor: Actor, *, space_id: uuid.UUID, path: str) -> list[LinkView]:
        """The links the actor made to this file or folder, newest first."""
        parts = parse_path(path)
        now = self._clock.now()
        with self._database.transaction() as session:
            node = resolve(session, visible_space(session, actor, space_id), parts)
            rows = session.scalars(
                select(ShareLink)
                .where(ShareLink.node_id == node.id, ShareLink.created_by == actor.user_id)
                .order_by(ShareLink.created_at.desc())
            ).all()
            return [_view(session, row, now) for row in rows]

    def mine(self, actor: Actor) -> list[LinkView]:
        """Every link the actor made, newest first."""
        now = self._clock.now()
        with self._database.transaction() as session:
            rows = session.scalars(
                select(ShareLink)
                .where(ShareLink.created_by == actor.user_id)
                .order_by(ShareLink.created_at.desc())
            ).all()
            return [_view(session, row, now) for row in rows]

    def organisation_links(self, actor: Actor) -> list[LinkView]:
        """Every live link of the organisation, for its administrator."""
        if not actor.is_org_admin or actor.organization_id is None:
            raise PermissionDenied(N_("Only the organisation's administrators see all links."))
        now = self._clock.now()
        with self._database.transaction() as session:
            rows = session.scalars(
                select(ShareLink)
                .where(
                    ShareLink.organization_id == actor.organization_id,
                    ShareLink.revoked_at.is_(None),
                )
                .order_by(ShareLink.created_at.desc())
            ).all()
            views = [_view(session, row, now) for row in rows]
            return [view for view in views if view.state == "live"]

    def revoke(self, actor: Actor, link_id: uuid.UUID, *, client: ClientInfo) -> LinkView:
        """Its creator, or an administrator of its organisation, ends a link at once."""
        now = self._clock.now()
        with self._database.transaction() as session:
            row = session.get(ShareLink, link_id)
            if row is None or row.organization_id != actor.organization_id:
                raise NotFound(N_("No such link."))
            if row.created_by != actor.user_id and not actor.is_org_admin:
                raise NotFound(N_("No such link."))
            if row.revoked_at is None:
                row.revoked_at = now
                self._audit.record(
                    session,
                    AuditEventType.SHARE_LINK_REVOKED,
                    organization_id=row.organization_id,
                    client=client,
                    actor=actor,
                    link_id=str(row.id),
                )
            session.flush()
            return _view(session, row, now)

    def link(self, actor: Actor, link_id: uuid.UUID) -> LinkView:
        """One of the actor's own links (NotFound for anyone else's)."""
        now = self._clock.now()
        with self._database.transaction() as session:
            row = session.get(ShareLink, link_id)
            if row is None or row.created_by != actor.user_id:
                raise NotFound(N_("No such link."))
            return _view(session, row, now)

    def update(
        self, actor: Actor, link_id: uuid.UUID, changes: LinkChanges, *, client: ClientInfo
    ) -> LinkView:
        """Its creator changes a live link, under the organisation's policy as it is today.

        The policy's maximum expiry counts from the link's creation (the same rule a visit
        applies), so an edit never stretches a link's life past what the policy allows. A
        download limit at or below the downloads so far uses the link up. A new password, or
        none, voids every visitor's access key at once (the key is bound to the hash)."""
        now = self._clock.now()
        with self._database.transaction() as session:
            row, node = self._own_live_link(session, actor, link_id)
            policy = load_policy(session, row.organization_id)
            changed = _checked_changes(row, node.kind, changes, policy, now)
            if changes.upload_only is True or changes.can_edit is True:
                writable_space(session, actor, row.space_id)
        if not changed:
            with self._database.transaction() as session:
                return _view(session, self._own_link(session, actor, link_id), now)
        password_hash = (
            self._hasher.hash(changes.password) if isinstance(changes.password, str) else None
        )
        with self._database.transaction() as session:
            # Checked again: the link may have been revoked while the password was hashed.
            row, _ = self._own_live_link(session, actor, link_id)
            audit_details: dict[str, Any] = {}
            for field, value in changed.items():
                if field == "password":
                    row.password_hash = password_hash
                    audit_details["password"] = "set" if password_hash else "removed"
                    continue
                setattr(row, field, value)
                audit_details[field] = value.isoformat() if isinstance(value, datetime) else value
            session.flush()
            self._audit.record(
                session,
                AuditEventType.SHARE_LINK_CHANGED,
                organization_id=row.organization_id,
                client=client,
                actor=actor,
                link_id=str(row.id),
                changed=audit_details,
            )
            return _view(session, row, now)

    def _own_link(self, session: Session, actor: Actor, link_id: uuid.UUID) -> ShareLink:
        row = session.get(ShareLink, link_id)
        if row is None or row.organization_id != actor.organization_id:
            raise NotFound(N_("No such link."))
        if row.created_by != actor.user_id:
            if actor.is_org_admin:
                raise PermissionDenied(N_("Only the link's creator changes it; you may revoke it."))
            raise NotFound(N_("No such link."))
        return row

    def _own_live_link(
        self, session: Session, actor: Actor, link_id: uuid.UUID
    ) -> tuple[ShareLink, Node]:
        row = self._own_link(session, actor, link_id)
        node = session.get(Node, row.node_id)
        if row.revoked_at is not None or node is None or node.deleted_at is not None:
            raise InvalidInput(N_("A revoked or deleted link cannot be changed."), field="link")
        visible_space(session, actor, row.space_id)  # a team folder membership may be gone
        return row, node


def _checked_changes(
    row: ShareLink, kind: str, changes: LinkChanges, policy: LinkPolicyView, now: datetime
) -> dict[str, object]:
    """The columns to change (the password under the key "password"), each checked."""
    if not policy.links_allowed:
        raise PermissionDenied(N_("Your organisation does not allow share links."))
    changed: dict[str, object] = {}
    if isinstance(changes.password, str):
        _check_password(changes.password)
    if not isinstance(changes.password, _Unchanged):
        changed["password"] = changes.password
    # The link as it will be must meet today's policy, even where this change is elsewhere.
    keeps_password = row.password_hash is not None and isinstance(changes.password, _Unchanged)
    if policy.password_required and not (keeps_password or isinstance(changes.password, str)):
        raise InvalidInput(
            N_("Your organisation requires a password on every link."), field="password"
        )
    if not isinstance(changes.max_downloads, _Unchanged):
        if changes.max_downloads is not None:
            _check_max_downloads(changes.max_downloads)
        changed["max_downloads"] = changes.max_downloads
    upload_only = (
        row.upload_only if isinstance(changes.upload_only, _Unchanged) else changes.upload_only
    )
    can_edit = row.can_edit if isinstance(changes.can_edit, _Unchanged) else changes.can_edit
    _check_kind(upload_only=upload_only, can_edit=can_edit, kind=kind, policy=policy)
    for field, value in (
        ("upload_only", changes.upload_only),
        ("can_edit", changes.can_edit),
        ("notify_owner", changes.notify_owner),
    ):
        if not isinstance(value, _Unchanged):
            changed[field] = value
    if not isinstance(changes.expires_on, _Unchanged):
        if changes.expires_on is None:
            # Taking an expiry away under a maximum is refused; leaving none where none is, not.
            if policy.max_expiry_days is not None and row.expires_at is not None:
                raise InvalidInput(
                    N_("Your organisation requires an expiry date on every link."),
                    field="expires",
                )
            changed["expires_at"] = None
        else:
            created_on = row.created_at.astimezone(UTC).date()
            changed["expires_at"] = _checked_expiry(
                changes.expires_on,
                policy,
                today=now.astimezone(UTC).date(),
                counted_from=created_on,
            )
    # What is already so is no change (a password given is always one: it is a new hash).
    return {
        field: value
        for field, value in changed.items()
        if (field == "password" and value is not None)
        or getattr(row, "password_hash" if field == "password" else field) != value
    }


def end_of_day(day: date) -> datetime:
    """A link that expires on a day works through that whole day (UTC)."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


def _checked(
    options: LinkOptions, policy: LinkPolicyView, kind: str, now: datetime
) -> datetime | None:
    if not policy.links_allowed:
        raise PermissionDenied(N_("Your organisation does not allow share links."))
    if options.password is not None:
        _check_password(options.password)
    elif policy.password_required:
        raise InvalidInput(
            N_("Your organisation requires a password on every link."), field="password"
        )
    if options.max_downloads is not None:
        _check_max_downloads(options.max_downloads)
    _check_kind(
        upload_only=options.upload_only, can_edit=options.can_edit, kind=kind, policy=policy
    )
    today = now.astimezone(UTC).date()
    expires_on = options.expires_on
    if expires_on is None:
        days = policy.default_expiry_days or policy.max_expiry_days
        expires_on = today + timedelta(days=days) if days else None
    if expires_on is None:
        return None
    return _checked_expiry(expires_on, policy, today=today, counted_from=today)


def _check_password(password: str) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_LENGTH:
        raise InvalidInput(N_("A link password needs 8 to 256 characters."), field="password")


def _check_max_downloads(max_downloads: int) -> None:
    if not 1 <= max_downloads <= MAX_DOWNLOADS:
        raise InvalidInput(
            N_("The download limit must be from 1 to 1,000,000."), field="max_downloads"
        )


def _check_kind(*, upload_only: bool, can_edit: bool, kind: str, policy: LinkPolicyView) -> None:
    if upload_only and can_edit:
        raise InvalidInput(
            N_("A link is either upload only or can edit, not both."), field="upload_only"
        )
    if (upload_only or can_edit) and kind != FOLDER:
        raise InvalidInput(
            N_("Only a link to a folder can be upload only or can edit."), field="upload_only"
        )
    if upload_only and not policy.upload_only_allowed:
        raise PermissionDenied(N_("Your organisation does not allow upload-only links."))


def _checked_expiry(
    expires_on: date, policy: LinkPolicyView, *, today: date, counted_from: date
) -> datetime:
    """The end of the link's last day; the policy's maximum counts from `counted_from`."""
    if expires_on < today:
        raise InvalidInput(N_("The expiry date is in the past."), field="expires")
    if policy.max_expiry_days is not None and expires_on > counted_from + timedelta(
        days=policy.max_expiry_days
    ):
        raise InvalidInput(
            N_("Your organisation allows links for at most %(days)s days.")
            % {"days": policy.max_expiry_days},
            field="expires",
        )
    if expires_on.year > 2199:
        raise InvalidInput(N_("Give dates from 1970-01-01 to 2199-12-31."), field="expires")
    return end_of_day(expires_on)


def link_state(row: ShareLink, node: Node | None, now: datetime) -> str:
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and now >= row.expires_at:
        return "expired"
    if row.max_downloads is not None and row.download_count >= row.max_downloads:
        return "exhausted"
    if node is None or node.deleted_at is not None:
        return "gone"
    return "live"


def _view(session: Session, row: ShareLink, now: datetime) -> LinkView:
    node = session.get(Node, row.node_id)
    creator = session.get(User, row.created_by)
    return LinkView(
        id=row.id,
        space_id=row.space_id,
        node_id=row.node_id,
        path=path_of(session, node) if node is not None else "",
        kind=node.kind if node is not None else FOLDER,
        created_by=creator.email if creator is not None else "",
        created_at=row.created_at,
        expires_at=row.expires_at,
        max_downloads=row.max_downloads,
        download_count=row.download_count,
        upload_only=row.upload_only,
        can_edit=row.can_edit,
        has_password=row.password_hash is not None,
        notify_owner=row.notify_owner,
        state=link_state(row, node, now),
    )
