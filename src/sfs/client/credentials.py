"""The device token a client logged in with, kept in the user's config folder (mode 0600).

Never the password: `sfs login` trades it for a device token that the user (or an admin) can
revoke on its own. The file is written atomically (temp file, fsync, rename), so a crash leaves
the old login or the new one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

CONFIG_DIR_VARIABLE = "SFS_CLIENT_CONFIG_DIR"
CREDENTIALS_FILE = "credentials.json"
# Servers whose login on this computer was wiped remotely: every folder synced with one erases
# itself at its next start, not only the folder that heard of the wipe (which forgot the login).
WIPED_FILE = "wiped.json"


class CredentialsError(Exception):
    """The credentials file exists but cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class Credentials:
    server_url: str
    token: str
    email: str
    device_name: str
    device_id: str | None = None


def config_dir(environ: dict[str, str] | None = None) -> Path:
    """`$SFS_CLIENT_CONFIG_DIR`, else `$XDG_CONFIG_HOME/sfs`, else `~/.config/sfs`."""
    env = os.environ if environ is None else environ
    if env.get(CONFIG_DIR_VARIABLE):
        return Path(env[CONFIG_DIR_VARIABLE])
    if env.get("XDG_CONFIG_HOME"):
        return Path(env["XDG_CONFIG_HOME"]) / "sfs"
    return Path.home() / ".config" / "sfs"


def credentials_path(directory: Path) -> Path:
    return directory / CREDENTIALS_FILE


def load(directory: Path) -> Credentials | None:
    """The saved login, or None when there is none."""
    path = credentials_path(directory)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CredentialsError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = json.loads(raw)
        return Credentials(
            server_url=str(data["server_url"]),
            token=str(data["token"]),
            email=str(data["email"]),
            device_name=str(data["device_name"]),
            device_id=None if data.get("device_id") is None else str(data["device_id"]),
        )
    except (ValueError, KeyError, TypeError):
        raise CredentialsError(f"{path} is damaged; log in again with sfs login") from None


def save(directory: Path, credentials: Credentials) -> Path:
    """Write the login atomically, readable by the user alone; the folder becomes 0700."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = credentials_path(directory)
    payload = json.dumps(asdict(credentials), indent=2).encode() + b"\n"
    # mkstemp creates the file with mode 0600, so the token is never readable by others.
    handle, temp_name = tempfile.mkstemp(prefix=".credentials-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(payload)
            temp.flush()
            os.fsync(temp.fileno())
        os.chmod(temp_name, 0o600)
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    _fsync_folder(directory)
    return path


def remove(directory: Path) -> bool:
    """Forget the saved login; whether there was one."""
    try:
        credentials_path(directory).unlink()
    except FileNotFoundError:
        return False
    _fsync_folder(directory)
    return True


def wiped_servers(directory: Path) -> set[str]:
    """The servers whose login here was wiped (and not logged in to again since)."""
    try:
        data = json.loads((directory / WIPED_FILE).read_text(encoding="utf-8"))
        return {str(url) for url in data["servers"]}
    except FileNotFoundError:
        return set()
    except (OSError, ValueError, KeyError, TypeError):
        # Unreadable: safer to treat nothing as wiped than to refuse every sync; the folder
        # that heard of the wipe has erased itself already.
        return set()


def remember_wiped(directory: Path, server_url: str) -> None:
    _write_wiped(directory, wiped_servers(directory) | {server_url.rstrip("/")})


def forget_wiped(directory: Path, server_url: str) -> None:
    """A new login to the server (password and second factor again): its folders are the
    user's to sync once more."""
    servers = wiped_servers(directory)
    if server_url.rstrip("/") in servers:
        _write_wiped(directory, servers - {server_url.rstrip("/")})


def _write_wiped(directory: Path, servers: set[str]) -> None:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    payload = json.dumps({"servers": sorted(servers)}).encode() + b"\n"
    handle, temp_name = tempfile.mkstemp(prefix=".wiped-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(payload)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, directory / WIPED_FILE)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    _fsync_folder(directory)


def _fsync_folder(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
