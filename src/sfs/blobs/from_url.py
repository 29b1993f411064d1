"""The blob backend a deployment's settings name."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from sfs.blobs.backend import BlobBackend
from sfs.blobs.local import LocalBackend
from sfs.blobs.s3 import S3Backend
from sfs.config import Settings


def backend_from_settings(settings: Settings) -> BlobBackend:
    parts = urlsplit(settings.blob_url)
    if parts.scheme == "s3":
        assert parts.hostname  # checked by the settings
        return S3Backend.connect(
            bucket=parts.hostname,
            prefix=parts.path.strip("/") + "/" if parts.path.strip("/") else "",
            endpoint_url=settings.s3_endpoint_url or None,
            region=settings.s3_region or None,
            access_key_id=settings.s3_access_key_id or None,
            secret_access_key=settings.s3_secret_access_key or None,
        )
    return LocalBackend(Path(parts.path))
