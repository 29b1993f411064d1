"""What runs beside the requests for as long as the app does: the listener for other
instances' change broadcasts, and (in `sfs serve`) the background job scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from starlette.types import ASGIApp

from sfs.app import Services
from sfs.tasks.jobs import standard_jobs
from sfs.tasks.scheduler import JobScheduler

RESTART_SECONDS = 5.0

_log = logging.getLogger(__name__)


def lifespan_for(
    services: Services, *, background_jobs: bool
) -> Callable[[ASGIApp], contextlib.AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_app: ASGIApp) -> AsyncIterator[None]:
        deliver = services.change_signal.deliver
        tasks = [
            asyncio.create_task(
                _kept_running("change broadcast", lambda: services.broadcast.listen(deliver)),
                name="sfs-change-broadcast",
            )
        ]
        if background_jobs:
            scheduler = JobScheduler(services.job_leases, standard_jobs(services), services.metrics)
            _log.info("Background jobs run here when due, as %s", scheduler.holder)
            tasks.append(
                asyncio.create_task(
                    _kept_running("job scheduler", scheduler.run_forever), name="sfs-jobs"
                )
            )
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    return lifespan


async def _kept_running(what: str, run: Callable[[], Awaitable[None]]) -> None:
    """Run `run` until cancelled; an unexpected failure is logged and it starts again."""
    while True:
        try:
            await run()
        except asyncio.CancelledError:
            raise
        except Exception:
            _log.exception("The %s stopped unexpectedly; starting it again", what)
        await asyncio.sleep(RESTART_SECONDS)
