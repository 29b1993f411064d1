"""Operations on a user's credentials that several use cases share."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.orm import Session

from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.metadata.models import DeviceToken, EmailCode, User, WebSession
from sfs.services.audit import AuditLog


def sign_out_everywhere(
    session: Session, user_id: uuid.UUID, now: datetime, *, keep_session: str | None = None
) -> None:
    """End every browser session (but `keep_session`, an id hash) and revoke every device token."""
    sessions = delete(WebSession).where(WebSession.user_id == user_id)
    if keep_session is not None:
        sessions = sessions.where(WebSession.id_hash != keep_session)
    session.execute(sessions)
    session.execute(
        update(DeviceToken)
        .where(DeviceToken.user_id == user_id, DeviceToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_device_tokens(
    session: Session,
    audit: AuditLog,
    which: ColumnElement[bool],
    *,
    now: datetime,
    client: ClientInfo,
    actor: Actor | None,
    reason: str,
) -> int:
    """Revoke every working token `which` selects, each with an audit event saying why."""
    found = session.execute(
        select(DeviceToken, User.email)
        .join(User, User.id == DeviceToken.user_id)
        .where(which, DeviceToken.revoked_at.is_(None))
        .order_by(DeviceToken.created_at)
    ).all()
    for token, email in found:
        token.revoked_at = now
        audit.record(
            session,
            AuditEventType.DEVICE_TOKEN_REVOKED,
            organization_id=token.organization_id,
            client=client,
            actor=actor,
            target_user_id=token.user_id,
            target_email=email,
            device=token.name,
            token_id=str(token.id),
            reason=reason,
        )
    return len(found)


def clear_second_factor(session: Session, user: User, now: datetime) -> None:
    """Forget the user's second factor entirely; they enrol again at their next login.

    Whoever enrols next must first prove the mailbox with an emailed code: the password alone
    would let someone who knows it put their own authenticator on the account.
    """
    user.mailbox_proof_due = True
    user.second_factor_method = None
    user.second_factor_enrolled_at = None
    user.totp_secret_sealed = None
    user.totp_last_step = None
    user.backup_key_hash = None
    session.execute(
        update(EmailCode)
        .where(EmailCode.user_id == user.id, EmailCode.closed_at.is_(None))
        .values(closed_at=now)
    )
