"""The `sfs` file commands as a user runs them: subprocesses against a real `sfs serve`."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from sfs.app import Services, build_services
from sfs.auth import totp
from sfs.client.credentials import CONFIG_DIR_VARIABLE, CREDENTIALS_FILE
from sfs.config import load_settings
from sfs.crypto.passwords import PasswordHasher
from sfs.domain.actor import operator
from sfs.metadata.file_models import Node
from sfs.metadata.models import User
from sfs.protocol.paths import name_key
from sfs.services.identity.accounts import UserView
from tests.e2e.test_quick_start import SFS, RunningServer, free_port
from tests.support import FAST_HASH, GOOD_PASSWORD
from tests.world import CLIENT, actor

MIB = 1024 * 1024


@dataclass
class FileServer:
    server: RunningServer
    services: Services
    organisation_id: uuid.UUID

    @property
    def url(self) -> str:
        return self.server.base_url

    def new_user(self) -> UserView:
        email = f"user-{uuid.uuid4().hex[:8]}@acme.example.com"
        return self.services.accounts.create_user(
            operator(),
            organization_id=self.organisation_id,
            email=email,
            display_name="Umberto User",
            password=GOOD_PASSWORD,
            client=CLIENT,
        )


@pytest.fixture(scope="module")
def file_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FileServer]:
    data_dir = tmp_path_factory.mktemp("cli-files") / "sfs-data"
    server = RunningServer(data_dir)
    try:
        server.wait_until_ready()
        services = build_services(
            load_settings(data_dir=data_dir), hasher=PasswordHasher(FAST_HASH)
        )
        organisation = services.organisations.create(operator(), name="Acme", client=CLIENT)
        yield FileServer(server, services, organisation.id)
        services.database.dispose()
    finally:
        server.stop()


@dataclass
class Cli:
    """The `sfs` command of one user: its own config folder and working folder."""

    config_dir: Path
    work_dir: Path

    def __call__(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SFS, *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=self.work_dir,
            env={**os.environ, CONFIG_DIR_VARIABLE: str(self.config_dir)},
            timeout=120,
        )

    def ok(self, *args: str, stdin: str = "") -> str:
        result = self(*args, stdin=stdin)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def token(self) -> str:
        return str(json.loads((self.config_dir / CREDENTIALS_FILE).read_text())["token"])


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    work_dir = tmp_path / "work"
    work_dir.mkdir()
    return Cli(config_dir=tmp_path / "config" / "sfs", work_dir=work_dir)


@pytest.fixture
def logged_in(cli: Cli, file_server: FileServer) -> Cli:
    email = file_server.new_user().email
    cli.ok("login", file_server.url, "--email", email, "--password-stdin", stdin=GOOD_PASSWORD)
    return cli


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("sfs: ")
    return lines[0]


def put_json(cli: Cli, *args: str) -> dict[str, object]:
    summary: dict[str, object] = json.loads(cli.ok("put", "--json", *args))
    return summary


# --- login -------------------------------------------------------------------------------------


def test_login_keeps_a_private_device_token_and_never_the_password(
    cli: Cli, file_server: FileServer
) -> None:
    email = file_server.new_user().email
    output = cli.ok(
        "login", file_server.url, "--email", email, "--password-stdin", stdin=GOOD_PASSWORD + "\n"
    )
    assert f"Logged in to {file_server.url} as {email}" in output

    saved = cli.config_dir / CREDENTIALS_FILE
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert stat.S_IMODE(cli.config_dir.stat().st_mode) == 0o700
    assert GOOD_PASSWORD not in saved.read_text()
    me = httpx.get(
        f"{file_server.url}/api/v1/me", headers={"Authorization": f"Bearer {cli.token()}"}
    )
    assert me.json()["email"] == email
    assert cli.ok("ls") == "/ is empty.\n"


def test_a_wrong_password_is_one_line_and_saves_nothing(cli: Cli, file_server: FileServer) -> None:
    email = file_server.new_user().email
    result = cli(
        "login", file_server.url, "--email", email, "--password-stdin", stdin="not-the-password\n"
    )
    assert result.returncode == 5
    assert "Wrong email or password." in one_line_error(result)
    assert not (cli.config_dir / CREDENTIALS_FILE).exists()


def test_login_with_an_authenticator_app_asks_for_the_code(
    cli: Cli, file_server: FileServer
) -> None:
    view = file_server.new_user()
    email = view.email
    services = file_server.services
    user = actor(services, view)
    setup = services.second_factor.begin_totp(user, client=CLIENT)
    enrolled_step = totp.time_step(services.clock.now())
    services.second_factor.complete_enrolment(
        user, method="totp", code=totp.code_at_step(setup.secret, enrolled_step), client=CLIENT
    )

    wrong = cli(
        "login",
        file_server.url,
        "--email",
        email,
        "--password-stdin",
        "--code",
        "000000",
        stdin=GOOD_PASSWORD,
    )
    assert wrong.returncode != 0
    one_line_error(wrong)
    assert not (cli.config_dir / CREDENTIALS_FILE).exists()

    # The enrolment used this step's code, and a code is good once: answer with a later step's
    # (the server accepts one step of drift).
    step = max(totp.time_step(services.clock.now()), enrolled_step + 1)
    code = totp.code_at_step(setup.secret, step)
    cli.ok(
        "login",
        file_server.url,
        "--email",
        email,
        "--password-stdin",
        stdin=f"{GOOD_PASSWORD}\n{code}\n",
    )
    assert cli.ok("ls") == "/ is empty.\n"


# --- files -------------------------------------------------------------------------------------


def test_a_multi_mebibyte_file_goes_up_and_comes_back_identical(
    logged_in: Cli, tmp_path: Path
) -> None:
    original = os.urandom(3 * MIB + 12345)
    (logged_in.work_dir / "photo.raw").write_bytes(original)

    logged_in.ok("mkdir", "-p", "/Pictures/2026")
    summary = put_json(logged_in, "photo.raw", "/Pictures/2026")
    assert summary["path"] == "/Pictures/2026/photo.raw"
    assert summary["bytes_sent"] == len(original)
    listing = logged_in.ok("ls", "/Pictures/2026")
    assert "photo.raw" in listing
    assert "3.2 MB"  # 3,158,073 bytes: SI units in listing
    assert "2026/" in logged_in.ok("ls", "Pictures")

    target = tmp_path / "downloads"
    target.mkdir()
    logged_in.ok("get", "/Pictures/2026/photo.raw", str(target))
    assert (target / "photo.raw").read_bytes() == original
    assert [p.name for p in target.iterdir()] == ["photo.raw"]  # no temp file left behind


def test_a_second_put_of_a_changed_file_sends_only_the_changed_chunks(logged_in: Cli) -> None:
    local = logged_in.work_dir / "thesis.bin"
    content = bytearray(os.urandom(4 * MIB))
    local.write_bytes(content)
    first = put_json(logged_in, "thesis.bin")
    assert first["version"] == 1
    assert first["bytes_sent"] == len(content)

    content[2 * MIB : 2 * MIB + 4096] = os.urandom(4096)
    local.write_bytes(content)
    second = put_json(logged_in, "thesis.bin")
    assert second["version"] == 2
    assert isinstance(second["bytes_sent"], int)
    assert 0 < second["bytes_sent"] <= 256 * 1024
    # A cut the edit moved can move the next few too (one within the minimum chunk size of a
    # moved start is skipped), so a handful of the file's ~170 chunks, rarely more than three:
    # 8 was seen once in a few hundred runs.
    assert 1 <= second["chunks_sent"] <= 10

    unchanged = put_json(logged_in, "thesis.bin", "/thesis copy.bin")
    assert unchanged["bytes_sent"] == 0

    logged_in.ok("get", "thesis.bin", "back.bin")
    assert (logged_in.work_dir / "back.bin").read_bytes() == bytes(content)


def test_move_remove_versions_and_restore(logged_in: Cli) -> None:
    local = logged_in.work_dir / "notes.txt"
    local.write_text("first draft\n")
    logged_in.ok("put", "notes.txt")
    local.write_text("second draft, much better\n")
    logged_in.ok("put", "notes.txt")

    history = json.loads(logged_in.ok("versions", "--json", "/notes.txt"))
    assert [(v["number"], v["current"]) for v in history] == [(2, True), (1, False)]
    assert "current" in logged_in.ok("versions", "/notes.txt")

    assert "now version 3" in logged_in.ok("restore", "/notes.txt")
    logged_in.ok("get", "/notes.txt", "restored.txt")
    assert (logged_in.work_dir / "restored.txt").read_text() == "first draft\n"
    logged_in.ok("get", "/notes.txt", "v2.txt", "--version", "2")
    assert (logged_in.work_dir / "v2.txt").read_text() == "second draft, much better\n"

    logged_in.ok("mkdir", "Archive")
    again = logged_in("mkdir", "archive")
    assert again.returncode == 4
    assert "already exists" in one_line_error(again)
    assert "/Archive/notes.txt" in logged_in.ok("mv", "notes.txt", "/Archive")
    logged_in.ok("mv", "/Archive/notes.txt", "/Archive/old notes.txt")
    assert "old notes.txt" in logged_in.ok("ls", "/Archive")

    logged_in.ok("rm", "/Archive/old notes.txt")
    assert logged_in.ok("ls", "/Archive") == "/Archive is empty.\n"
    assert "from the trash" in logged_in.ok("restore", "/Archive/old notes.txt")
    assert "old notes.txt" in logged_in.ok("ls", "/Archive")


# --- failures ----------------------------------------------------------------------------------


def test_commands_without_a_login_say_how_to_log_in(cli: Cli) -> None:
    result = cli("ls")
    assert result.returncode == 5
    assert "sfs login" in one_line_error(result)


def test_a_revoked_token_asks_to_log_in_again(logged_in: Cli, file_server: FileServer) -> None:
    revoked = httpx.post(
        f"{file_server.url}/api/v1/auth/logout",
        headers={"Authorization": f"Bearer {logged_in.token()}"},
    )
    assert revoked.status_code == 204
    result = logged_in("ls")
    assert result.returncode == 5
    assert "log in again with sfs login" in one_line_error(result)


def test_logout_revokes_the_token_and_forgets_it(logged_in: Cli, file_server: FileServer) -> None:
    token = logged_in.token()
    logged_in.ok("logout")
    assert not (logged_in.config_dir / CREDENTIALS_FILE).exists()
    me = httpx.get(f"{file_server.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401


def test_a_missing_remote_file_is_one_line_and_exit_code_3(logged_in: Cli) -> None:
    result = logged_in("get", "/no such file.txt")
    assert result.returncode == 3
    one_line_error(result)
    assert list(logged_in.work_dir.iterdir()) == []


def test_bad_local_input_is_exit_code_2(logged_in: Cli) -> None:
    missing = logged_in("put", "nowhere.txt")
    assert missing.returncode == 2
    assert "nowhere.txt: no such file" in one_line_error(missing)

    (logged_in.work_dir / "folder").mkdir()
    folder = logged_in("put", "folder")
    assert folder.returncode == 2
    assert "is a folder" in one_line_error(folder)

    bad_name = logged_in("mkdir", "/a/../b")
    assert bad_name.returncode == 2
    one_line_error(bad_name)


def test_an_unreachable_server_is_one_line(cli: Cli) -> None:
    result = cli(
        "login",
        f"http://127.0.0.1:{free_port()}",
        "--email",
        "a@b.example.com",
        "--password-stdin",
        stdin=GOOD_PASSWORD,
    )
    assert result.returncode == 1
    assert "cannot reach the server" in one_line_error(result)


def test_login_to_something_that_is_not_a_url_is_exit_code_2(cli: Cli) -> None:
    result = cli(
        "login",
        "files.example.com",
        "--email",
        "a@b.example.com",
        "--password-stdin",
        stdin=GOOD_PASSWORD,
    )
    assert result.returncode == 2
    one_line_error(result)


def test_ls_and_get_show_a_hostile_name_escaped_and_keep_it_out_of_the_folder(
    logged_in: Cli, file_server: FileServer
) -> None:
    # Names the server refuses now, planted in its database as an older server may hold them.
    (logged_in.work_dir / "a.txt").write_bytes(b"bait")
    for remote in ("/title.txt", "/upside.txt"):
        logged_in.ok("put", "a.txt", remote)
    planted = {"title.txt": "x\x1b]0;owned\x07.txt", "upside.txt": "gpj\u202eexe.txt"}
    with file_server.services.database.transaction() as session:
        for old, new in planted.items():
            session.execute(
                update(Node)
                .where(Node.name == old, Node.kind == "file")
                .values(name=new, name_key=name_key(new))
            )

    listing = logged_in.ok("ls", "/")

    assert "x\\x1b]0;owned\\x07.txt" in listing and "gpj\\u202eexe.txt" in listing
    assert "\x1b" not in listing and "\u202e" not in listing and "\x07" not in listing
    refused = logged_in("get", "/gpj\u202eexe.txt")
    assert refused.returncode == 2 and "text direction controls" in one_line_error(refused)
    assert sorted(p.name for p in logged_in.work_dir.iterdir()) == ["a.txt"]


# --- standard streams, empty folders, units ------------------------------------------------------


def test_a_dash_is_standard_output_for_get_and_standard_input_for_put(logged_in: Cli) -> None:
    logged_in.ok("mkdir", "/Notes")
    put = logged_in("put", "-", "/Notes/from a pipe.txt", stdin="piped text\n")
    assert put.returncode == 0, put.stderr
    assert "Uploaded /Notes/from a pipe.txt (version 1, 11 B)" in put.stdout

    got = logged_in("get", "/Notes/from a pipe.txt", "-")

    assert got.returncode == 0, got.stderr
    assert got.stdout == "piped text\n"  # the content alone: no "Downloaded …" line mixed in
    assert list(logged_in.work_dir.iterdir()) == []  # no file named "-"
    nameless = logged_in("put", "-", stdin="x")
    assert nameless.returncode == 2
    assert "give the file's name on the server: sfs put - PATH" in one_line_error(nameless)
    onto_a_folder = logged_in("put", "-", "/Notes", stdin="x")
    assert onto_a_folder.returncode == 1 and "is a folder" in one_line_error(onto_a_folder)


def test_ls_of_an_empty_folder_says_so(logged_in: Cli) -> None:
    assert logged_in.ok("ls").strip() == "/ is empty."
    logged_in.ok("mkdir", "/Empty")
    assert logged_in.ok("ls", "/Empty").strip() == "/Empty is empty."
    assert json.loads(logged_in.ok("ls", "/Empty", "--json")) == []


def test_sizes_are_si_units_as_in_the_portal(logged_in: Cli) -> None:
    (logged_in.work_dir / "three.bin").write_bytes(b"\0" * 3_000_000)
    put = logged_in.ok("put", "three.bin")
    assert "(version 1, 3.0 MB)" in put
    assert logged_in.ok("ls").split()[0] == "3.0" and " MB " in logged_in.ok("ls")
    assert "MiB" not in put + logged_in.ok("versions", "/three.bin")


def test_login_with_a_password_to_change_says_to_change_it_in_the_portal(
    cli: Cli, file_server: FileServer
) -> None:
    user = file_server.new_user()
    with file_server.services.database.transaction() as session:
        session.execute(update(User).where(User.id == user.id).values(must_change_password=True))

    result = cli(
        "login", file_server.url, "--email", user.email, "--password-stdin", stdin=GOOD_PASSWORD
    )

    assert result.returncode == 5
    assert "Change it in the web portal (My account), then log in again" in one_line_error(result)
    assert not (cli.config_dir / CREDENTIALS_FILE).exists()
