"""Pure ASGI middleware: security headers on every response; a size cap and an idle timeout
on request bodies."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        ]
        if https:
            self.headers.append(
                (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyGuard:
    """Every request body gets a size ceiling (413) and an idle timeout (408).

    `limits` gives requests their own ceiling (a regular expression each, matched against
    "METHOD /path"; None: no ceiling, for file content that streams through with flat memory).
    A body that goes `idle_seconds` without a byte, or past its ceiling, is answered at once
    (`Connection: close`); the app is then told the client went away (`http.disconnect`), so
    an upload in progress aborts and commits nothing, and whatever the app answers after that
    is dropped. A reader waiting here holds no thread, only a coroutine.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        limits: Sequence[tuple[re.Pattern[str], int | None]] = (),
        idle_seconds: float,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.limits = limits
        self.idle_seconds = idle_seconds

    def _limit_for(self, scope: Scope) -> int | None:
        request = f"{scope.get('method', '')} {scope.get('path', '')}"
        for pattern, limit in self.limits:
            if pattern.match(request):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length: bytes | None = None
        chunked = False
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                chunked = True
        if not chunked and (length is None or length == b"0"):
            # No body (HTTP/1.1: neither header): nothing to cap or to time, so no wrapping
            # of every message, which was a good part of a small GET's time in the middleware.
            await self.app(scope, receive, send)
            return
        max_bytes = self._limit_for(scope)
        declared = int(length) if length is not None and length.isdigit() else None
        if max_bytes is not None and declared is not None and declared > max_bytes:
            await _refuse(send, 413, "request_too_large", _too_large(max_bytes))
            return
        guard = _GuardedBody(receive, send, max_bytes, self.idle_seconds)
        try:
            await self.app(scope, guard.receive, guard.send)
        except Exception:
            if not guard.refused:
                raise
            # The app failed because its body was cut off: the client has its answer already.


class _GuardedBody:
    def __init__(
        self, receive: Receive, send: Send, max_bytes: int | None, idle_seconds: float
    ) -> None:
        self._receive = receive
        self._send = send
        self._max_bytes = max_bytes
        self._idle_seconds = idle_seconds
        self._received = 0
        self._complete = False
        self._started = False
        self.refused = False

    async def receive(self) -> Message:
        if self.refused:
            return _DISCONNECT
        if self._complete:  # the body is in; later reads wait for a disconnect, untimed
            return await self._receive()
        message: Message | None = None
        with anyio.move_on_after(self._idle_seconds):
            message = await self._receive()
        if message is None:
            seconds = f"{self._idle_seconds:g}"
            await self._refuse(408, "request_timeout", f"No request body for {seconds} seconds.")
            return _DISCONNECT
        if message["type"] == "http.request":
            self._received += len(message.get("body", b""))
            self._complete = not message.get("more_body", False)
            if self._max_bytes is not None and self._received > self._max_bytes:
                await self._refuse(413, "request_too_large", _too_large(self._max_bytes))
                return _DISCONNECT
        return message

    async def send(self, message: Message) -> None:
        if self.refused:
            return
        if message["type"] == "http.response.start":
            self._started = True
        await self._send(message)

    async def _refuse(self, status: int, code: str, message: str) -> None:
        if not self._started:  # else the app is answering already; only cut the body off
            await _refuse(self._send, status, code, message)
        self.refused = True


_DISCONNECT: Message = {"type": "http.disconnect"}


def _too_large(max_bytes: int) -> str:
    return f"Request body over {max_bytes} bytes."


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"code": code, "message": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                # The rest of the body is not read, so the connection cannot carry another request.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
