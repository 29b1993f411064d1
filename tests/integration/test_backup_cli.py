"""`sfs admin backup` and `restore` as an operator runs them: what they refuse (with which exit
code, writing nothing), and a restore that brings back every file.

The process-level story (a live server, sync clients ahead of the restored one) is in
tests/e2e/test_backup_restore.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sfs.app import Services
from sfs.cli.main import main
from sfs.config import Settings, load_settings
from sfs.domain.actor import Actor
from sfs.domain.errors import Conflict
from tests.integration.test_admin_storage_cli import (
    Run,
    download,
    open_services,
    run,
    services,
    settings,
    upload,
    user,
)
from tests.support import FakeClock
from tests.world import CLIENT

__all__ = ["run", "services", "settings", "user"]  # fixtures shared with the storage commands


def invoke(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["admin", *args], env={"SFS_DATA_DIR": str(data_dir)})


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_backup_with_its_master_key_restores_every_file(
    settings: Settings, services: Services, user: Actor, run: Run, tmp_path: Path
) -> None:
    upload(services, user, "/report.pdf", b"%PDF report" * 5000)
    services.file_tree.create_folder(
        user, space_id=services.spaces.my_files(user).id, path="/notes", client=CLIENT
    )
    upload(services, user, "/notes/todo.txt", b"call the bank\n")
    backup = tmp_path / "backup"
    made = run("admin", "backup", str(backup), "--include-master-key")
    assert made.exit_code == 0, made.output
    assert "holds the master key" in made.output
    manifest = json.loads((backup / "sfs-backup.json").read_text())
    assert manifest["master_key_included"] is True
    assert (backup / "master.key").stat().st_mode & 0o077 == 0

    restored_dir = tmp_path / "restored"
    done = invoke(restored_dir, "restore", str(backup))
    assert done.exit_code == 0, done.output
    checked = invoke(restored_dir, "fsck")
    assert checked.exit_code == 0 and "No damage found." in checked.output
    restored = open_services(load_settings(data_dir=restored_dir), FakeClock())
    try:
        assert download(restored, user, "/report.pdf") == b"%PDF report" * 5000
        assert download(restored, user, "/notes/todo.txt") == b"call the bank\n"
    finally:
        restored.database.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_restore_refuses_a_wrong_key_a_filled_folder_and_a_non_backup(
    services: Services, user: Actor, run: Run, tmp_path: Path
) -> None:
    upload(services, user, "/a.txt", b"a")
    backup = tmp_path / "backup"
    assert run("admin", "backup", str(backup)).exit_code == 0
    again = run("admin", "backup", str(backup))
    assert again.exit_code == 4 and "not an empty folder" in again.output

    other_key = tmp_path / "other" / "master.key"
    assert invoke(other_key.parent, "create-org", "Elsewhere").exit_code == 0  # makes a key
    target = tmp_path / "restored"
    wrong = invoke(target, "restore", str(backup), "--master-key", str(other_key))
    assert wrong.exit_code == 2 and "not the one this backup was made under" in wrong.output
    assert not target.exists() or not any(target.iterdir())

    filled = invoke(other_key.parent, "restore", str(backup), "--master-key", str(other_key))
    assert filled.exit_code == 4

    not_a_backup = tmp_path / "empty"
    not_a_backup.mkdir()
    refused = invoke(target, "restore", str(not_a_backup))
    assert refused.exit_code == 2 and "sfs-backup.json" in refused.output


@pytest.mark.postgresql
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_backup_names_the_procedure_for_postgresql_whose_restore_is_marked(
    run: Run, services: Services, user: Actor, tmp_path: Path
) -> None:
    refused = run("admin", "backup", str(tmp_path / "backup"))
    assert refused.exit_code == 2 and "docs/operations.md" in refused.output
    assert not (tmp_path / "backup").exists()
    space_id = services.spaces.my_files(user).id
    services.file_tree.create_folder(user, space_id=space_id, path="/seen", client=CLIENT)
    marked = run("admin", "mark-restored")  # after pg_restore or PITR
    assert marked.exit_code == 0 and "Moved on the change journals of 1 space(s)" in marked.output
    with pytest.raises(Conflict):
        services.changes.since(user, space_id=space_id, cursor=1)
