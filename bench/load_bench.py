"""Load: 1,000 long-polling clients and 20 uploaders against 2 instances behind HAProxy, then 1.

    python -m bench.load_bench [--pollers 1000] [--uploaders 20] [--seconds 30]

Each configuration is a fresh cluster (tests/e2e/cluster.py: HAProxy round-robin, PostgreSQL,
moto_server S3, Redis; change notification `auto`, i.e. PostgreSQL LISTEN/NOTIFY). Clients are
asyncio tasks in this process (one HTTP connection each), all through the balancer:

- uploaders: each in its own account, a loop of small files (4 KiB) sent whole
  (`PUT /spaces/me/content`), one at a time: commits/s is what they get done together;
- pollers: `--watchers` of them long-poll each uploader's space (its other devices: they measure
  the wake-up latency, from an upload's request sent to the change arriving in the poll), the rest
  long-poll quiet spaces of other accounts (the idle majority of a real deployment);
- a lister lists an uploader's growing folder in a loop (`GET /spaces/me/children`): p50/p99.

At the end: each instance's resident memory (VmRSS, and the peak VmHWM), and the database
connections the instances hold (counted by their application_name in pg_stat_activity, sampled
each second, the peak reported). The 2-instance figures are given as ratios to the 1-instance
run of the same invocation, and the sizing they imply is printed. Everything shares this
machine's cores with the servers, the balancer, PostgreSQL and moto_server: the figures are a
floor for dedicated machines, the ratios are the finding.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import text
from tests.e2e.cluster import PASSWORD, POSTGRES_URL, Cluster

from sfs.client.sync.watch import LONG_POLL_SECONDS
from sfs.metadata.db import create_database_engine

SETTLE_SECONDS = 240.0  # the most the pollers get to be all connected before the measure
FILE_BYTES = 4096


@dataclass
class Figures:
    instances: int
    pollers: int = 0
    settled: int = 0  # pollers that had their first long poll answered or waiting at the start
    settle_seconds: float = 0.0
    commits: int = 0
    seconds: float = 0.0
    listings_ms: list[float] = field(default_factory=list)
    wakeups_ms: list[float] = field(default_factory=list)
    poll_errors: int = 0
    upload_errors: int = 0
    rss_mib: list[float] = field(default_factory=list)
    peak_rss_mib: list[float] = field(default_factory=list)
    peak_connections: int = 0

    @property
    def commits_per_second(self) -> float:
        return self.commits / self.seconds if self.seconds else 0.0


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def memory_mib(pid: int) -> tuple[float, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def log_in(instance_url: str, email: str, address: str) -> str:
    """Directly at an instance, as if from `address` (the instance trusts 127.0.0.1's
    X-Forwarded-For): the login throttle counts per address, as for real clients."""
    async with httpx.AsyncClient(base_url=instance_url, timeout=60) as client:
        answer = await client.post(
            "/api/v1/auth/login",
            json={"email": email, "password": PASSWORD, "device_name": "bench"},
            headers={"X-Forwarded-For": address},
        )
        answer.raise_for_status()
        return str(answer.json()["token"])


class Run:
    def __init__(self, cluster: Cluster, figures: Figures, application: str) -> None:
        self.cluster = cluster
        self.figures = figures
        self.application = application
        self.sent_at: dict[str, float] = {}
        self.measuring = False
        self.stopping = False
        self.answered = 0  # pollers whose first long poll has come back

    async def uploader(self, client: httpx.AsyncClient, token: str, number: int) -> None:
        auth = {"Authorization": f"Bearer {token}"}
        n = 0
        while not self.stopping:
            path = f"/up/{number}-{n}.bin"
            self.sent_at[path] = time.monotonic()
            try:
                answer = await client.put(
                    "/api/v1/spaces/me/content",
                    params={"path": path},
                    content=os.urandom(FILE_BYTES),
                    headers=auth,
                )
                ok = answer.status_code in (200, 201)
            except httpx.HTTPError:
                ok = False
            if ok and self.measuring:
                self.figures.commits += 1
            elif not ok:
                self.figures.upload_errors += 1
                await asyncio.sleep(0.2)
            n += 1

    async def poller(
        self, client: httpx.AsyncClient, token: str, cursor: int, measures: bool
    ) -> None:
        """A device of the account, idle but for its long poll (its first snapshot was taken
        once per account at setup: a real client's start is not what this measures)."""
        auth = {"Authorization": f"Bearer {token}"}
        first = True
        while not self.stopping:
            try:
                answer = await client.get(
                    "/api/v1/spaces/me/changes",
                    params={"cursor": cursor, "wait": LONG_POLL_SECONDS},
                    headers=auth,
                )
                answer.raise_for_status()
                page = answer.json()
            except httpx.HTTPError:
                self.figures.poll_errors += 1
                await asyncio.sleep(1)
                continue
            arrived = time.monotonic()
            if first:
                self.answered += 1
                first = False
            cursor = int(page["cursor"])
            if measures and self.measuring:
                for change in page["changes"]:
                    sent = self.sent_at.get(change["path"])
                    if sent is not None:
                        self.figures.wakeups_ms.append(1000 * (arrived - sent))

    async def lister(self, client: httpx.AsyncClient, token: str) -> None:
        auth = {"Authorization": f"Bearer {token}"}
        while not self.stopping:
            started = time.monotonic()
            try:
                answer = await client.get(
                    "/api/v1/spaces/me/children", params={"path": "/up"}, headers=auth
                )
                ok = answer.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok and self.measuring:
                self.figures.listings_ms.append(1000 * (time.monotonic() - started))
            await asyncio.sleep(0.05 if ok else 0.5)

    async def sample(self) -> None:
        engine = create_database_engine(POSTGRES_URL)
        query = text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name")
        try:
            while not self.stopping:
                with engine.connect() as connection:
                    count = int(connection.execute(query, {"name": self.application}).scalar_one())
                self.figures.peak_connections = max(self.figures.peak_connections, count)
                await asyncio.sleep(1)
        finally:
            engine.dispose()


async def measure(
    cluster: Cluster, figures: Figures, application: str, args: argparse.Namespace
) -> None:
    run = Run(cluster, figures, application)
    instance_url = cluster.instances[0].base_url
    emails = [f"up{n}@bench.example.com" for n in range(args.uploaders)]
    quiet = [f"quiet{n}@bench.example.com" for n in range(args.quiet_accounts)]
    tokens = {
        email: await log_in(instance_url, email, f"10.9.{n // 250}.{n % 250 + 1}")
        for n, email in enumerate(emails + quiet)
    }
    limits = httpx.Limits(max_connections=args.pollers + args.uploaders + 50)
    timeout = httpx.Timeout(LONG_POLL_SECONDS + 60)
    async with httpx.AsyncClient(
        base_url=cluster.base_url, limits=limits, timeout=timeout
    ) as client:
        for email in emails:  # each uploader's folder exists before the load starts
            await client.post(
                "/api/v1/spaces/me/folders",
                json={"path": "/up"},
                headers={"Authorization": f"Bearer {tokens[email]}"},
            )
        cursors = {}
        for email, token in tokens.items():
            snapshot = await client.get(
                "/api/v1/spaces/me/snapshot", headers={"Authorization": f"Bearer {token}"}
            )
            cursors[email] = int(snapshot.json()["cursor"])
        tasks = [asyncio.create_task(run.sample())]
        watchers = args.watchers * len(emails)
        ramp_started = time.monotonic()
        for n in range(args.pollers):
            measures = n < watchers
            owner = emails[n % len(emails)] if measures else quiet[n % len(quiet)]
            tasks.append(
                asyncio.create_task(run.poller(client, tokens[owner], cursors[owner], measures))
            )
            if n % 100 == 99:
                await asyncio.sleep(0.5)  # a ramp: clients do not all connect in one instant
        figures.pollers = args.pollers
        # Settled: every poll has reached its wait (a quiet one answers after LONG_POLL_SECONDS;
        # a bounded wait, reported, so an overloaded machine shows as such).
        settle_deadline = time.monotonic() + SETTLE_SECONDS
        while run.answered < args.pollers and time.monotonic() < settle_deadline:
            await asyncio.sleep(1)
        figures.settled = run.answered
        figures.settle_seconds = time.monotonic() - ramp_started
        tasks += [
            asyncio.create_task(run.uploader(client, tokens[email], n))
            for n, email in enumerate(emails)
        ]
        tasks.append(asyncio.create_task(run.lister(client, tokens[emails[0]])))
        await asyncio.sleep(2)
        run.measuring = True
        started = time.monotonic()
        await asyncio.sleep(args.seconds)
        run.measuring = False
        figures.seconds = time.monotonic() - started
        for instance in cluster.instances:
            rss, peak = memory_mib(instance.pid)
            figures.rss_mib.append(rss)
            figures.peak_rss_mib.append(peak)
        run.stopping = True
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def run_configuration(instances: int, args: argparse.Namespace, workdir: Path) -> Figures:
    application = f"sfs-bench-{uuid.uuid4().hex[:8]}"
    cluster = Cluster(
        workdir / f"cluster-{instances}",
        instances=instances,
        extra_environment={
            "SFS_UPLOADS_PER_ADDRESS": "100000",
            "SFS_LOG_FORMAT": "text",
        },
        application_name=application,
    )
    figures = Figures(instances)
    try:
        for n in range(args.uploaders):
            cluster.create_user(f"up{n}@bench.example.com")
        for n in range(args.quiet_accounts):
            cluster.create_user(f"quiet{n}@bench.example.com")
        asyncio.run(measure(cluster, figures, application, args))
    finally:
        cluster.close()
    return figures


def report(results: list[Figures]) -> None:
    print()
    print(
        f"{'instances':>9} {'pollers':>7} {'settled':>12} {'commits/s':>9} "
        f"{'list p50':>8} {'list p99':>8} "
        f"{'wake p50':>8} {'wake p99':>8} {'RSS/inst MiB':>13} {'peak MiB':>9} "
        f"{'db conns':>8} {'errors':>7}"
    )
    for f in results:
        print(
            f"{f.instances:>9} {f.pollers:>7} {f.settled:>5} in {f.settle_seconds:>3.0f}s "
            f"{f.commits_per_second:>9.1f} "
            f"{percentile(f.listings_ms, 0.5):>6.0f}ms {percentile(f.listings_ms, 0.99):>6.0f}ms "
            f"{percentile(f.wakeups_ms, 0.5):>6.0f}ms {percentile(f.wakeups_ms, 0.99):>6.0f}ms "
            f"{'/'.join(f'{r:.0f}' for r in f.rss_mib):>13} "
            f"{'/'.join(f'{r:.0f}' for r in f.peak_rss_mib):>9} "
            f"{f.peak_connections:>8} {f.poll_errors + f.upload_errors:>7}"
        )
    by_count = {f.instances: f for f in results}
    one, two = by_count.get(1), by_count.get(2)
    if one and two and one.commits_per_second:
        print()
        commits = two.commits_per_second / one.commits_per_second
        listing = percentile(two.listings_ms, 0.99) / percentile(one.listings_ms, 0.99)
        wakeup = percentile(two.wakeups_ms, 0.99) / percentile(one.wakeups_ms, 0.99)
        print(
            f"2 instances against 1 (baseline, same run): commits/s x{commits:.2f}, "
            f"listing p99 x{listing:.2f}, wake-up p99 x{wakeup:.2f}"
        )
    if one:
        per_poll_kib = 1024 * statistics.mean(one.rss_mib) / max(one.pollers, 1)
        print(
            f"Sizing: one instance held {one.pollers} long polls at {one.rss_mib[0]:.0f} MiB "
            f"(at most {per_poll_kib:.0f} KiB per connected client, interpreter included) and "
            f"{one.peak_connections} database connection(s); "
            f"{one.commits_per_second:.0f} small-file commits/s on this 2-core machine."
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pollers", type=int, default=1000)
    parser.add_argument("--uploaders", type=int, default=20)
    parser.add_argument("--watchers", type=int, default=5, help="pollers per uploader's space")
    parser.add_argument("--quiet-accounts", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30.0, help="the measured window")
    parser.add_argument("--instances", default="2,1", help="configurations, in order")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="sfs-load-") as workdir:
        for count in [int(c) for c in args.instances.split(",")]:
            print(f"-- {count} instance(s): {args.pollers} pollers, {args.uploaders} uploaders")
            results.append(run_configuration(count, args, Path(workdir)))
            report(results)


if __name__ == "__main__":
    main()
