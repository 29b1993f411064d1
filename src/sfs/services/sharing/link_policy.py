"""An organisation's rules for share links, set by its administrator.

Checked when a link is made and again at every visit: a policy tightened later (links
forbidden, a password required, a shorter maximum expiry, no upload-only links) ends the
links it no longer allows at their next use, without touching their rows.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass

from sqlalchemy.orm import Session

from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import InvalidInput, PermissionDenied
from sfs.i18n import N_
from sfs.metadata.db import Database
from sfs.metadata.link_models import LinkPolicy
from sfs.services.audit import AuditLog
from sfs.services.sharing.share_grants import sharing_allowed

# Ten years: beyond that "expiry" means nothing.
MAX_EXPIRY_DAYS = 3650


@dataclass(frozen=True)
class LinkPolicyView:
    links_allowed: bool = True
    password_required: bool = False
    max_expiry_days: int | None = None
    default_expiry_days: int | None = None
    upload_only_allowed: bool = True


def load_policy(session: Session, organization_id: uuid.UUID) -> LinkPolicyView:
    row = session.get(LinkPolicy, organization_id)
    if row is None:
        return LinkPolicyView()
    return LinkPolicyView(
        links_allowed=row.links_allowed,
        password_required=row.password_required,
        max_expiry_days=row.max_expiry_days,
        default_expiry_days=row.default_expiry_days,
        upload_only_allowed=row.upload_only_allowed,
    )


def check_link_policy(policy: LinkPolicyView) -> LinkPolicyView:
    for field, days in (
        ("max_expiry_days", policy.max_expiry_days),
        ("default_expiry_days", policy.default_expiry_days),
    ):
        if days is not None and not 1 <= days <= MAX_EXPIRY_DAYS:
            raise InvalidInput(N_("Give a number of days from 1 to 3650."), field=field)
    if (
        policy.max_expiry_days is not None
        and policy.default_expiry_days is not None
        and policy.default_expiry_days > policy.max_expiry_days
    ):
        raise InvalidInput(
            N_("The default expiry cannot be longer than the maximum."),
            field="default_expiry_days",
        )
    return policy


class LinkPolicyService:
    def __init__(self, database: Database, audit: AuditLog) -> None:
        self._database = database
        self._audit = audit

    def policy(self, actor: Actor) -> LinkPolicyView:
        if actor.organization_id is None:
            raise PermissionDenied(N_("Provider administrators have no files to share."))
        with self._database.transaction() as session:
            return load_policy(session, actor.organization_id)

    def internal_sharing_allowed(self, actor: Actor) -> bool:
        """Whether the actor's organisation lets members share with colleagues (for clients
        that show or hide their sharing menus)."""
        if actor.organization_id is None:
            return False
        with self._database.transaction() as session:
            return sharing_allowed(session, actor.organization_id)

    def set_policy(
        self, actor: Actor, policy: LinkPolicyView, *, client: ClientInfo
    ) -> LinkPolicyView:
        if not actor.is_org_admin or actor.organization_id is None:
            raise PermissionDenied(N_("Only the organisation's administrators set link rules."))
        policy = check_link_policy(policy)
        with self._database.transaction() as session:
            row = session.get(LinkPolicy, actor.organization_id)
            if row is None:
                row = LinkPolicy(organization_id=actor.organization_id)
                session.add(row)
            for field, value in asdict(policy).items():
                setattr(row, field, value)
            self._audit.record(
                session,
                AuditEventType.LINK_POLICY_CHANGED,
                organization_id=actor.organization_id,
                client=client,
                actor=actor,
                **asdict(policy),
            )
        return policy
