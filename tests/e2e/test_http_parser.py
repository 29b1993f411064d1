"""What `sfs serve`'s HTTP parser refuses before the app sees a request: a request target with a
fragment (`#`), which RFC 9112 forbids and the fast parser would silently cut off, so that
`DELETE /dav/folder/#x` is never `DELETE /dav/folder/`."""

from __future__ import annotations

import socket

from tests.e2e.test_quick_start import RunningServer


def _raw(server: RunningServer, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
        return answer


def test_a_request_target_with_a_fragment_is_refused_and_reaches_nothing(
    server: RunningServer,
) -> None:
    refused = _raw(server, b"DELETE /dav/folder/#ment HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert refused.startswith(b"HTTP/1.1 400 "), refused[:200]
    log = server.log.read_text()
    assert "/dav/folder" not in log  # refused by the parser: no request was served
    served = _raw(server, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert served.startswith(b"HTTP/1.1 200 "), served[:200]
