"""Slow and stalled request bodies against a real `sfs serve`, on raw sockets.

Two hundred uploads held open (a large Content-Length, one byte sent) hold no worker thread,
so ordinary pages keep answering; a body that stalls is answered 408 after the idle timeout and
commits nothing; uploads in progress are capped per account (429 with Retry-After); the portal's
multipart form is refused (403, 507, 413) before its files are read.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import httpx
import pytest

from sfs.app import build_services
from sfs.config import load_settings
from sfs.crypto.passwords import PasswordHasher
from sfs.domain.actor import operator
from tests.e2e.test_quick_start import RunningServer
from tests.support import FAST_HASH, GOOD_PASSWORD, csrf_token_in
from tests.world import CLIENT

MIB = 1024 * 1024
HELD = 200
# A bound on a real socket read, so a server that never answers fails the test instead of
# hanging it; nothing here asserts how long anything took.
READ_TIMEOUT = 30


@dataclass
class Account:
    email: str
    user_id: str
    organization_id: str
    token: str  # a device token for the API
    session: str  # the portal's session cookie
    csrf: str  # that session's CSRF token


def start(tmp_path: Path, **settings: object) -> RunningServer:
    environment = {f"SFS_{name.upper()}": str(value) for name, value in settings.items()}
    with mock.patch.dict(os.environ, environment):
        server = RunningServer(tmp_path / "sfs-data")
    server.wait_until_ready()
    return server


@pytest.fixture
def servers() -> Iterator[list[RunningServer]]:
    started: list[RunningServer] = []
    yield started
    for server in started:
        server.stop()


def make_account(server: RunningServer, n: int, *, quota_bytes: int | None = None) -> Account:
    email = f"slow{n}@example.com"
    services = build_services(
        load_settings(data_dir=server.data_dir), hasher=PasswordHasher(FAST_HASH)
    )
    try:
        organisation = services.organisations.create(operator(), name=f"Slow {n}", client=CLIENT)
        user = services.accounts.create_user(
            operator(),
            organization_id=organisation.id,
            email=email,
            display_name=f"Slow Sender {n}",
            password=GOOD_PASSWORD,
            client=CLIENT,
        )
        if quota_bytes is not None:
            services.retention.set_quota(
                operator(),
                organization_id=organisation.id,
                quota_bytes=quota_bytes,
                client=CLIENT,
                user_id=user.id,
            )
    finally:
        services.database.dispose()
    answer = httpx.post(
        f"{server.base_url}/api/v1/auth/login",
        json={"email": email, "password": GOOD_PASSWORD, "device_name": "slow"},
    )
    assert answer.status_code == 200, answer.text
    with httpx.Client(base_url=server.base_url) as browser:
        token = csrf_token_in(browser.get("/login").text)
        signed_in = browser.post(
            "/login", data={"email": email, "password": GOOD_PASSWORD, "csrf_token": token}
        )
        assert signed_in.status_code in (200, 303), signed_in.text
        csrf = csrf_token_in(browser.get("/files").text)
        session = browser.cookies["sfs_session"]
    return Account(email, str(user.id), str(organisation.id), answer.json()["token"], session, csrf)


def content_put(account: Account, path: str, length: int) -> str:
    return (
        f"PUT /api/v1/spaces/me/content?path={path} HTTP/1.1\r\nHost: sfs\r\n"
        f"Authorization: Bearer {account.token}\r\nContent-Length: {length}\r\n\r\n"
    )


def chunk_batch(account: Account, length: int) -> str:
    return (
        f"POST /api/v1/chunks/batch HTTP/1.1\r\nHost: sfs\r\n"
        f"Authorization: Bearer {account.token}\r\nContent-Length: {length}\r\n\r\n"
    )


def portal_put(account: Account, name: str, length: int) -> str:
    return (
        f"PUT /file/upload/{name} HTTP/1.1\r\nHost: sfs\r\n"
        f"Cookie: sfs_session={account.session}\r\nX-CSRF-Token: {account.csrf}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    )


def open_request(server: RunningServer, head: str, body: bytes = b"x") -> socket.socket:
    """A request whose headers and first body bytes are sent; the rest never is."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=READ_TIMEOUT)
    sock.sendall(head.encode() + body)
    return sock


def answer_of(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read one response off the socket (status, lower-cased headers, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        assert piece, f"the server closed without an answer: {data!r}"
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    while len(body) < int(headers.get("content-length", "0")):
        piece = sock.recv(65536)
        if not piece:
            break
        body += piece
    return int(lines[0].split()[1]), headers, body


def unanswered(sock: socket.socket) -> bool:
    """Nothing came back yet: no answer, and not closed."""
    sock.setblocking(False)
    try:
        sock.recv(1)  # data (an answer) or b"" (closed)
    except BlockingIOError:
        return True
    finally:
        sock.setblocking(True)
    return False


def node_status(server: RunningServer, account: Account, path: str) -> int:
    return httpx.get(
        f"{server.base_url}/api/v1/spaces/me/node",
        params={"path": path},
        headers={"Authorization": f"Bearer {account.token}"},
    ).status_code


def test_two_hundred_slow_uploads_leave_the_service_answering(
    servers: list[RunningServer], tmp_path: Path
) -> None:
    # The caps would turn most of these away (429); raised here, every one is held open.
    server = start(tmp_path, uploads_per_account=1000, uploads_per_address=1000)
    servers.append(server)
    accounts = [make_account(server, n) for n in range(4)]
    held: list[socket.socket] = []
    try:
        for i in range(HELD):
            account = accounts[i % len(accounts)]
            kind = i % 3
            if kind == 0:
                head = content_put(account, f"/slow-{i}.bin", 100 * MIB)
            elif kind == 1:
                head = chunk_batch(account, 4 * MIB)
            else:
                head = portal_put(account, f"slow-{i}.bin", 100 * MIB)
            held.append(open_request(server, head))
        auth = {"Authorization": f"Bearer {accounts[0].token}"}
        for _ in range(5):
            me = httpx.get(f"{server.base_url}/api/v1/me", headers=auth, timeout=READ_TIMEOUT)
            assert me.status_code == 200 and me.json()["email"] == accounts[0].email
            login = httpx.get(f"{server.base_url}/login", timeout=READ_TIMEOUT)
            assert login.status_code == 200
        # A small upload still goes through alongside them.
        small = httpx.put(
            f"{server.base_url}/api/v1/spaces/me/content",
            params={"path": "/small.txt"},
            content=b"hello",
            headers=auth,
            timeout=READ_TIMEOUT,
        )
        assert small.status_code == 200, small.text
        assert all(unanswered(sock) for sock in held)  # still held, none refused
    finally:
        for sock in held:
            sock.close()


def test_a_stalled_body_is_answered_408_and_commits_nothing(
    servers: list[RunningServer], tmp_path: Path
) -> None:
    server = start(tmp_path, request_body_idle_seconds=1)
    servers.append(server)
    account = make_account(server, 1)
    stalled = [
        open_request(server, content_put(account, "/stalled.bin", 3 * MIB), os.urandom(2 * MIB)),
        open_request(server, portal_put(account, "stalled.txt", 10_000), b"partial"),
        open_request(server, chunk_batch(account, 10_000), b"x" * 100),
    ]
    for sock in stalled:
        with sock:
            status, headers, body = answer_of(sock)
            assert status == 408
            assert headers["connection"] == "close"
            assert json.loads(body)["code"] == "request_timeout"
    assert node_status(server, account, "/stalled.bin") == 404
    assert node_status(server, account, "/stalled.txt") == 404


def test_uploads_over_the_cap_are_refused_429_until_one_ends(
    servers: list[RunningServer], tmp_path: Path
) -> None:
    server = start(tmp_path, uploads_per_account=2, uploads_per_address=50)
    servers.append(server)
    account, other = make_account(server, 1), make_account(server, 2)
    held = [
        open_request(server, content_put(account, "/held-1.bin", MIB)),
        open_request(server, portal_put(account, "held-2.bin", MIB)),
    ]
    auth = {"Authorization": f"Bearer {account.token}"}
    url = f"{server.base_url}/api/v1/spaces/me/content"
    try:
        # The two held uploads reach the server in their own time: ask until they hold their
        # slots (a bounded number of tries; an upload that gets through is a real one).
        for attempt in range(200):
            third = httpx.put(
                url, params={"path": f"/third-{attempt}.txt"}, content=b"x", headers=auth
            )
            if third.status_code == 429:
                break
            time.sleep(0.05)
        assert third.status_code == 429, third.text
        assert third.json()["code"] == "too_many_uploads"
        assert "2 uploads are in progress" in third.json()["message"]
        assert int(third.headers["retry-after"]) > 0
        batch = httpx.post(f"{server.base_url}/api/v1/chunks/batch", content=b"", headers=auth)
        assert batch.status_code == 429
        assert node_status(server, account, f"/third-{attempt}.txt") == 404
        # Another account is not held back by this one's uploads.
        theirs = httpx.put(
            url,
            params={"path": "/theirs.txt"},
            content=b"x",
            headers={"Authorization": f"Bearer {other.token}"},
        )
        assert theirs.status_code == 200, theirs.text
    finally:
        for sock in held:
            sock.close()
    for _attempt in range(200):  # the slots free as the server sees the sockets close
        again = httpx.put(url, params={"path": "/after.txt"}, content=b"x", headers=auth)
        if again.status_code == 200:
            break
        time.sleep(0.05)
    assert again.status_code == 200, again.text


def multipart_head(account: Account, length: int, boundary: str = "b0undary") -> str:
    return (
        f"POST /file/upload/ HTTP/1.1\r\nHost: sfs\r\nCookie: sfs_session={account.session}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    )


def form_start(csrf: str, boundary: str = "b0undary") -> bytes:
    return (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.bin"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + b"x" * 1000


def test_the_upload_form_is_refused_before_its_files_are_read(
    servers: list[RunningServer], tmp_path: Path
) -> None:
    server = start(tmp_path, form_upload_max_bytes=4 * MIB)
    servers.append(server)
    account = make_account(server, 1)
    limited = make_account(server, 2, quota_bytes=MIB)
    cases = [
        (account, form_start("forged"), 403),  # a forged token: refused before the files
        (limited, form_start(limited.csrf), 507),  # over quota by its Content-Length
    ]
    for who, start_of_body, expected in cases:
        # Only the start of a 3 MiB body is sent: an answer proves the rest was never awaited.
        with open_request(server, multipart_head(who, 3 * MIB), start_of_body) as sock:
            status, _, _ = answer_of(sock)
            assert status == expected, (who.email, status)
    with open_request(server, multipart_head(account, 5 * MIB), form_start(account.csrf)) as sock:
        status, _, body = answer_of(sock)
        assert status == 413 and json.loads(body)["code"] == "request_too_large"
    for who in (account, limited):
        assert node_status(server, who, "/big.bin") == 404
    # A whole, honest form under the cap still uploads.
    with httpx.Client(base_url=server.base_url, cookies={"sfs_session": account.session}) as web:
        sent = web.post(
            "/file/upload/",
            data={"csrf_token": account.csrf},
            files=[("files", ("ok.bin", b"y" * 1000, "application/octet-stream"))],
        )
        assert sent.status_code in (200, 303), sent.text
    assert node_status(server, account, "/ok.bin") == 200
