"""Sends mail on a worker thread, so a request neither waits for the mail server nor is timed by it.

Used where the time to answer must not tell anything (`Forgot password?` answers alike whether
or not the account exists): the work that decides whether there is a message at all runs on the
worker too. A message that cannot be made or sent is logged; the user can ask again.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from email.message import EmailMessage

from sfs.ports import Mailer

_log = logging.getLogger(__name__)


class BackgroundMailer:
    def __init__(self, mailer: Mailer) -> None:
        self._mailer = mailer
        self._queue: queue.Queue[Callable[[], EmailMessage | None] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    def send(self, message: EmailMessage) -> None:
        """Queue the message and return at once."""
        self.submit(lambda: message)

    def submit(self, prepare: Callable[[], EmailMessage | None]) -> None:
        """Queue work that makes a message (or finds there is none to send), and return at once:
        the worker runs it and sends the result. Even composing a message takes milliseconds."""
        self._start()
        self._queue.put(prepare)

    def flush(self) -> None:
        """Wait until every message queued so far was handed to the mailer (or failed)."""
        self._queue.join()

    def close(self) -> None:
        """Send what is queued, then stop the worker (at shutdown)."""
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            self._queue.put(None)
            worker.join()

    def _start(self) -> None:
        # Started at the first message: most processes (commands, tests) never send one this way.
        with self._lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="sfs-mail", daemon=True)
                self._worker.start()

    def _run(self) -> None:
        while True:
            prepare = self._queue.get()
            try:
                if prepare is None:
                    return
                message = prepare()
                if message is not None:
                    self._mailer.send(message)
            except Exception:  # a failed message must not stop the ones behind it
                _log.exception("Could not send a queued message")
            finally:
                self._queue.task_done()
