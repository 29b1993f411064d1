"""Outermost middleware: gives each request its id and counts it in the metrics.

The id is a trusted proxy's X-Request-ID when it looks sane, else a fresh one; it is set for
the logs and the audit log (sfs.observability.request_ids) and sent back in X-Request-ID.
Requests are counted by route template (`/api/v1/spaces/{space}/changes`), never by raw path,
so the number of series stays bounded whatever clients ask for.
"""

from __future__ import annotations

import ipaddress
import time

from prometheus_client import Counter, Histogram
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sfs.observability.metrics import Metrics
from sfs.observability.request_ids import begin_request, end_request
from sfs.web.dav.paths import is_dav_request

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) | {
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
    "REPORT",
    "SEARCH",
}


class TrustedProxies:
    """SFS_TRUSTED_PROXIES: addresses and networks, comma-separated; `*` trusts any peer."""

    def __init__(self, spec: str) -> None:
        parts = [part.strip() for part in spec.split(",") if part.strip()]
        self._any = "*" in parts
        self._networks = [ipaddress.ip_network(p, strict=False) for p in parts if p != "*"]

    def __contains__(self, address: str | None) -> bool:
        if address is None or not (self._any or self._networks):
            return False
        if self._any:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._networks)


class RequestObservation:
    def __init__(self, app: ASGIApp, *, metrics: Metrics, trusted_proxies: str) -> None:
        self.app = app
        self._metrics = metrics
        self._trusted = TrustedProxies(trusted_proxies)
        # The labelled series, looked up once each (as bounded as the labels themselves).
        self._series: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        peer = scope["client"][0] if scope.get("client") else None
        incoming = Headers(scope=scope).get("x-request-id") if peer in self._trusted else None
        request_id, token = begin_request(incoming)
        started = time.perf_counter()
        status = 500  # unless the app answers
        received = sent = 0

        async def receive_counting() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
            return message

        async def send_marked(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive_counting, send_marked)
        finally:
            route = route_label(scope)
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            metrics = self._metrics
            series = self._series.get((method, route, str(status)))
            if series is None:
                series = (
                    metrics.requests.labels(method=method, route=route, status=str(status)),
                    metrics.request_seconds.labels(method=method, route=route),
                )
                self._series[(method, route, str(status))] = series
            series[0].inc()
            series[1].observe(time.perf_counter() - started)
            if received:
                metrics.received_bytes.labels(route=route).inc(received)
            if sent:
                metrics.sent_bytes.labels(route=route).inc(sent)
            if status == 429:
                metrics.throttled.labels(route=route).inc()
            end_request(token)


def route_label(scope: Scope) -> str:
    if is_dav_request(scope["path"]):
        return "webdav"
    route = scope.get("route")
    template = getattr(route, "path", None)
    if not isinstance(template, str):
        return "unmatched"
    mounted_at = scope.get("root_path", "")
    return f"{mounted_at}{template}" if not template.startswith(mounted_at or "\0") else template
