"""`sfs serve`'s HTTP server: uvicorn, with a drain on SIGTERM.

On SIGTERM (or Ctrl-C) the server stops accepting connections, every long poll answers at once
with "nothing new" (the client asks again, elsewhere), requests still running (uploads) get
SFS_DRAIN_SECONDS to finish, background work stops, and the process exits 0.
"""

from __future__ import annotations

import gc
import logging
import signal
import socket
from types import FrameType

import uvicorn
from fastapi import FastAPI

from sfs.app import Services
from sfs.observability.logs import logging_config
from sfs.web.http_parser import FragmentRefusingProtocol

_log = logging.getLogger(__name__)


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, services: Services) -> None:
        super().__init__(config)
        self._services = services

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not self.should_exit:
            _log.info(
                "Draining (signal %s): long polls answered now, running requests get %ss",
                signal.Signals(sig).name,
                self.config.timeout_graceful_shutdown,
            )
            self._services.change_signal.drain()
        super().handle_exit(sig, frame)


def serve(app: FastAPI, services: Services, sockets: list[socket.socket] | None = None) -> None:
    """Serve until a signal has drained the server; on `sockets` if given (a worker's), else
    on SFS_HOST:SFS_PORT."""
    settings = services.settings
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        proxy_headers=False,  # the app applies SFS_TRUSTED_PROXIES itself (web/server.py)
        log_config=logging_config(settings.log_format),
        server_header=False,
        timeout_graceful_shutdown=int(settings.drain_seconds),
        http=FragmentRefusingProtocol,
    )
    server = DrainingServer(config, services)
    # uvicorn sends itself the signal again once it has shut down, to end the way the signal
    # would have; with the default handlers that is status 143 for a drain that went well.
    # Handlers that do nothing make that re-raise harmless, and the drain ends with 0.
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, lambda _sig, _frame: None)
    # What is built by now (modules, the app, the services) lives as long as the process: kept
    # out of the collector's full passes, which otherwise walk all of it (~200,000 objects,
    # 0.1-0.4 s with every request of the process waiting) each time enough new objects have
    # survived; under load that was once every 20,000 or so listings, and their p99.
    gc.freeze()
    server.run(sockets=sockets)
    _log.info("Stopped")
