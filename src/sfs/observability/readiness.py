"""Whether this instance can serve: the database answers at a schema it understands, the blob
store answers, and the process is not draining. Each check says only ok or what failed; the
reason (which may name hosts or credentials) goes to the log, never to the answer."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from sfs.blobs.backend import BlobBackend
from sfs.metadata import migrate
from sfs.metadata.db import Database

PROBE_BLOB = "readiness-probe"

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, str]  # check → "ok" or what is wrong

    @property
    def ready(self) -> bool:
        return all(outcome == "ok" for outcome in self.checks.values())


def check_readiness(database: Database, backend: BlobBackend, *, draining: bool) -> Readiness:
    checks = {"database": "ok", "migrations": "ok", "blob_store": "ok"}
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        state = migrate.schema_state(database.engine)
        if state not in ("current", "newer"):
            checks["migrations"] = state  # behind or empty: run `sfs db upgrade`
    except Exception as exc:
        _log.warning("Readiness: the database does not answer: %s", exc)
        checks["database"] = "unreachable"
        checks["migrations"] = "unknown"
    try:
        backend.exists(PROBE_BLOB)
        # A local store answers "no such blob" even when its folder is gone (an unmounted
        # share): that folder must be there.
        root = getattr(getattr(backend, "inner", backend), "root", None)
        if isinstance(root, Path) and not root.is_dir():
            raise FileNotFoundError(f"the blob folder {root} is missing")
    except Exception as exc:
        _log.warning("Readiness: the blob store does not answer: %s", exc)
        checks["blob_store"] = "unreachable"
    if draining:
        checks["draining"] = "stopping"
    return Readiness(checks)
