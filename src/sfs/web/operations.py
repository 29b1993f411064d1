"""For the operator and the load balancer: /healthz (the process answers), /readyz (it can
serve: database, schema, blob store, not draining) and /metrics (Prometheus).

/metrics is off unless SFS_METRICS_TOKEN is set, and then wants `Authorization: Bearer TOKEN`:
per-route counts and timings tell an outsider too much to be public, and a token works the same
behind any load balancer (each instance is scraped at its own address).
"""

from __future__ import annotations

import hmac

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from sfs.app import Services
from sfs.observability.readiness import check_readiness

router = APIRouter(include_in_schema=False)

_NO_STORE = {"Cache-Control": "no-store"}


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


@router.get("/healthz")
async def healthz() -> Response:
    """Alive: answered by the event loop without touching the database."""
    return PlainTextResponse("ok\n", headers=_NO_STORE)


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    services = _services(request)
    readiness = await anyio.to_thread.run_sync(
        lambda: check_readiness(
            services.database,
            services.chunk_store.backend,
            draining=services.change_signal.draining,
        )
    )
    return JSONResponse(
        {"ready": readiness.ready, "checks": readiness.checks},
        status_code=200 if readiness.ready else 503,
        headers=_NO_STORE,
    )


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    services = _services(request)
    token = services.settings.metrics_token
    if not token:
        return PlainTextResponse("Not Found\n", status_code=404)
    offered = request.headers.get("authorization", "")
    if not hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        return PlainTextResponse(
            "A metrics token is needed.\n",
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    body = await anyio.to_thread.run_sync(services.metrics.exposition)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers=_NO_STORE)
