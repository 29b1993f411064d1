"""Prometheus metrics of one process, in a registry of its own (two apps in one test process
count apart). Labels are bounded: routes by template, never by raw path."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)  # resident memory, CPU, open files
        registry = self.registry
        self.requests = Counter(
            "sfs_http_requests",
            "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self.request_seconds = Histogram(
            "sfs_http_request_duration_seconds",
            "Time to answer (long polls included), by method and route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.received_bytes = Counter(
            "sfs_http_received_bytes",
            "Request body bytes received (uploads), by route template",
            ["route"],
            registry=registry,
        )
        self.sent_bytes = Counter(
            "sfs_http_sent_bytes",
            "Response body bytes sent (downloads), by route template",
            ["route"],
            registry=registry,
        )
        self.throttled = Counter(
            "sfs_throttled_requests",
            "Requests refused with 429 (rate limits, upload slots), by route template",
            ["route"],
            registry=registry,
        )
        self.login_failures = Counter(
            "sfs_login_failures",
            "Failed sign-ins, by kind: password (or token), second_factor",
            ["kind"],
            registry=registry,
        )
        self.blob_errors = Counter(
            "sfs_blob_store_errors",
            "Blob store operations that failed (a missing blob is not counted), by operation",
            ["operation"],
            registry=registry,
        )
        self.job_runs = Counter(
            "sfs_background_job_runs",
            "Background job runs on this instance, by job and outcome",
            ["job", "outcome"],
            registry=registry,
        )
        self.job_last_success = Gauge(
            "sfs_background_job_last_success_timestamp_seconds",
            "When this instance last finished the job without error",
            ["job"],
            registry=registry,
        )

    def watch(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """A gauge read when scraped (long-poll waiters, pool connections in use)."""
        self.registry.register(_ReadOnScrape(name, documentation, read))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _ReadOnScrape(Collector):
    def __init__(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        self._name = name
        self._documentation = documentation
        self._read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(self._name, self._documentation, value=self._read())
