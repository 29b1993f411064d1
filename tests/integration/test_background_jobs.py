"""Background jobs run once across instances: a database lease decides which instance runs a
due job; a holder that dies lets its lease lapse; `sfs admin jobs` shows how each last went."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from click.testing import CliRunner

from sfs.app import Services
from sfs.cli.main import main
from sfs.domain.errors import NotAuthenticated
from sfs.metadata.db import Database
from sfs.observability.metrics import Metrics
from sfs.services.jobs.leases import JobLeases
from sfs.tasks.jobs import Job, standard_jobs
from sfs.tasks.scheduler import JobScheduler
from tests.support import FakeClock
from tests.world import CLIENT, actor, make_tenant

HOUR = timedelta(hours=1)
LEASE = timedelta(minutes=5)


@pytest.fixture
def contenders(services: Services, clock: FakeClock) -> Iterator[tuple[JobLeases, JobLeases]]:
    """Two instances' view of the leases: two engines over one database, one clock."""
    other = Database.from_url(services.settings.database_url)
    yield JobLeases(services.database, clock), JobLeases(other, clock)
    other.dispose()


def take(leases: JobLeases, holder: str) -> bool:
    return leases.try_take("gc", holder=holder, every=HOUR, lease=LEASE)


def test_of_two_contenders_one_takes_the_job_and_the_other_waits_its_turn(
    contenders: tuple[JobLeases, JobLeases], clock: FakeClock
) -> None:
    one, two = contenders
    assert take(one, "one")
    assert not take(two, "two")  # held
    assert one.finish("gc", holder="one", outcome="ok", summary="deleted 3 chunk(s)")
    assert not take(two, "two")  # free, but not due: it ran just now
    clock.advance(minutes=59)
    assert not take(two, "two")
    clock.advance(minutes=1)
    assert take(two, "two")
    assert not take(one, "one")


def test_a_crashed_holder_lets_the_lease_lapse_and_its_late_finish_records_nothing(
    contenders: tuple[JobLeases, JobLeases], clock: FakeClock
) -> None:
    one, two = contenders
    assert take(one, "one")  # ... and "one" dies without finishing
    clock.advance(minutes=4, seconds=59)
    assert not take(two, "two")
    clock.advance(seconds=1)
    assert take(two, "two")
    assert not one.finish("gc", holder="one", outcome="ok", summary="too late")
    assert two.finish("gc", holder="two", outcome="ok", summary="done")
    [state] = two.states()
    assert (state.last_holder, state.last_summary, state.runs) == ("two", "done", 1)
    assert state.holder is None and state.lease_until is None


def test_a_renewed_lease_is_not_taken_over(
    contenders: tuple[JobLeases, JobLeases], clock: FakeClock
) -> None:
    one, two = contenders
    assert take(one, "one")
    clock.advance(minutes=4)
    assert one.renew("gc", holder="one", lease=LEASE)
    clock.advance(minutes=4)
    assert not take(two, "two")
    assert not two.renew("gc", holder="two", lease=LEASE)


def test_schedulers_on_two_instances_run_each_due_job_once(
    contenders: tuple[JobLeases, JobLeases], clock: FakeClock
) -> None:
    ran: list[str] = []

    def tidy() -> str:
        ran.append("tidy")
        return "tidied 2"

    def failing() -> str:
        raise OSError("the blob store is away")

    jobs = [
        Job("tidy", HOUR, tidy),
        Job("broken", HOUR, failing),
    ]
    metrics = Metrics()
    one = JobScheduler(contenders[0], jobs, metrics, holder="one")
    two = JobScheduler(contenders[1], jobs, metrics, holder="two")
    assert one.run_due() == ["tidy", "broken"]
    assert two.run_due() == []
    assert ran == ["tidy"]
    clock.advance(hours=1)
    assert two.run_due() == ["tidy", "broken"]
    assert one.run_due() == []
    states = {state.name: state for state in contenders[0].states()}
    assert (states["tidy"].last_outcome, states["tidy"].last_holder) == ("ok", "two")
    assert states["broken"].last_outcome == "failed"
    assert states["broken"].last_summary == "OSError: the blob store is away"
    sample = metrics.registry.get_sample_value
    runs = sample("sfs_background_job_runs_total", {"job": "tidy", "outcome": "ok"})
    failures = sample("sfs_background_job_runs_total", {"job": "broken", "outcome": "failed"})
    assert (runs, failures) == (2, 2)


def test_admin_jobs_lists_the_last_run_and_the_holder(
    services: Services, contenders: tuple[JobLeases, JobLeases]
) -> None:
    one, _ = contenders
    assert one.try_take("retention", holder="web-1:42", every=HOUR, lease=timedelta(days=3650))
    assert take(one, "web-2:7")
    assert one.finish("gc", holder="web-2:7", outcome="ok", summary="deleted 3 chunk(s)")
    environment = {
        "SFS_DATA_DIR": str(services.settings.data_dir),
        "SFS_DATABASE_URL": services.settings.database_url,
    }
    result = CliRunner().invoke(main, ["admin", "jobs"], env=environment)
    assert result.exit_code == 0, result.output
    gc = result.output.split("gc  (every 24 h)")[1]
    assert "on web-2:7: ok (deleted 3 chunk(s)); 1 run(s) in all" in gc
    retention = result.output.split("retention  (every 6 h)")[1].split("gc  (")[0]
    assert "last run: never" in retention and "running now on web-1:42" in retention
    assert "expire-login-flows  (every 0.25 h)" in result.output


def test_the_standard_jobs_run_on_a_real_store_and_sweep_long_ended_sessions(
    services: Services, clock: FakeClock
) -> None:
    user = actor(services, make_tenant(services, "Acme").user)
    old = services.web_sessions.start(user, client=CLIENT)
    clock.advance(days=31)
    fresh = services.web_sessions.start(user, client=CLIENT)
    scheduler = JobScheduler(services.job_leases, standard_jobs(services), services.metrics)
    assert scheduler.run_due() == [
        "expire-login-flows",
        "expire-chunked-uploads",
        "drop-ended-sessions",
        "retention",
        "gc",
    ]
    states = {state.name: state for state in services.job_leases.states()}
    assert {state.last_outcome for state in states.values()} == {"ok"}
    assert states["drop-ended-sessions"].last_summary == "deleted 1 long-ended browser session(s)"
    with pytest.raises(NotAuthenticated):
        services.web_sessions.resolve(old.cookie_value, client=CLIENT)
    assert services.web_sessions.resolve(fresh.cookie_value, client=CLIENT).actor == user
    assert scheduler.run_due() == []  # none is due again yet
