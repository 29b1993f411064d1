"""`sfs admin jobs`: the background jobs every instance shares, who runs one now, and how
each last went."""

from __future__ import annotations

from datetime import datetime

import click

from sfs.cli.common import admin_services, domain_errors


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "never"


@click.command("jobs")
def jobs() -> None:
    """List the background jobs: last run, its outcome, and the instance holding one now."""
    from sfs.tasks.jobs import standard_jobs

    with admin_services() as services, domain_errors():
        states = {state.name: state for state in services.job_leases.states()}
        schedule = standard_jobs(services)
        now = services.clock.now()
    for job in schedule:
        state = states.get(job.name)
        hours = job.every.total_seconds() / 3600
        click.echo(f"{job.name}  (every {hours:g} h)")
        if state is None or state.last_finished_at is None:
            click.echo("  last run: never")
        else:
            click.echo(
                f"  last run: {_when(state.last_finished_at)} UTC on {state.last_holder}: "
                f"{state.last_outcome} ({state.last_summary}); {state.runs} run(s) in all"
            )
        if state is not None and state.holder and state.lease_until and state.lease_until > now:
            click.echo(f"  running now on {state.holder} (lease until {_when(state.lease_until)})")
