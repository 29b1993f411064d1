"""`make install` puts `sfs` on PATH: a symlink in PREFIX/bin to the one in the virtualenv."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import require_tool

ROOT = Path(__file__).resolve().parents[2]
SFS = Path(sys.executable).with_name("sfs")


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """A virtualenv as `make` leaves it (its stamp, its `sfs`), so nothing is installed here."""
    require_tool("make")  # CI fails without it, like every external program a test drives
    folder = tmp_path / "venv"
    (folder / "bin").mkdir(parents=True)
    (folder / ".installed").touch()
    (folder / "bin" / "sfs").symlink_to(SFS)
    return folder


def make(*args: str, path: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": path},
        timeout=60,
    )


def test_make_install_links_sfs_into_prefix_bin(venv: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"

    done = make("install", f"PREFIX={prefix}", f"VENV={venv}", path=os.environ["PATH"])

    assert done.returncode == 0, done.stderr
    installed = prefix / "bin" / "sfs"
    assert installed.is_symlink() and installed.readlink() == venv / "bin" / "sfs"
    assert f"{prefix}/bin is not on your PATH" in done.stdout
    version = subprocess.run(
        ["sfs", "--version"],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{prefix}/bin:{os.environ['PATH']}"},
        timeout=60,
    )
    assert version.returncode == 0 and "version" in version.stdout
    again = make(
        "install", f"PREFIX={prefix}", f"VENV={venv}", path=f"{prefix}/bin:{os.environ['PATH']}"
    )
    assert again.returncode == 0 and "not on your PATH" not in again.stdout
    assert make("uninstall", f"PREFIX={prefix}", path=os.environ["PATH"]).returncode == 0
    assert not installed.exists() and not installed.is_symlink()
