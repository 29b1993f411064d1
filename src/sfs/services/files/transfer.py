"""Handing a departing user's files to a colleague: their My Files, moved whole with every
version into a folder "From <name>" in the receiver's My Files.

Run inside the caller's unit of work (account deletion takes it just before the account goes),
so the files are either all moved or not at all. Nodes change space in place: no content is
copied, versions and their chunks stay as they are, and each file keeps its history. Both
journals tell sync clients: the departing space gets a `delete` for each top-level item, the
receiving one a `create` for the new folder and everything in it. The trash is not handed over:
it goes with the account.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from sfs.domain.errors import InvalidInput, QuotaExceeded
from sfs.domain.space_roles import PERSONAL
from sfs.domain.space_scope import SpaceScope
from sfs.i18n import N_
from sfs.metadata.file_models import Node, Space
from sfs.metadata.models import User
from sfs.metadata.share_models import NodeShare
from sfs.protocol.paths import join_path
from sfs.services.files.nodes import FOLDER, checked_name, live_child, new_node
from sfs.services.files.rooms import user_room
from sfs.services.files.spaces import MY_FILES, append_journal, create_space, lock_for_commit
from sfs.services.sharing.access import whole_space

MAX_FOLDER_NAME = 100


@dataclass(frozen=True)
class TransferredFiles:
    folder: str  # the new folder's path in the receiver's My Files, e.g. "/From Umberto"
    files: int
    folders: int


def transfer_my_files(
    session: Session, *, giver: User, receiver: User, now: datetime
) -> TransferredFiles | None:
    """Move `giver`'s live files and folders into a new folder of `receiver`'s My Files; None
    when the giver has no My Files. Both users must be of one organisation (the caller checks
    who may ask)."""
    if receiver.id == giver.id or receiver.organization_id != giver.organization_id:
        raise InvalidInput(
            N_("Choose another member of the organisation to receive the files."),
            field="transfer_to",
        )
    source = _my_files(session, giver.id)
    if source is None:
        return None
    target = _my_files(session, receiver.id) or create_space(
        session,
        organization_id=source.organization_id,
        owner_user_id=receiver.id,
        kind=PERSONAL,
        name=MY_FILES,
        now=now,
    )
    source_scope, target_scope = whole_space(source), whole_space(target)
    lock_for_commit(session, source_scope)
    lock_for_commit(session, target_scope)
    target_root = session.get(Node, target.root_node_id)
    assert target_root is not None
    folder = new_node(
        session, target_scope, target_root, _free_name(session, target_root, giver), FOLDER, now
    )
    folder_path = join_path([folder.name])
    append_journal(
        session, target_scope, node=folder, operation="create", path=folder_path, now=now
    )

    top = _live_children(session, source.root_node_id)
    for node in top:
        append_journal(
            session, source_scope, node=node, operation="delete", path=f"/{node.name}", now=now
        )
    moved = _live_subtree(session, [node.id for node in top])
    for start in range(0, len(moved), 500):
        session.execute(
            update(Node)
            .where(Node.id.in_(moved[start : start + 500]))
            .values(space_id=target.id)
            .execution_options(synchronize_session="fetch")
        )
    for node in top:
        node.parent_id = folder.id
    # Shares of the moved files follow them (a share is reached through its node's space).
    for start in range(0, len(moved), 500):
        session.execute(
            update(NodeShare)
            .where(NodeShare.node_id.in_(moved[start : start + 500]))
            .values(space_id=target.id)
            .execution_options(synchronize_session=False)
        )
    # Trashed items inside the moved folders stay behind and go now (with what lies below
    # them): restored, they would land in a folder of another space.
    for start in range(0, len(moved), 500):
        session.execute(
            delete(Node)
            .where(Node.space_id == source.id, Node.parent_id.in_(moved[start : start + 500]))
            .execution_options(synchronize_session=False)
        )
    session.flush()
    # Counted after the move, in the same transaction: over the receiver's quota, the whole
    # deletion is refused and nothing has changed (the organisation's total stays the same).
    room = user_room(session, receiver.id, source.organization_id)
    if room is not None and room.used > room.quota:
        raise QuotaExceeded(
            N_(
                (
                    "The files would put %(email)s over their quota (%(used)s of %(quota)s "
                    "bytes): raise it, or choose another member."
                ),
                email=receiver.email,
                used=room.used,
                quota=room.quota,
            )
        )
    counts = {"file": 0, "folder": 0}
    for node in top:
        _journal_tree(session, target_scope, node, f"{folder_path}/{node.name}", now, counts)
    return TransferredFiles(folder_path, counts["file"], counts["folder"])


def _my_files(session: Session, user_id: uuid.UUID) -> Space | None:
    query = select(Space).where(Space.owner_user_id == user_id, Space.kind == PERSONAL)
    return session.scalars(query).one_or_none()


def _free_name(session: Session, parent: Node, giver: User) -> str:
    """`From <name>`, or `From <name> (2)`… when the receiver has one already."""
    base = checked_name(f"From {giver.display_name}"[:MAX_FOLDER_NAME].strip())
    name, number = base, 1
    while live_child(session, parent.id, name) is not None:
        number += 1
        name = f"{base} ({number})"
    return name


def _live_children(session: Session, parent_id: uuid.UUID) -> list[Node]:
    query = select(Node).where(Node.parent_id == parent_id, Node.deleted_at.is_(None))
    return list(session.scalars(query.order_by(Node.name_key)))


def _live_subtree(session: Session, top: list[uuid.UUID]) -> list[uuid.UUID]:
    """These nodes and every live node below them (what lies in the trash stays behind)."""
    found, frontier = list(top), list(top)
    while frontier:
        below: list[uuid.UUID] = []
        for start in range(0, len(frontier), 500):
            below += session.scalars(
                select(Node.id).where(
                    Node.parent_id.in_(frontier[start : start + 500]), Node.deleted_at.is_(None)
                )
            ).all()
        found += below
        frontier = below
    return found


def _journal_tree(
    session: Session,
    space: SpaceScope,
    node: Node,
    path: str,
    now: datetime,
    counts: dict[str, int],
) -> None:
    append_journal(
        session,
        space,
        node=node,
        operation="create",
        path=path,
        version_id=node.current_version_id,
        now=now,
    )
    counts[node.kind] += 1
    if node.kind == FOLDER:
        for child in _live_children(session, node.id):
            _journal_tree(session, space, child, f"{path}/{child.name}", now, counts)
