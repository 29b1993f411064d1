"""The `sfs admin` and `sfs db` commands, in-process, against each database."""

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sfs.cli.main import main
from sfs.metadata import migrate
from tests.support import GOOD_PASSWORD


@pytest.fixture
def run(tmp_path: Path, database_url: str):  # type: ignore[no-untyped-def]
    environment = {
        "SFS_DATA_DIR": str(tmp_path / "data"),
        "SFS_DATABASE_URL": database_url,
        "SFS_PASSWORD_HASH_TIME_COST": "1",
        "SFS_PASSWORD_HASH_MEMORY_KIB": "8192",
    }

    def invoke(*args: str, stdin: str | None = None) -> Result:
        return CliRunner().invoke(main, list(args), input=stdin, env=environment)

    return invoke


def test_an_operator_sets_up_an_organisation(run) -> None:  # type: ignore[no-untyped-def]
    created = run("admin", "create-org", "Acme", "--require-2fa")
    assert created.exit_code == 0, created.output
    assert "Created organisation 'Acme' (region eu" in created.output
    user = run(
        "admin",
        "create-user",
        "--org",
        "acme",
        "--email",
        "Jan@Acme.example.com",
        "--name",
        "Jan Jansen",
        "--role",
        "org_admin",
        "--password-stdin",
        stdin=GOOD_PASSWORD + "\n",
    )
    assert user.exit_code == 0, user.output
    assert "Created Organization Admin jan@acme.example.com in 'Acme'" in user.output
    policy = run("admin", "set-policy", "--org", "Acme", "--require-2fa", "off")
    assert policy.exit_code == 0 and "now not required in 'Acme'" in policy.output
    sharing = run("admin", "set-policy", "--org", "Acme", "--internal-sharing", "off")
    assert sharing.exit_code == 0, sharing.output
    assert "Sharing with colleagues is now not allowed in 'Acme'" in sharing.output
    assert run("admin", "set-policy", "--org", "Acme").exit_code == 2
    listing = run("admin", "list-users", "--org", "Acme")
    assert listing.exit_code == 0
    lines = listing.output.splitlines()
    assert lines[0].split() == ["EMAIL", "NAME", "ROLE", "STATUS", "ORGANISATION"]
    assert lines[1].split() == [
        "jan@acme.example.com",
        "Jan",
        "Jansen",
        "org_admin",
        "active",
        "Acme",
    ]


@pytest.mark.parametrize(
    ("args", "stdin", "exit_code", "message"),
    [
        (("admin", "create-org", "Acme"), None, 4, "already exists"),
        (("admin", "create-org", "X" * 200), None, 2, "too long"),
        (("admin", "create-org", "Other", "--region", "e u"), None, 2, "Region 'e u' is not valid"),
        (
            ("admin", "set-policy", "--org", "Nowhere", "--require-2fa", "on"),
            None,
            3,
            "No organisation named 'Nowhere'",
        ),
        (("admin", "list-users", "--org", "Nowhere"), None, 3, "No organisation named"),
        (
            (
                "admin",
                "create-user",
                "--org",
                "Acme",
                "--email",
                "bad",
                "--name",
                "B",
                "--password-stdin",
            ),
            GOOD_PASSWORD,
            2,
            "Not a valid email address",
        ),
        (
            (
                "admin",
                "create-user",
                "--org",
                "Acme",
                "--email",
                "b@acme.example.com",
                "--name",
                "B",
                "--password-stdin",
            ),
            "password1234",
            2,
            "too easy to guess",
        ),
        (
            (
                "admin",
                "create-user",
                "--org",
                "Acme",
                "--email",
                "b@acme.example.com",
                "--name",
                "B",
                "--password-stdin",
            ),
            "",
            2,
            "no password on standard input",
        ),
        (
            (
                "admin",
                "create-user",
                "--org",
                "Acme",
                "--email",
                "b@acme.example.com",
                "--name",
                "B",
            ),
            GOOD_PASSWORD,
            2,
            "--password-stdin",
        ),
    ],
)
def test_bad_input_exits_with_a_precise_code_and_message(  # type: ignore[no-untyped-def]
    run, args: tuple[str, ...], stdin: str | None, exit_code: int, message: str
) -> None:
    assert run("admin", "create-org", "Acme").exit_code == 0
    result = run(*args, stdin=stdin)
    assert result.exit_code == exit_code, result.output
    assert message in result.output
    assert result.output.count("\n") <= 2  # a one-line reason, no traceback
    assert "b@acme.example.com" not in run("admin", "list-users").output


def test_the_password_is_never_an_argument(run) -> None:  # type: ignore[no-untyped-def]
    result = run("admin", "create-user", "--help")
    assert "--password-stdin" in result.output
    assert "--password " not in result.output


def test_db_upgrade_reports_the_revision(run) -> None:  # type: ignore[no-untyped-def]
    result = run("db", "upgrade")
    assert result.exit_code == 0
    assert f"revision {migrate.head_revision()}" in result.output


def test_bad_configuration_is_explained(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["admin", "list-users"], env={"SFS_DATA_DIR": str(tmp_path), "SFS_PORT": "0"}
    )
    assert result.exit_code == 78
    assert "SFS_PORT: Input should be greater than or equal to 1" in result.output
