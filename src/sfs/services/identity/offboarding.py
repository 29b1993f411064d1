"""When someone leaves: their devices are closed off, and their files can go to a colleague.

Disabling an account revokes every device (each audited), and with `wipe` also asks each working
device to erase what it synced. Deleting one may first hand its My Files to another member of
the organisation (`services/files/transfer.py`), in the deletion's own transaction. Both run
inside the caller's unit of work (`AccountAdministration`).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import InvalidInput, NotFound
from sfs.i18n import N_
from sfs.metadata.models import DeviceToken, User
from sfs.services.audit import AuditLog
from sfs.services.files.transfer import transfer_my_files
from sfs.services.identity.account_rules import administered_user
from sfs.services.identity.credentials import revoke_device_tokens
from sfs.services.identity.device_tokens import live_tokens
from sfs.services.identity.devices import mark_for_wipe


def close_off_devices(
    session: Session,
    audit: AuditLog,
    user: User,
    *,
    actor: Actor,
    client: ClientInfo,
    now: datetime,
    idle_lifetime: timedelta,
    wipe: bool,
) -> int:
    """Revoke every device of `user` (with `wipe`, each working one is also to erase what it
    synced); returns how many were wiped."""
    wiped = 0
    if wipe:
        working = session.scalars(
            select(DeviceToken).where(
                DeviceToken.user_id == user.id,
                live_tokens(now, idle_lifetime),
                DeviceToken.wipe_state.is_(None),
            )
        ).all()
        for token in working:
            mark_for_wipe(session, token, now=now, requested_by=actor.user_id)
            audit.record(
                session,
                AuditEventType.DEVICE_WIPE_REQUESTED,
                organization_id=user.organization_id,
                client=client,
                actor=actor,
                target_user_id=user.id,
                target_email=user.email,
                device=token.name,
                token_id=str(token.id),
                kind=token.kind,
                reason="account_disabled",
            )
            wiped += 1
    revoke_device_tokens(
        session,
        audit,
        DeviceToken.user_id == user.id,
        now=now,
        client=client,
        actor=actor,
        reason="account_disabled",
    )
    return wiped


def hand_over_files(
    session: Session,
    audit: AuditLog,
    user: User,
    receiver_id: uuid.UUID,
    *,
    actor: Actor,
    client: ClientInfo,
    now: datetime,
) -> None:
    """Move `user`'s My Files to a folder "From <name>" in the receiver's My Files."""
    try:
        receiver = administered_user(session, actor, receiver_id)
    except NotFound:  # another organisation's, or nobody's: the same answer
        receiver = None
    if receiver is None or receiver.id == user.id:
        raise InvalidInput(
            N_("Choose another member of the organisation to receive the files."),
            field="transfer_to",
        )
    moved = transfer_my_files(session, giver=user, receiver=receiver, now=now)
    audit.record(
        session,
        AuditEventType.FILES_TRANSFERRED,
        organization_id=user.organization_id,
        client=client,
        actor=actor,
        target_user_id=user.id,
        target_email=user.email,
        receiver=receiver.email,
        folder=moved.folder if moved else None,
        files=moved.files if moved else 0,
        folders=moved.folders if moved else 0,
    )
