"""The provider console: organisations at a glance, their first administrators, suspension."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select

from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import NotFound, PermissionDenied
from sfs.domain.roles import Role
from sfs.i18n import N_
from sfs.metadata.db import Database
from sfs.metadata.file_models import Chunk
from sfs.metadata.models import Organization
from sfs.services.audit import AuditLog
from sfs.services.identity.invitations import InvitationService, InvitedUser
from sfs.services.organisations.organisations import OrganisationService, OrganisationView


@dataclass(frozen=True)
class OrganisationSummary:
    organisation: OrganisationView
    user_count: int
    # What the organisation's encrypted chunks take in the blob store (after deduplication).
    storage_used_bytes: int


class ProviderConsole:
    def __init__(
        self,
        database: Database,
        audit: AuditLog,
        organisations: OrganisationService,
        invitations: InvitationService,
    ) -> None:
        self._database = database
        self._audit = audit
        self._organisations = organisations
        self._invitations = invitations

    def overview(self, actor: Actor) -> list[OrganisationSummary]:
        _require_provider_admin(actor)
        rows = self._organisations.list_all(actor)
        with self._database.transaction() as session:
            stored = dict(
                session.execute(
                    select(Chunk.organization_id, func.sum(Chunk.length)).group_by(
                        Chunk.organization_id
                    )
                ).all()
            )
        return [
            OrganisationSummary(
                organisation=row,
                user_count=row.user_count,
                storage_used_bytes=int(stored.get(row.id) or 0),
            )
            for row in rows
        ]

    def suspend(
        self, actor: Actor, *, organization_id: uuid.UUID, client: ClientInfo
    ) -> OrganisationView:
        """Its users can no longer log in; their open sessions and tokens stop at the next use."""
        return self._set_status(actor, organization_id, "suspended", client)

    def reactivate(
        self, actor: Actor, *, organization_id: uuid.UUID, client: ClientInfo
    ) -> OrganisationView:
        return self._set_status(actor, organization_id, "active", client)

    def _set_status(
        self, actor: Actor, organization_id: uuid.UUID, status: str, client: ClientInfo
    ) -> OrganisationView:
        _require_provider_admin(actor)
        with self._database.transaction() as session:
            row = session.get(Organization, organization_id)
            if row is None:
                raise NotFound(N_("No such organisation."))
            if row.status != status:
                row.status = status
                self._audit.record(
                    session,
                    AuditEventType.ORGANISATION_SUSPENDED
                    if status == "suspended"
                    else AuditEventType.ORGANISATION_REACTIVATED,
                    organization_id=row.id,
                    client=client,
                    actor=actor,
                    name=row.name,
                )
            return OrganisationView.of(row)

    def invite_organisation_admin(
        self,
        actor: Actor,
        *,
        organization_id: uuid.UUID,
        email: str,
        display_name: str,
        client: ClientInfo,
    ) -> InvitedUser:
        """An organisation's first (or a further) Organization Admin, invited by email.

        The account stays `invited` and cannot log in until its single-use link (valid 7 days,
        only its SHA-256 digest stored) is used to choose a password.
        """
        _require_provider_admin(actor)
        return self._invitations.invite(
            actor,
            organization_id=organization_id,
            email=email,
            display_name=display_name,
            role=Role.ORG_ADMIN,
            client=client,
        )


def _require_provider_admin(actor: Actor) -> None:
    if not actor.is_provider_admin:
        raise PermissionDenied(N_("Only provider administrators may use the provider console."))
