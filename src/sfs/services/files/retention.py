"""Version retention and storage quotas an organisation sets: how much history is kept, and how
many bytes an organisation or a user may hold.

Pruned versions only drop references; their chunks go when `sfs admin gc` finds them unused.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import InvalidInput, PermissionDenied
from sfs.i18n import N_
from sfs.metadata.db import Database
from sfs.metadata.file_models import Node, Version
from sfs.metadata.models import Organization, User
from sfs.ports import Clock
from sfs.services.audit import AuditLog
from sfs.services.identity.accounts import visible_user
from sfs.services.organisations.organisations import visible_organisation

MAX_KEEP_VERSIONS = 100_000
MAX_KEEP_DAYS = 100 * 365


def prune_versions(session: Session, node: Node, organisation: Organization, now: datetime) -> int:
    """Drop the node's versions beyond the policy's count or age; never the current one."""
    keep_versions, keep_days = organisation.keep_versions, organisation.keep_days
    if keep_versions is None and keep_days is None:
        return 0
    rows = session.execute(
        select(Version.id, Version.created_at)
        .where(Version.node_id == node.id)
        .order_by(Version.number.desc())
    ).all()
    cutoff = now - timedelta(days=keep_days) if keep_days is not None else None
    doomed = [
        version_id
        for position, (version_id, created_at) in enumerate(rows)
        if version_id != node.current_version_id
        and (
            (keep_versions is not None and position >= keep_versions)
            or (cutoff is not None and created_at < cutoff)
        )
    ]
    if doomed:
        session.execute(delete(Version).where(Version.id.in_(doomed)))
    return len(doomed)


class RetentionService:
    def __init__(self, database: Database, audit: AuditLog, clock: Clock) -> None:
        self._database = database
        self._audit = audit
        self._clock = clock

    def set_retention(
        self,
        actor: Actor,
        *,
        organization_id: uuid.UUID,
        keep_versions: int | None,
        keep_days: int | None,
        client: ClientInfo,
    ) -> None:
        if keep_versions is not None and not 1 <= keep_versions <= MAX_KEEP_VERSIONS:
            raise InvalidInput(
                N_(
                    "Keep 1 to %(MAX_KEEP_VERSIONS)s versions, or no limit.",
                    MAX_KEEP_VERSIONS=MAX_KEEP_VERSIONS,
                ),
                field="keep_versions",
            )
        if keep_days is not None and not 1 <= keep_days <= MAX_KEEP_DAYS:
            raise InvalidInput(
                N_("Keep 1 to %(MAX_KEEP_DAYS)s days, or no limit.", MAX_KEEP_DAYS=MAX_KEEP_DAYS),
                field="keep_days",
            )
        with self._database.transaction() as session:
            row = visible_organisation(session, actor, organization_id)
            if not (actor.is_provider_admin or actor.is_org_admin):
                raise PermissionDenied(N_("Only administrators may change the retention."))
            old = (row.keep_versions, row.keep_days)
            row.keep_versions, row.keep_days = keep_versions, keep_days
            self._audit.record(
                session,
                AuditEventType.ORGANISATION_POLICY_CHANGED,
                organization_id=row.id,
                client=client,
                actor=actor,
                setting="retention",
                old={"keep_versions": old[0], "keep_days": old[1]},
                new={"keep_versions": keep_versions, "keep_days": keep_days},
            )

    def set_quota(
        self,
        actor: Actor,
        *,
        organization_id: uuid.UUID,
        quota_bytes: int | None,
        client: ClientInfo,
        user_id: uuid.UUID | None = None,
    ) -> None:
        """The organisation's quota, or (with `user_id`) one of its users'; None: no limit."""
        if quota_bytes is not None and quota_bytes < 0:
            raise InvalidInput(N_("A quota is 0 bytes or more, or no limit."), field="quota")
        with self._database.transaction() as session:
            organisation = visible_organisation(session, actor, organization_id)
            if not actor.is_provider_admin:
                raise PermissionDenied(N_("Only provider administrators set quotas."))
            target: Organization | User = organisation
            if user_id is not None:
                user = visible_user(session, actor, user_id)
                if user.organization_id != organisation.id:
                    raise InvalidInput(
                        N_("That account is not in this organisation."), field="user"
                    )
                target = user
            old = target.quota_bytes
            target.quota_bytes = quota_bytes
            self._audit.record(
                session,
                AuditEventType.ORGANISATION_POLICY_CHANGED,
                organization_id=organisation.id,
                client=client,
                actor=actor,
                target_user_id=user_id,
                setting="quota_bytes",
                old=old,
                new=quota_bytes,
            )

    def apply_everywhere(self) -> int:
        """Prune every file under a retention policy (the age limit moves with time)."""
        now = self._clock.now()
        pruned = 0
        with self._database.transaction() as session:
            limited = session.scalars(
                select(Organization).where(
                    (Organization.keep_versions.is_not(None))
                    | (Organization.keep_days.is_not(None))
                )
            ).all()
            for organisation in limited:
                nodes = session.scalars(
                    select(Node).where(Node.organization_id == organisation.id, Node.kind == "file")
                )
                for node in nodes:
                    pruned += prune_versions(session, node, organisation, now)
        return pruned
