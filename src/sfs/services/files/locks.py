"""WebDAV locks (RFC 4918 class 2): who may write a path of a space while a lock is held.

Locks are rows in the database, so every instance honours them; they end at their timeout
(by the injected clock) or when unlocked. A lock names a path, and with depth infinity
everything below it. An exclusive lock excludes every other lock that overlaps it; shared locks
only exclude exclusive ones. A write under a lock must submit the lock's token, and only the
account that took the lock can use its token.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.orm import Session

from sfs.domain.actor import Actor
from sfs.domain.errors import Conflict, Locked, PermissionDenied, PreconditionFailed
from sfs.domain.space_scope import SpaceScope
from sfs.i18n import N_
from sfs.metadata.dav_models import DavLock
from sfs.metadata.db import Database
from sfs.ports import Clock, Randomness
from sfs.protocol.paths import join_path, name_key
from sfs.services.files.nodes import parse_path
from sfs.services.files.spaces import visible_space, writable_space

DEFAULT_TIMEOUT_SECONDS = 3600
MAX_TIMEOUT_SECONDS = 7 * 24 * 3600
TOKEN_PREFIX = "opaquelocktoken:"  # noqa: S105 (a URI scheme, RFC 4918 appendix C)


@dataclass(frozen=True)
class LockView:
    token: str
    path: str
    exclusive: bool
    deep: bool
    owner_xml: str | None
    timeout_seconds: int
    expires_at: datetime
    user_id: uuid.UUID


@dataclass(frozen=True)
class LockTarget:
    """A path a write touches; `deep` when everything below it is touched too."""

    path: str
    deep: bool = False


class LockService:
    def __init__(self, database: Database, clock: Clock, randomness: Randomness) -> None:
        self._database = database
        self._clock = clock
        self._randomness = randomness

    def lock(
        self,
        actor: Actor,
        *,
        space_id: uuid.UUID,
        path: str,
        exclusive: bool,
        deep: bool,
        owner_xml: str | None,
        timeout_seconds: int | None,
    ) -> LockView:
        """A new lock, or Locked when one that conflicts is held (by anyone, even the actor)."""
        now = self._clock.now()
        seconds = bounded_timeout(timeout_seconds)
        with self._database.transaction() as session:
            space = writable_space(session, actor, space_id)
            key = _key(space, path)
            for held in _live(session, space.id, now):
                if _overlaps(held.path_key, held.deep, key, deep) and (held.exclusive or exclusive):
                    raise Locked(N_("%(path)s is locked.", path=space.scope_path(held.path) or "/"))
            token = TOKEN_PREFIX + str(uuid.UUID(bytes=self._randomness.token_bytes(16), version=4))
            row = DavLock(
                token=token,
                organization_id=space.organization_id,
                space_id=space.id,
                user_id=actor.user_id,
                path=space.space_path(join_path(parse_path(path))),
                path_key=key,
                exclusive=exclusive,
                deep=deep,
                owner_xml=owner_xml,
                timeout_seconds=seconds,
                created_at=now,
                expires_at=now + timedelta(seconds=seconds),
            )
            session.add(row)
            return _view(row, space)

    def refresh(
        self,
        actor: Actor,
        *,
        space_id: uuid.UUID,
        path: str,
        tokens: Collection[str],
        timeout_seconds: int | None,
    ) -> LockView:
        """Extend the actor's lock on `path` named by one of `tokens`."""
        now = self._clock.now()
        seconds = bounded_timeout(timeout_seconds)
        with self._database.transaction() as session:
            space = writable_space(session, actor, space_id)
            key = _key(space, path)
            for held in _live(session, space.id, now):
                if held.token in tokens and held.user_id == actor.user_id and _covers(held, key):
                    held.timeout_seconds = seconds
                    held.expires_at = now + timedelta(seconds=seconds)
                    return _view(held, space)
        raise PreconditionFailed(N_("No lock of yours with that token applies here."))

    def unlock(self, actor: Actor, *, space_id: uuid.UUID, path: str, token: str) -> None:
        now = self._clock.now()
        with self._database.transaction() as session:
            space = writable_space(session, actor, space_id)
            key = _key(space, path)
            for held in _live(session, space.id, now):
                if held.token == token and _covers(held, key):
                    if held.user_id != actor.user_id:
                        raise PermissionDenied(N_("This lock belongs to someone else."))
                    session.delete(held)
                    return
        raise Conflict(N_("No lock with that token applies to this resource."))

    def locks_on(self, actor: Actor, *, space_id: uuid.UUID, path: str) -> list[LockView]:
        """The live locks that apply to `path` (on it, or deep above it)."""
        now = self._clock.now()
        with self._database.transaction() as session:
            space = visible_space(session, actor, space_id)
            key = _key(space, path)
            return [
                _view(held, space) for held in _live(session, space.id, now) if _covers(held, key)
            ]

    def locks_below(
        self, actor: Actor, *, space_id: uuid.UUID, paths: Sequence[str]
    ) -> dict[str, list[LockView]]:
        """For a listing: the locks that apply to each of these paths (few queries, not many)."""
        now = self._clock.now()
        with self._database.transaction() as session:
            space = visible_space(session, actor, space_id)
            return locks_covering(session, space, paths, now)

    def require_unlocked(
        self,
        actor: Actor,
        *,
        space_id: uuid.UUID,
        targets: Sequence[LockTarget],
        tokens: Collection[str],
    ) -> None:
        """Locked unless every live lock on what the write touches was submitted by its owner."""
        now = self._clock.now()
        with self._database.transaction() as session:
            space = visible_space(session, actor, space_id)
            refusal = lock_in_the_way(session, actor, space, targets, tokens, now)
        if refusal is not None:
            raise refusal

    def token_applies(self, actor: Actor, *, space_id: uuid.UUID, path: str, token: str) -> bool:
        """Whether `token` names a live lock on `path` (for If: header conditions)."""
        return any(
            lock.token == token for lock in self.locks_on(actor, space_id=space_id, path=path)
        )

    def release(self, actor: Actor, *, space_id: uuid.UUID, path: str) -> None:
        """Forget the locks on `path` and below it: the resource was deleted or moved away."""
        with self._database.transaction() as session:
            space = writable_space(session, actor, space_id)
            key = _key(space, path)
            gone = [
                lock.token
                for lock in _live(session, space.id, None)
                if lock.path_key == key or _is_below(lock.path_key, key)
            ]
            if gone:
                session.execute(delete(DavLock).where(DavLock.token.in_(gone)))


def lock_in_the_way(
    session: Session,
    actor: Actor,
    space: SpaceScope,
    targets: Sequence[LockTarget],
    tokens: Collection[str],
    now: datetime,
) -> Locked | None:
    """The refusal a write touching `targets` meets: a live lock whose token the actor did not
    submit (or submitted for someone else's lock); None when nothing is in the way. Only reads
    (expired locks are passed over, and deleted by the lock operations), so a door may ask it on
    its event loop."""
    held = _live_read(session, space.id, now)
    for target in targets:
        key = _key(space, target.path)
        for lock in held:
            if not _overlaps(lock.path_key, lock.deep, key, target.deep):
                continue
            if lock.token in tokens and lock.user_id == actor.user_id:
                continue
            return Locked(N_("%(path)s is locked.", path=space.scope_path(lock.path) or "/"))
    return None


def bounded_timeout(seconds: int | None) -> int:
    if seconds is None or seconds <= 0:
        return DEFAULT_TIMEOUT_SECONDS
    return min(seconds, MAX_TIMEOUT_SECONDS)


def locks_covering(
    session: Session, space: SpaceScope, paths: Sequence[str], now: datetime
) -> dict[str, list[LockView]]:
    """The live locks that apply to each of these paths of `space` (checked by the caller), in
    a transaction the caller holds; only reads, as `lock_in_the_way`."""
    held = _live_read(session, space.id, now)
    keys = {path: _key(space, path) for path in paths}
    return {
        path: [_view(lock, space) for lock in held if _covers(lock, key)]
        for path, key in keys.items()
    }


def _live(session: Session, space_id: uuid.UUID, now: datetime | None) -> list[DavLock]:
    """The space's locks (all of them without `now`), expired ones deleted on the way (a lock
    ends by the clock alone, deleted or not): for the lock operations, which change them."""
    rows = list(session.scalars(select(DavLock).where(DavLock.space_id == space_id)))
    if now is None:
        return rows
    expired = [row for row in rows if row.expires_at <= now]
    for row in expired:
        session.delete(row)
    return [row for row in rows if row.expires_at > now]


@dataclass(frozen=True)
class _Held:
    """A live lock as `_live_read` reads it: columns, not an ORM object to track."""

    token: str
    user_id: uuid.UUID
    path: str
    path_key: str
    exclusive: bool
    deep: bool
    owner_xml: str | None
    timeout_seconds: int
    expires_at: datetime


def _live_read(session: Session, space_id: uuid.UUID, now: datetime) -> list[_Held]:
    """The space's live locks, only read (expired ones are passed over): for the checks every
    WebDAV write and PROPFIND makes, which a door may run on its event loop."""
    return [
        _Held(*row)
        for row in session.execute(_SPACE_LOCKS, {"space_id": space_id})
        if row.expires_at > now
    ]


# Built once, as columns: asked by every WebDAV write and PROPFIND, usually of a space without
# a lock, where composing the query and setting up ORM loading cost more than running it.
_LOCKS = cast(Table, DavLock.__table__)
_SPACE_LOCKS = select(
    _LOCKS.c.token,
    _LOCKS.c.user_id,
    _LOCKS.c.path,
    _LOCKS.c.path_key,
    _LOCKS.c.exclusive,
    _LOCKS.c.deep,
    _LOCKS.c.owner_xml,
    _LOCKS.c.timeout_seconds,
    _LOCKS.c.expires_at,
).where(_LOCKS.c.space_id == bindparam("space_id"))


def _key(space: SpaceScope, path: str) -> str:
    """Locks are kept by whole-space path (a share's paths are below its root)."""
    return join_path([name_key(part) for part in parse_path(space.space_path(path))])


def _is_below(key: str, ancestor: str) -> bool:
    return key != ancestor and key.startswith(ancestor.rstrip("/") + "/")


def _covers(lock: DavLock | _Held, key: str) -> bool:
    return lock.path_key == key or (lock.deep and _is_below(key, lock.path_key))


def _overlaps(lock_key: str, lock_deep: bool, key: str, deep: bool) -> bool:
    """Whether a lock at `lock_key` and a lock (or write) at `key` reach a common resource."""
    return (
        lock_key == key
        or (lock_deep and _is_below(key, lock_key))
        or (deep and _is_below(lock_key, key))
    )


def _view(row: DavLock | _Held, space: SpaceScope) -> LockView:
    return LockView(
        token=row.token,
        path=space.scope_path(row.path) or "/",  # a lock above a share covers its root
        exclusive=row.exclusive,
        deep=row.deep,
        owner_xml=row.owner_xml,
        timeout_seconds=row.timeout_seconds,
        expires_at=row.expires_at,
        user_id=row.user_id,
    )
