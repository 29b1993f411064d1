"""The whole schema: importing this registers every table on `Base.metadata`."""

from __future__ import annotations

from sfs.metadata import (
    dav_models,
    file_models,
    job_models,
    link_models,
    models,
    nextcloud_models,
    share_models,
    team_models,
)

Base = models.Base
__all__ = [
    "Base",
    "dav_models",
    "file_models",
    "job_models",
    "link_models",
    "models",
    "nextcloud_models",
    "share_models",
    "team_models",
]
