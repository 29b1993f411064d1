"""The id of the request being served: in every log line, the response's X-Request-ID and
the audit events it causes.

A context variable rather than an argument: it crosses every layer (door, service, audit,
logging) without each signature carrying it, and it follows the request into worker threads
(Starlette and anyio copy the context there).
"""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar, Token

_current: ContextVar[str | None] = ContextVar("sfs_request_id", default=None)
# What a proxy's id may look like: short, printable, nothing a log or header could trip on.
_SANE = re.compile(r"[A-Za-z0-9._:@/+=-]{8,128}")


def current_request_id() -> str | None:
    return _current.get()


def begin_request(incoming: str | None) -> tuple[str, Token[str | None]]:
    """Set the id for the request now served: `incoming` (from a trusted proxy) when it looks
    sane, else a fresh one. Hand the token to `end_request` when the request is done."""
    request_id = incoming if incoming and _SANE.fullmatch(incoming) else new_request_id()
    return request_id, _current.set(request_id)


def end_request(token: Token[str | None]) -> None:
    _current.reset(token)


def new_request_id() -> str:
    return secrets.token_hex(12)
