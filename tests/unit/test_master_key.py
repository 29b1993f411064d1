import os
import stat
from pathlib import Path

import pytest

from sfs.crypto.master_key import MasterKeyError, load_or_create_master_key
from sfs.ports import SystemRandomness


def test_a_key_is_generated_once_with_owner_only_permissions(tmp_path: Path) -> None:
    path = tmp_path / "data" / "master.key"
    first = load_or_create_master_key(path, SystemRandomness())
    assert len(first) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_master_key(path, SystemRandomness()) == first


def test_a_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    load_or_create_master_key(path, SystemRandomness())
    os.chmod(path, 0o644)
    with pytest.raises(MasterKeyError, match="chmod 600"):
        load_or_create_master_key(path, SystemRandomness())


def test_a_damaged_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    path.write_text("c2hvcnQ=\n")
    os.chmod(path, 0o600)
    with pytest.raises(MasterKeyError, match="must be 32 bytes"):
        load_or_create_master_key(path, SystemRandomness())
