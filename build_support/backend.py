"""The build backend: setuptools' own, loaded from this folder (pyproject.toml `backend-path`) so
that `catalogues.py` beside it can be named as setuptools' `build_py` command."""

from setuptools.build_meta import *  # noqa: F403
