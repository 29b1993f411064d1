"""The integer ids the Nextcloud clients know links and shares by (their share dialogs parse a
share id as a 32-bit integer; ours are UUIDs). A number is given the first time the OCS door
shows a link or share and is never reused. It only names: whether the caller may reach what it
names is the link and share services' answer, exactly as for the UUID."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Table, select

from sfs.domain.actor import Actor
from sfs.metadata.db import Database
from sfs.metadata.nextcloud_models import OcsShareNumber
from sfs.services.files.bulk_rows import insert_rows

# The Android app's parser: Integer.parseInt. Past this, numbers would break it.
MAX_NUMBER = 2**31 - 1


@dataclass(frozen=True)
class Named:
    kind: Literal["link", "share"]
    id: uuid.UUID


class ShareNumbers:
    def __init__(self, database: Database) -> None:
        self._database = database

    def numbers(
        self,
        actor: Actor,
        *,
        links: Collection[uuid.UUID] = (),
        shares: Collection[uuid.UUID] = (),
    ) -> dict[uuid.UUID, int]:
        """The number of each link and share (ones the actor was shown by the sharing
        services, so of their organisation), given now to those that have none yet."""
        if not links and not shares:
            return {}
        organization_id = actor.organization_id
        with self._database.transaction() as session:
            table = OcsShareNumber.__table__
            assert isinstance(table, Table)
            for column, ids in (("link_id", links), ("share_id", shares)):
                # Two requests showing the same new share at once: one number, the other skips.
                insert_rows(
                    session,
                    table,
                    {"organization_id": organization_id},
                    {column: list(set(ids))},
                    conflict=[column],
                )
            rows = session.execute(
                select(
                    OcsShareNumber.number, OcsShareNumber.link_id, OcsShareNumber.share_id
                ).where(
                    OcsShareNumber.organization_id == organization_id,
                    OcsShareNumber.link_id.in_(list(links))
                    | OcsShareNumber.share_id.in_(list(shares)),
                )
            ).all()
        found: dict[uuid.UUID, int] = {}
        for number, link_id, share_id in rows:
            named = link_id if link_id is not None else share_id
            assert named is not None  # the table's check: one or the other
            found[named] = number
        return found

    def named(self, actor: Actor, number: int) -> Named | None:
        """What `number` names in the actor's organisation, if it was ever given there (and
        what it named still exists)."""
        if not 0 < number <= MAX_NUMBER:
            return None
        with self._database.transaction() as session:
            row = session.get(OcsShareNumber, number)
            if row is None or row.organization_id != actor.organization_id:
                return None
            if row.link_id is not None:
                return Named("link", row.link_id)
            assert row.share_id is not None
            return Named("share", row.share_id)
