"""What a door looks at before it takes a whole file's body (a WebDAV PUT, a chunked upload's
final MOVE): the file there now, its folder, the locks in the way, whether a quota applies, in
one transaction.

Asked at every small-file PUT: one round trip instead of one per fact. The door decides the
order its refusals come in (its If-Match before a lock, say), so the locks come back as the
refusal they would raise, not raised.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from sfs.domain.actor import Actor
from sfs.domain.errors import InvalidInput, Locked, NotFound
from sfs.i18n import N_
from sfs.metadata.db import Database
from sfs.ports import Clock
from sfs.protocol.paths import join_path
from sfs.services.files.locks import LockTarget, lock_in_the_way
from sfs.services.files.nodes import NodeView, live_child_view, parse_path, resolve_view
from sfs.services.files.rooms import quotas
from sfs.services.files.spaces import writable_space


@dataclass(frozen=True)
class WriteState:
    existing: NodeView | None  # what is at the path now (a file, or a folder the door refuses)
    parent: NodeView | None  # the folder it goes into; None when missing (or top of a file)
    locked: Locked | None  # the refusal of a lock whose token was not submitted
    # Whether a quota (the user's or the organisation's) applies: if none does, the door need
    # not count what is stored before it takes the body (the commit checks again anyway).
    quota_applies: bool = True


class WriteCheckService:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    def before_whole_file(
        self, actor: Actor, *, space_id: uuid.UUID, path: str, tokens: Collection[str]
    ) -> WriteState:
        """PermissionDenied for a Viewer and NotFound for a space the actor may not reach
        (before the body is read, not at the commit); otherwise the state a write of a whole
        file to `path` meets. The locks checked: on the file, and on its folder when the write
        creates the file there."""
        parts = parse_path(path)
        if not parts:
            raise InvalidInput(N_("The top folder cannot be moved, nor replaced."))
        with self._database.transaction() as session:
            space = writable_space(session, actor, space_id)
            parent_path = join_path(parts[:-1])
            try:
                parent: NodeView | None = resolve_view(session, space, parts[:-1], path=parent_path)
            except NotFound:
                parent = None
            existing = live_child_view(session, parent.id, parts) if parent is not None else None
            targets = [LockTarget(join_path(parts))]
            if existing is None:
                targets.append(LockTarget(parent_path))
            locked = lock_in_the_way(session, actor, space, targets, tokens, self._clock.now())
            limits = (
                quotas(session, actor.user_id, actor.organization_id)
                if actor.organization_id is not None
                else None
            )
        return WriteState(
            existing=existing,
            parent=parent,
            locked=locked,
            quota_applies=limits is None or limits.any,
        )
