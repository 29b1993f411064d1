"""A file version's manifest as a delta against a version the caller holds already.

A second device that holds the previous version of a big file learns the new one as runs of
the old chunk list plus the new chunks (see `sfs.protocol.manifest_delta`), not as the whole
list again. The base may be any version of any file the caller may read in the same space (a
copy, a renamed file); one of another space, another organisation, or outside a share is not
found, with the same answer as a file that does not exist.
"""

from __future__ import annotations

import uuid

from sfs.domain.actor import Actor
from sfs.domain.errors import NotFound, SfsError
from sfs.domain.validation import check_version_number
from sfs.i18n import N_
from sfs.metadata.db import Database
from sfs.protocol.manifest_delta import ManifestDelta, diff
from sfs.services.files.bulk_manifests import manifests_of
from sfs.services.files.spaces import visible_space


class ManifestDeltaService:
    def __init__(self, database: Database) -> None:
        self._database = database

    def manifest_delta(
        self,
        actor: Actor,
        *,
        space_id: uuid.UUID,
        node_id: uuid.UUID,
        number: int | None,
        base_node_id: uuid.UUID,
        base_number: int,
    ) -> ManifestDelta:
        """Version `number` (None: the current one) of file `node_id`, told against version
        `base_number` of file `base_node_id`; NotFound when either is not the caller's to
        read in this space."""
        if number is not None:
            check_version_number(number, field="version")
        check_version_number(base_number, field="base_version")
        with self._database.transaction() as session:
            space = visible_space(session, actor, space_id)
            wanted, base = manifests_of(
                session, space, [(node_id, number), (base_node_id, base_number)]
            )
        if isinstance(wanted, SfsError):
            raise wanted
        if isinstance(base, SfsError):
            raise NotFound(
                N_(
                    "No such version %(number)s of %(node_id)s here to tell a change against.",
                    number=base_number,
                    node_id=base_node_id,
                )
            )
        return ManifestDelta(
            version=wanted.version,
            size=wanted.size,
            modified_at=wanted.modified_at,
            digest=wanted.content_digest,
            base_count=len(base.chunks),
            count=len(wanted.chunks),
            operations=diff([chunk for chunk, _ in base.chunks], wanted.chunks),
        )
