"""What runs in the background, and how often: the work `sfs admin gc` does by hand, split
into jobs so that each runs on its own schedule, on one instance at a time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sfs.app import Services
from sfs.services.storage.maintenance import DEFAULT_GRACE, StorageMaintenance


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[], str]  # does the work; returns a one-line summary for `sfs admin jobs`


def standard_jobs(services: Services) -> list[Job]:
    def expire_login_flows() -> str:
        return f"dropped {services.login_flows.drop_expired()} expired sign-in request(s)"

    def expire_chunked_uploads() -> str:
        return f"dropped {services.upload_sessions.drop_idle()} idle chunked upload(s)"

    def drop_ended_sessions() -> str:
        return f"deleted {services.web_sessions.drop_long_ended()} long-ended browser session(s)"

    def apply_retention() -> str:
        return f"removed {services.retention.apply_everywhere()} version(s) past retention"

    def collect_garbage() -> str:
        maintenance = StorageMaintenance(
            services.database, services.chunk_store, services.keyring, services.clock
        )
        report = maintenance.collect_garbage(grace=DEFAULT_GRACE)
        return (
            f"deleted {report.chunks_deleted} chunk(s) and {report.packs_deleted} pack(s), "
            f"{report.chunk_bytes_deleted + report.pack_bytes_deleted} bytes"
        )

    return [
        Job("expire-login-flows", timedelta(minutes=15), expire_login_flows),
        Job("expire-chunked-uploads", timedelta(hours=1), expire_chunked_uploads),
        Job("drop-ended-sessions", timedelta(hours=24), drop_ended_sessions),
        Job("retention", timedelta(hours=6), apply_retention),
        # After retention, so the versions it pruned free their chunks the same night.
        Job("gc", timedelta(hours=24), collect_garbage),
    ]
