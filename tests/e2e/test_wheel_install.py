"""`pip install` of the built wheel is the whole product: an `sfs serve` installed from it alone
(no work tree on the path, no `make translations`) answers the portal in Dutch.

The wheel is built from a copy of the files git would commit, so a catalogue compiled by hand in
the work tree cannot hide a missing build step. Building uses pip's build isolation (setuptools
and Babel from the package index, as `pip install .` on a server does). The new virtual
environment gets the wheel alone; the libraries it depends on are taken from this test's
environment through a path file, so nothing else is downloaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import httpx

from tests.e2e.test_quick_start import RunningServer

REPOSITORY = Path(__file__).resolve().parents[2]


def _committable_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPOSITORY,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (REPOSITORY / name).is_file()]


def _build_wheel(workspace: Path) -> Path:
    source = workspace / "source"
    for name in _committable_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPOSITORY / name, source / name)
    assert not list(source.rglob("*.mo")), "compiled catalogues must not be in the sources"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(workspace), "."],
        cwd=source,
        check=True,
    )
    (wheel,) = workspace.glob("sfs-*.whl")
    return wheel


class InstalledServer(RunningServer):
    """`sfs serve` from the given virtual environment, with nothing of the work tree on its path."""

    def __init__(self, venv: Path, data_dir: Path) -> None:
        self.venv = venv
        super().__init__(data_dir)

    def _start(self) -> subprocess.Popen[bytes]:
        self.environment.pop("PYTHONPATH", None)
        return subprocess.Popen(
            [str(self.venv / "bin" / "sfs"), "serve"],
            env=self.environment,
            cwd=self.data_dir.parent,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
        )


def test_the_installed_wheel_serves_the_dutch_portal(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert "sfs/web/portal/locale/nl/LC_MESSAGES/messages.mo" in names
    assert "sfs/web/portal/templates/login.html" in names
    assert "sfs/web/portal/static/portal.css" in names
    assert "sfs/metadata/migrations/env.py" in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    venv_python = venv / "bin" / "python"
    # A bare path line (not `import site`): the dependencies, but not this environment's own
    # path files, which would put the work tree's `sfs` on the path.
    purelib = subprocess.run(
        [str(venv_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout.strip()
    # The wheel first, with nothing else on the path: pip would take any sfs it sees (this
    # environment's, the work tree's) as installed already.
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "--python", str(venv_python), "install", "-q"),
            *("--no-deps", "--no-index", str(wheel)),
        ],
        check=True,
        env=clean,
        cwd=tmp_path,
    )
    Path(purelib, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    where = subprocess.run(
        [str(venv_python), "-c", "import sfs; print(sfs.__file__)"],
        capture_output=True,
        check=True,
        text=True,
        env=clean,
        cwd=tmp_path,
    ).stdout.strip()
    assert where.startswith(purelib), where

    server = InstalledServer(venv, tmp_path / "sfs-data")
    try:
        server.wait_until_ready()
        login = httpx.get(f"{server.base_url}/login", headers={"Accept-Language": "nl-NL"})
        assert login.status_code == 200
        assert 'lang="nl"' in login.text
        assert "Inloggen" in login.text
        english = httpx.get(f"{server.base_url}/login", headers={"Accept-Language": "en"})
        assert "Inloggen" not in english.text
        assert httpx.get(f"{server.base_url}/static/portal.css").status_code == 200
    finally:
        server.stop()
