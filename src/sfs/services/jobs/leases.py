"""Job leases in the database: of all instances, one runs a due job; the others skip it.

A lease is taken by one conditional UPDATE (free or lapsed, and due), which the database
serialises, so two instances never both see "taken by me". A holder that dies simply lets its
lease lapse at `lease_until`, after which any instance may take the job again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from sfs.metadata.db import Database
from sfs.metadata.job_models import BackgroundJob
from sfs.ports import Clock

MAX_SUMMARY = 500


@dataclass(frozen=True)
class JobState:
    name: str
    holder: str | None
    lease_until: datetime | None
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_holder: str | None
    last_outcome: str | None
    last_summary: str | None
    runs: int


class JobLeases:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    def try_take(self, name: str, *, holder: str, every: timedelta, lease: timedelta) -> bool:
        """Take the job for `lease` if it is due (last finished `every` ago, or never) and
        nobody holds it; False when it is not due or another instance holds it."""
        self._ensure_row(name)
        now = self._clock.now()
        with self._database.transaction() as session:
            taken = session.execute(
                update(BackgroundJob)
                .where(
                    BackgroundJob.name == name,
                    or_(BackgroundJob.lease_until.is_(None), BackgroundJob.lease_until <= now),
                    or_(
                        BackgroundJob.last_finished_at.is_(None),
                        BackgroundJob.last_finished_at <= now - every,
                    ),
                )
                .values(holder=holder, lease_until=now + lease, last_started_at=now)
                .execution_options(synchronize_session=False)
            )
            return bool(taken.rowcount == 1)  # type: ignore[attr-defined]

    def renew(self, name: str, *, holder: str, lease: timedelta) -> bool:
        """Extend a lease still held; False when it lapsed and someone else took it."""
        with self._database.transaction() as session:
            renewed = session.execute(
                update(BackgroundJob)
                .where(BackgroundJob.name == name, BackgroundJob.holder == holder)
                .values(lease_until=self._clock.now() + lease)
                .execution_options(synchronize_session=False)
            )
            return bool(renewed.rowcount == 1)  # type: ignore[attr-defined]

    def finish(self, name: str, *, holder: str, outcome: str, summary: str) -> bool:
        """Record the run and free the job; False (nothing recorded) when the lease was lost."""
        with self._database.transaction() as session:
            finished = session.execute(
                update(BackgroundJob)
                .where(BackgroundJob.name == name, BackgroundJob.holder == holder)
                .values(
                    holder=None,
                    lease_until=None,
                    last_finished_at=self._clock.now(),
                    last_holder=holder,
                    last_outcome=outcome,
                    last_summary=summary[:MAX_SUMMARY],
                    runs=BackgroundJob.runs + 1,
                )
                .execution_options(synchronize_session=False)
            )
            return bool(finished.rowcount == 1)  # type: ignore[attr-defined]

    def states(self) -> list[JobState]:
        with self._database.transaction() as session:
            rows = session.scalars(select(BackgroundJob).order_by(BackgroundJob.name)).all()
            return [
                JobState(
                    name=row.name,
                    holder=row.holder,
                    lease_until=row.lease_until,
                    last_started_at=row.last_started_at,
                    last_finished_at=row.last_finished_at,
                    last_holder=row.last_holder,
                    last_outcome=row.last_outcome,
                    last_summary=row.last_summary,
                    runs=row.runs,
                )
                for row in rows
            ]

    def _ensure_row(self, name: str) -> None:
        with self._database.transaction() as session:
            if session.get(BackgroundJob, name) is not None:
                return
        try:
            with self._database.transaction() as session:
                session.add(BackgroundJob(name=name, runs=0))
        except IntegrityError:
            pass  # another instance added it at the same moment: just as good
