"""Runs due jobs under a database lease, so that of N instances exactly one does each run.

Every instance ticks; a tick tries to take each due job's lease and runs the ones it got in a
worker thread, renewing the lease while the work goes on. Whoever holds a job, and how its
last run went, is in the `background_jobs` table (`sfs admin jobs`), the log and the metrics.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Sequence
from datetime import timedelta

import anyio.to_thread

from sfs.observability.metrics import Metrics
from sfs.services.jobs.leases import JobLeases
from sfs.tasks.jobs import Job

LEASE = timedelta(minutes=5)  # renewed every third of it while the job runs
TICK_SECONDS = 30.0

_log = logging.getLogger(__name__)


def instance_name() -> str:
    """Who holds a lease, as an operator reads it: host, process, and a random tail (a restarted
    process with the same pid is someone else)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class JobScheduler:
    def __init__(
        self,
        leases: JobLeases,
        jobs: Sequence[Job],
        metrics: Metrics,
        *,
        holder: str | None = None,
        lease: timedelta = LEASE,
    ) -> None:
        self._leases = leases
        self._jobs = list(jobs)
        self._metrics = metrics
        self.holder = holder or instance_name()
        self._lease = lease

    def run_due(self) -> list[str]:
        """One tick, synchronously: the names of the jobs this instance ran."""
        ran = []
        for job in self._jobs:
            if self._take(job):
                self._finish(job, *self._attempt(job))
                ran.append(job.name)
        return ran

    def _take(self, job: Job) -> bool:
        return self._leases.try_take(
            job.name, holder=self.holder, every=job.every, lease=self._lease
        )

    async def run_forever(self, tick_seconds: float = TICK_SECONDS) -> None:
        while True:
            for job in self._jobs:
                if await anyio.to_thread.run_sync(self._take, job):
                    await self._run_renewing(job)
            await asyncio.sleep(tick_seconds)

    async def _run_renewing(self, job: Job) -> None:
        work = asyncio.ensure_future(anyio.to_thread.run_sync(lambda: self._attempt(job)))
        while True:
            done, _ = await asyncio.wait({work}, timeout=self._lease.total_seconds() / 3)
            if done:
                break
            await anyio.to_thread.run_sync(
                lambda: self._leases.renew(job.name, holder=self.holder, lease=self._lease)
            )
        outcome, summary = work.result()
        await anyio.to_thread.run_sync(lambda: self._finish(job, outcome, summary))

    def _attempt(self, job: Job) -> tuple[str, str]:
        _log.info("Background job %s started on %s", job.name, self.holder)
        try:
            return "ok", job.run()
        except Exception as exc:  # a failed run is recorded and retried at its next turn
            _log.exception("Background job %s failed", job.name)
            return "failed", f"{type(exc).__name__}: {exc}"

    def _finish(self, job: Job, outcome: str, summary: str) -> None:
        self._metrics.job_runs.labels(job=job.name, outcome=outcome).inc()
        if outcome == "ok":
            self._metrics.job_last_success.labels(job=job.name).set_to_current_time()
        if self._leases.finish(job.name, holder=self.holder, outcome=outcome, summary=summary):
            _log.info("Background job %s: %s (%s)", job.name, outcome, summary)
        else:
            _log.warning("Background job %s outlived its lease; its run was not recorded", job.name)
