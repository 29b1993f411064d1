"""A typed client of the REST API (`/api/v1`), over an `httpx.Client` with an injectable transport.

Every failure, whether the server answered `{code, message}` or could not be reached at all,
is one `ApiError` that carries the HTTP status (None when there was no answer), the server's
stable `code` and its `message` for people. Tests hand in an `httpx.MockTransport` or an ASGI
transport; the command line and the sync engine use the network.
"""

from __future__ import annotations

import base64
import platform
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

import httpx

from sfs import __version__
from sfs.protocol.chunk_frames import (
    HEADER_BYTES,
    LENGTH_BYTES,
    OLD_BATCH_MAX_BYTES,
    FrameReader,
)
from sfs.protocol.chunking import ChunkParams, ChunkSizes, ChunkTier

API_PREFIX = "/api/v1"
MY_FILES = "me"
# The server accepts at most this many ids in one "which are missing?" question.
MISSING_BATCH = 10_000
_SEND_BLOCK = 1 << 20  # bytes of a chunk batch handed to the socket at once

UNREACHABLE = "unreachable"
NOT_AUTHENTICATED = "not_authenticated"


def client_user_agent(program: str) -> str:
    """`sfs-sync/0.1.0 (Linux; x86_64)`: the server's Devices page shows version and platform."""
    system, machine = platform.system() or "unknown", platform.machine() or "unknown"
    return f"{program}/{__version__} ({system}; {machine})"


class ApiError(Exception):
    """The server refused a call (`status`, `code`, `message`), or could not be reached."""

    def __init__(self, message: str, *, status: int | None, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code

    @property
    def unreachable(self) -> bool:
        return self.status is None

    def __repr__(self) -> str:
        return f"ApiError(status={self.status!r}, code={self.code!r}, message={self.message!r})"


@dataclass(frozen=True, slots=True)
class RemoteNode:
    id: str
    name: str
    path: str
    kind: str  # "file" or "folder"
    size: int
    modified_at: datetime
    version: int | None
    etag: str | None
    deleted_at: datetime | None = None

    @property
    def is_folder(self) -> bool:
        return self.kind == "folder"

    @classmethod
    def of(cls, data: dict[str, Any]) -> RemoteNode:
        return cls(
            id=str(data["id"]),
            name=str(data["name"]),
            path=str(data["path"]),
            kind=str(data["kind"]),
            size=int(data["size"]),
            modified_at=datetime.fromisoformat(data["modified_at"]),
            version=None if data.get("version") is None else int(data["version"]),
            etag=data.get("etag"),
            deleted_at=(
                None
                if data.get("deleted_at") is None
                else datetime.fromisoformat(data["deleted_at"])
            ),
        )


@dataclass(frozen=True, slots=True)
class RemoteVersion:
    number: int
    size: int
    modified_at: datetime
    created_at: datetime
    etag: str
    device_name: str | None
    current: bool

    @classmethod
    def of(cls, data: dict[str, Any]) -> RemoteVersion:
        return cls(
            number=int(data["number"]),
            size=int(data["size"]),
            modified_at=datetime.fromisoformat(data["modified_at"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            etag=str(data["etag"]),
            device_name=data.get("device_name"),
            current=bool(data["current"]),
        )


@dataclass(frozen=True, slots=True)
class Chunking:
    """How the caller's organisation cuts and names chunks."""

    sizes: ChunkSizes
    chunk_id_key: bytes
    seed: int
    batch_max_bytes: int = OLD_BATCH_MAX_BYTES  # the largest chunk batch the server takes


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    chunk_id: str
    size: int


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    """A device token, or (token None) a second-factor challenge to answer."""

    token: str | None
    device_id: str | None = None
    challenge: str | None = None
    method: str | None = None
    message: str = ""  # the server's words on where the code is (for an emailed code: when sent)


@dataclass(frozen=True, slots=True)
class Download:
    length: int | None
    etag: str | None
    blocks: Iterator[bytes]


class ApiClient:
    """One server, one device token (or none, to log in), one space (`me` by default)."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        space: str = MY_FILES,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 60.0,
        user_agent: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.space = space
        headers = {
            "User-Agent": user_agent or client_user_agent("sfs-client"),
            "Accept": "application/json",
        }
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.base_url + API_PREFIX,
            headers=headers,
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- authentication ---------------------------------------------------------------------

    def login(self, *, email: str, password: str, device_name: str) -> LoginOutcome:
        data = self._json(
            "POST",
            "/auth/login",
            json={"email": email, "password": password, "device_name": device_name},
        )
        return _login_outcome(data)

    def answer_second_factor(self, *, challenge: str, code: str, device_name: str) -> LoginOutcome:
        data = self._json(
            "POST",
            "/auth/login/second-factor",
            json={"challenge": challenge, "code": code, "device_name": device_name},
        )
        return _login_outcome(data)

    def resend_email_code(self, *, challenge: str) -> None:
        self._call("POST", "/auth/login/second-factor/resend", json={"challenge": challenge})

    def logout(self) -> None:
        """Revoke the device token this client holds."""
        self._call("POST", "/auth/logout")

    def me(self) -> dict[str, Any]:
        return self._object("GET", "/me")

    def wipe_requested(self) -> bool:
        """Whether the server asks this device to erase what it synced (its token, revoked for
        everything else, still answers this)."""
        return bool(self._object("POST", "/auth/wipe/check").get("wipe"))

    def wipe_done(self, *, files_kept: int) -> None:
        """Tell the server the wipe is done (ApiError 404 when it was told before)."""
        self._call("POST", "/auth/wipe/done", json={"files_kept": files_kept})

    # --- files ------------------------------------------------------------------------------

    def list_folder(self, path: str = "/") -> list[RemoteNode]:
        data = self._json("GET", self._space("/children"), params={"path": path})
        return [RemoteNode.of(item) for item in _list(data)]

    def stat(self, path: str) -> RemoteNode:
        return RemoteNode.of(self._object("GET", self._space("/node"), params={"path": path}))

    def stat_or_none(self, path: str) -> RemoteNode | None:
        try:
            return self.stat(path)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def create_folder(self, path: str) -> RemoteNode:
        return RemoteNode.of(self._object("POST", self._space("/folders"), json={"path": path}))

    def move(self, source: str, target: str) -> RemoteNode:
        body = {"source": source, "target": target}
        return RemoteNode.of(self._object("POST", self._space("/move"), json=body))

    def copy(self, source: str, target: str) -> RemoteNode:
        body = {"source": source, "target": target}
        return RemoteNode.of(self._object("POST", self._space("/copy"), json=body))

    def delete(self, path: str) -> None:
        """Move to the trash."""
        self._call("DELETE", self._space("/node"), params={"path": path})

    def trash(self) -> list[RemoteNode]:
        return [RemoteNode.of(item) for item in _list(self._json("GET", self._space("/trash")))]

    def restore_from_trash(self, node_id: str) -> RemoteNode:
        return RemoteNode.of(self._object("POST", self._space(f"/trash/{node_id}/restore")))

    def versions(self, path: str) -> list[RemoteVersion]:
        data = self._json("GET", self._space("/versions"), params={"path": path})
        return [RemoteVersion.of(item) for item in _list(data)]

    def restore_version(self, path: str, number: int) -> RemoteNode:
        body = {"path": path, "number": number}
        return RemoteNode.of(self._object("POST", self._space("/versions/restore"), json=body))

    def upload_content(
        self,
        path: str,
        blocks: Iterable[bytes],
        *,
        base_version: int | None,
        modified_at: datetime | None = None,
        device_name: str | None = None,
    ) -> RemoteNode:
        """Upload a whole file in one streamed request (no delta; see `sfs.client.transfer`)."""
        params: dict[str, str | int] = {"path": path}
        if base_version is not None:
            params["base_version"] = base_version
        if modified_at is not None:
            params["modified_at"] = modified_at.isoformat()
        if device_name is not None:
            params["device_name"] = device_name
        return RemoteNode.of(
            self._object("PUT", self._space("/content"), params=params, content=iter(blocks))
        )

    @contextmanager
    def open_content(self, path: str, *, version: int | None = None) -> Iterator[Download]:
        """Stream a file's content (or one of its versions); errors arrive before any byte."""
        params: dict[str, str | int] = {"path": path}
        if version is not None:
            params["version"] = version
        request = self._http.build_request("GET", self._space("/content"), params=params)
        try:
            response = self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None
        try:
            if response.status_code >= 400:
                response.read()
                raise _error_of(response)
            length = response.headers.get("content-length")
            yield Download(
                length=int(length) if length and length.isdigit() else None,
                etag=response.headers.get("etag"),
                blocks=self._blocks(response),
            )
        finally:
            response.close()

    # --- chunks -----------------------------------------------------------------------------

    def chunking(self) -> Chunking:
        data = self._object("GET", "/chunking")
        # A server from before tiers cuts every file with its one set of sizes.
        tiers = data.get("tiers") or [{**data, "from_size": 0}]
        try:
            return Chunking(
                sizes=ChunkSizes(
                    tuple(
                        ChunkTier(
                            int(tier["from_size"]),
                            ChunkParams(
                                min_size=int(tier["min_size"]),
                                avg_size=int(tier["avg_size"]),
                                max_size=int(tier["max_size"]),
                            ),
                        )
                        for tier in tiers
                    )
                ),
                chunk_id_key=base64.b64decode(data["chunk_id_key"]),
                seed=int(data["seed"]),
                batch_max_bytes=int(data.get("batch_max_bytes", OLD_BATCH_MAX_BYTES)),
            )
        except (KeyError, TypeError, ValueError) as malformed:
            # Cut by sizes nobody agreed on, nothing would deduplicate: stop rather than guess.
            raise ApiError(
                f"the server's chunking answer is malformed ({malformed!r})",
                status=200,
                code="bad_response",
            ) from None

    def missing_chunks(self, chunk_ids: Iterable[str]) -> set[str]:
        """Which of these chunk ids the server lacks, asked in batches it accepts."""
        unique = list(dict.fromkeys(chunk_ids))
        missing: set[str] = set()
        for start in range(0, len(unique), MISSING_BATCH):
            batch = unique[start : start + MISSING_BATCH]
            data = self._object("POST", "/chunks/missing", json={"chunk_ids": batch})
            missing.update(str(item) for item in data["missing"])
        return missing

    def put_chunks(self, chunks: Sequence[tuple[str, bytes]]) -> None:
        """Store chunks in one request (`/chunks/batch`), framed as the server reads them.

        The body is sent from a generator with its length declared: a body handed over as one
        `bytes` would stay referenced by the request, which httpx keeps in a reference cycle
        with its response, until the garbage collector's next full pass (megabytes a batch)."""
        length = sum(HEADER_BYTES + len(data) for _, data in chunks)
        self._call(
            "POST",
            "/chunks/batch",
            content=_framed(chunks),
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(length)},
        )

    def fetch_chunks(self, chunk_ids: Sequence[str]) -> dict[str, bytes]:
        """Chunks by id, in one request (`/chunks/fetch`), cut from the answer as it streams in
        (never held whole: see `put_chunks` for why a whole body would linger)."""
        request = self._http.build_request(
            "POST", "/chunks/fetch", json={"chunk_ids": list(chunk_ids)}
        )
        reader = FrameReader()
        found: dict[str, bytes] = {}
        try:
            response = self._http.send(request, stream=True)
            try:
                if response.status_code >= 400:
                    response.read()
                    raise _error_of(response)
                for block in response.iter_bytes():
                    found.update(reader.feed(block))
            finally:
                response.close()
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None
        try:
            reader.finish()
        except ValueError as cut_short:
            raise ApiError(str(cut_short), status=200, code="bad_response") from None
        return found

    def commit(
        self,
        path: str,
        manifest: list[ManifestEntry],
        *,
        modified_at: datetime,
        base_version: int | None,
        device_name: str | None = None,
    ) -> RemoteNode:
        """Make a version from stored chunks; a stale `base_version` is ApiError 409."""
        body = {
            "path": path,
            "manifest": [{"chunk_id": e.chunk_id, "size": e.size} for e in manifest],
            "modified_at": modified_at.isoformat(),
            "base_version": base_version,
            "device_name": device_name,
        }
        return RemoteNode.of(self._object("POST", self._space("/commit"), json=body))

    # --- plumbing ---------------------------------------------------------------------------

    def _space(self, suffix: str) -> str:
        return f"/spaces/{self.space}{suffix}"

    def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None
        if response.status_code >= 400:
            raise _error_of(response)
        return response

    def _json(self, method: str, url: str, **kwargs: Any) -> Any:
        response = self._call(method, url, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise ApiError(
                f"the server's answer to {method} {url} is not JSON",
                status=response.status_code,
                code="bad_response",
            ) from None

    def _object(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        data = self._json(method, url, **kwargs)
        if not isinstance(data, dict):
            raise ApiError(
                f"the server's answer to {method} {url} is not an object",
                status=200,
                code="bad_response",
            )
        return data

    def _blocks(self, response: httpx.Response) -> Iterator[bytes]:
        try:
            yield from response.iter_bytes()
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None

    def _unreachable(self, exc: httpx.TransportError) -> ApiError:
        reason = str(exc) or type(exc).__name__
        return ApiError(
            f"cannot reach the server at {self.base_url}: {reason}",
            status=None,
            code=UNREACHABLE,
        )


def _list(data: Any) -> list[dict[str, Any]]:
    if not isinstance(data, list):
        raise ApiError("the server's answer is not a list", status=200, code="bad_response")
    return data


def _login_outcome(data: Any) -> LoginOutcome:
    if data.get("token"):
        device = data.get("device_id")
        return LoginOutcome(
            token=str(data["token"]), device_id=None if device is None else str(device)
        )
    challenge = data.get("second_factor") or {}
    if not challenge.get("challenge"):
        raise ApiError(
            "the server sent neither a token nor a challenge", status=200, code="bad_response"
        )
    return LoginOutcome(
        token=None,
        challenge=str(challenge["challenge"]),
        method=str(challenge.get("method", "")),
        message=str(challenge.get("message") or ""),
    )


def _framed(chunks: Sequence[tuple[str, bytes]]) -> Iterator[bytes]:
    """The batch in blocks of about `_SEND_BLOCK`: a send per 36-byte header would be slow.

    Each block is joined once from its headers and chunks (a bytearray grown chunk by chunk,
    then copied out as bytes, cost an upload two copies of every byte and the reallocations
    between)."""
    parts: list[bytes] = []
    size = 0
    for chunk_id, data in chunks:
        parts.append(bytes.fromhex(chunk_id) + len(data).to_bytes(LENGTH_BYTES, "big"))
        parts.append(data)
        size += HEADER_BYTES + len(data)
        if size >= _SEND_BLOCK:
            yield b"".join(parts)
            parts, size = [], 0
    if parts:
        yield b"".join(parts)


def _error_of(response: httpx.Response) -> ApiError:
    """The server's `{code, message}`, or a plain description of a non-JSON failure."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return ApiError(
            body["message"], status=response.status_code, code=str(body.get("code", "error"))
        )
    return ApiError(
        f"the server answered {response.status_code} {response.reason_phrase}".rstrip(),
        status=response.status_code,
        code=f"http_{response.status_code}",
    )
