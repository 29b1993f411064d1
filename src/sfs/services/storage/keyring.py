"""Each organisation's keys: created on first use, stored wrapped by the master key."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from sfs.crypto.keys import KeyUnwrapError, OrganisationKeys, rewrap
from sfs.crypto.master_key import MasterKeyError
from sfs.metadata.db import Database
from sfs.metadata.file_models import OrganizationKeys
from sfs.ports import Clock, Randomness


class Keyring:
    def __init__(
        self, database: Database, clock: Clock, randomness: Randomness, master_key: bytes
    ) -> None:
        self._database = database
        self._clock = clock
        self._randomness = randomness
        self._master_key = master_key
        # Unwrapped keys are cached per process: they never change once created.
        self._cache: dict[uuid.UUID, OrganisationKeys] = {}
        self._lock = threading.Lock()

    def keys_for(self, organization_id: uuid.UUID) -> OrganisationKeys:
        with self._lock:
            cached = self._cache.get(organization_id)
        if cached is not None:
            return cached
        keys = self._load(organization_id) or self._create(organization_id)
        with self._lock:
            self._cache[organization_id] = keys
        return keys

    def check_master_key(self) -> None:
        """MasterKeyError when this process's master key does not open the keys already in the
        database: an instance started with another instance's data folder but not its key
        (every instance must share SFS_MASTER_KEY_FILE) would otherwise fail at each file."""
        with self._database.transaction() as session:
            row = session.scalars(select(OrganizationKeys).limit(1)).first()
            sample = (row.organization_id, row.wrapped) if row else None
        if sample is None:
            return
        try:
            OrganisationKeys.unwrap(self._master_key, sample[1], sample[0])
        except KeyUnwrapError:
            raise MasterKeyError(
                "The master key (SFS_MASTER_KEY_FILE) does not open the organisation keys in "
                "this database: every instance must use the same master key file."
            ) from None

    def _load(self, organization_id: uuid.UUID) -> OrganisationKeys | None:
        with self._database.transaction() as session:
            row = session.get(OrganizationKeys, organization_id)
            wrapped = row.wrapped if row else None
        if wrapped is None:
            return None
        return OrganisationKeys.unwrap(self._master_key, wrapped, organization_id)

    def _create(self, organization_id: uuid.UUID) -> OrganisationKeys:
        keys = OrganisationKeys.generate(self._randomness)
        try:
            with self._database.transaction() as session:
                session.add(
                    OrganizationKeys(
                        organization_id=organization_id,
                        wrapped=keys.wrap(self._master_key, organization_id),
                        created_at=self._clock.now(),
                    )
                )
        except IntegrityError:
            # Another instance created them first: theirs are the keys.
            loaded = self._load(organization_id)
            assert loaded is not None
            return loaded
        return keys


def rewrap_all(
    database: Database, old_master_key: bytes, new_master_key: bytes, now: datetime
) -> int:
    """Re-wrap every organisation's keys under a new master key, in one transaction."""
    with database.transaction() as session:
        rows = list(session.scalars(select(OrganizationKeys)))
        for row in rows:
            row.wrapped = rewrap(old_master_key, new_master_key, row.wrapped, row.organization_id)
            row.rewrapped_at = now
        return len(rows)
