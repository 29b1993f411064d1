"""`sfs serve --workers N`: N processes serving one port, for the cores one Python process
cannot use (the interpreter runs one request's Python code at a time).

Each worker is a whole server of its own (services, database pool, drain on SIGTERM) on its
own listening socket bound with SO_REUSEPORT, so the kernel spreads new connections over them,
and a draining worker's closed socket stops receiving at once. What the workers must agree on
lives outside them: the database, throttles and upload slots in Redis, change broadcasts over
PostgreSQL or Redis (the settings refuse more than one worker otherwise); a verified credential
is remembered per worker for at most SFS_CREDENTIAL_CACHE_SECONDS, as across instances.
Background jobs run in the first worker (their leases would keep them single anyway).

The supervisor only starts, signals and waits: SIGTERM or Ctrl-C is passed on to every worker
once, and it exits 0 when all drained; a worker ending on its own stops the others, exit 1.
"""

from __future__ import annotations

import logging
import logging.config
import multiprocessing
import os
import signal
import socket
import sys
from multiprocessing.connection import wait
from types import FrameType

from sfs.app import build_services
from sfs.config import Settings
from sfs.observability.logs import logging_config
from sfs.web.server import create_app
from sfs.web.serving import serve

_log = logging.getLogger(__name__)


def check_port_free(host: str, port: int) -> None:
    """OSError unless a socket without SO_REUSEPORT can bind there: so no other server, a
    second `sfs serve` included, holds the port (the kernel lets sockets share a port only
    if every one of them asked to)."""
    _socket_for(host, port, reuse_port=False).close()


def serve_workers(settings: Settings) -> int:
    """Run `settings.workers` worker processes until they have drained; the exit status."""
    logging.config.dictConfig(logging_config(settings.log_format))
    if not hasattr(socket, "SO_REUSEPORT"):
        _log.error("SFS_WORKERS > 1 needs SO_REUSEPORT, which this system does not have")
        return 1
    try:
        check_port_free(settings.host, settings.port)
    except OSError as exc:
        _log.error("Cannot listen on %s:%s: %s", settings.host, settings.port, exc)
        return 1
    # Forked, so the workers start without importing it all again (seconds each, on a busy
    # machine more); this process has closed its pools and threads by now (`sfs serve`).
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(target=_worker, args=(settings, index), name=f"sfs-worker-{index}")
        for index in range(settings.workers)
    ]
    stopping = False

    def stop(sig: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        if not stopping:
            _log.info("Stopping %d workers (signal %s)", len(workers), signal.Signals(sig).name)
        stopping = True
        for worker in workers:
            if worker.pid is not None and worker.exitcode is None:
                os.kill(worker.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for worker in workers:
        worker.start()
    status = 0
    running = list(workers)
    while running:
        for ended in wait([worker.sentinel for worker in running]):
            worker = next(w for w in running if w.sentinel == ended)
            worker.join()
            running.remove(worker)
            if worker.exitcode != 0:
                status = 1
            if not stopping:
                _log.error("%s ended (exit %s); stopping the others", worker.name, worker.exitcode)
                status = 1
                stop(signal.SIGTERM, None)
    return status


def _worker(settings: Settings, index: int) -> None:
    # Ctrl-C in a terminal signals the whole process group; only the supervisor should get it,
    # so that every worker is asked to drain exactly once.
    os.setpgrp()
    # Not the supervisor's handlers: until the server has its own, SIGTERM just ends a worker
    # that serves nothing yet.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    services = build_services(settings)
    app = create_app(services, background_jobs=settings.background_jobs and index == 0)
    listener = _socket_for(settings.host, settings.port, reuse_port=True)
    try:
        serve(app, services, sockets=[listener])
    finally:
        services.notifier.background.close()  # mail queued by the last requests still goes out
        sys.stdout.flush()


def _socket_for(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    # As uvicorn binds its own socket when it is given none.
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock
