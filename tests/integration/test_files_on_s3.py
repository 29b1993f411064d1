"""The files API with its chunks in S3 (moto_server on 127.0.0.1), not in a local folder.

The main upload, download, dedup and chunk-level tests of `test_files_api` run here again over an
S3 backend (this module's `services` fixture replaces the local-folder one for them), plus the
plaintext test read back from the bucket, plus gc and fsck over S3.
SFS_TEST_REQUIRE_S3=1 (set by .ci/run) makes a missing moto_server a failure.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sfs.app import Services, build_services
from sfs.auth.throttle import RateLimiters
from sfs.blobs.s3 import S3Backend
from sfs.config import Settings
from sfs.crypto.passwords import PasswordHasher
from sfs.mail.outbox import OutboxMailer
from sfs.metadata.db import Database
from sfs.metadata.file_models import Chunk
from sfs.services.storage.maintenance import StorageMaintenance
from tests.integration.test_blob_backends import moto_endpoint
from tests.integration.test_files_api import (
    MARKER,
    auth,
    payload,
    test_an_empty_file_round_trips,
    test_chunk_level_upload_and_commit,
    test_large_uploads_stream_without_a_body_limit,
    test_replacing_needs_the_base_version,
    test_the_same_content_is_stored_once,
    test_upload_and_download_round_trip_with_etag_and_ranges,
    upload,
)
from tests.support import FAST_HASH, FakeClock

__all__ = [
    "auth",
    "moto_endpoint",
    "test_an_empty_file_round_trips",
    "test_chunk_level_upload_and_commit",
    "test_large_uploads_stream_without_a_body_limit",
    "test_replacing_needs_the_base_version",
    "test_the_same_content_is_stored_once",
    "test_upload_and_download_round_trip_with_etag_and_ranges",
]


@pytest.fixture
def bucket(moto_endpoint: str) -> S3Backend:
    name = f"sfs-files-{uuid.uuid4().hex[:12]}"
    backend = S3Backend.connect(
        bucket=name,
        endpoint_url=moto_endpoint,
        prefix="sfs/",
        region="us-east-1",
        access_key_id="testing",
        secret_access_key="testing",
    )
    backend._client.create_bucket(Bucket=name)
    return backend


@pytest.fixture
def services(settings: Settings, clock: FakeClock, bucket: S3Backend) -> Iterator[Services]:
    database = Database.from_url(settings.database_url)
    built = build_services(
        settings,
        database=database,
        clock=clock,
        mailer=OutboxMailer(settings.outbox_dir),
        hasher=PasswordHasher(FAST_HASH),
        limiters=RateLimiters.from_storage_uri("memory://"),
        master_key=bytes(range(32)),
        blob_backend=bucket,
    )
    yield built
    database.dispose()


def test_no_plaintext_name_or_chunk_id_reaches_the_bucket(
    client: TestClient, auth: dict[str, str], services: Services, bucket: S3Backend
) -> None:
    assert upload(client, auth, "/Quarterly-Secrets.txt", payload(100_000)).status_code == 200
    with services.database.transaction() as session:
        ids = list(session.scalars(select(Chunk.chunk_id)))
    names = list(bucket.list())
    assert names and all(name.startswith("packs/") for name in names)
    for name in names:
        raw = bucket.get(name)
        assert MARKER not in raw and b"Quarterly-Secrets" not in raw
        for chunk in ids:
            assert chunk.encode() not in raw and bytes.fromhex(chunk) not in raw
            assert chunk not in name


def test_gc_and_fsck_work_over_s3(
    client: TestClient,
    auth: dict[str, str],
    services: Services,
    bucket: S3Backend,
    clock: FakeClock,
) -> None:
    data = payload(150_000)
    assert upload(client, auth, "/kept.bin", data).status_code == 200
    assert upload(client, auth, "/purged.bin", payload(90_000)).status_code == 200
    deleted = client.delete("/api/v1/spaces/me/node", params={"path": "/purged.bin"}, headers=auth)
    assert deleted.status_code == 204, deleted.text
    (trashed,) = client.get("/api/v1/spaces/me/trash", headers=auth).json()
    purge = client.delete(f"/api/v1/spaces/me/trash/{trashed['id']}", headers=auth)
    assert purge.status_code == 204, purge.text
    maintenance = StorageMaintenance(
        services.database, services.chunk_store, services.keyring, services.clock
    )
    # S3 stamps objects with the real time: move the fake clock past it, and past the rows.
    clock.current = datetime.now(UTC) + timedelta(minutes=1)
    report = maintenance.collect_garbage(grace=timedelta(0))
    assert report.packs_deleted == 1 and report.chunks_deleted > 0
    assert len(list(bucket.list())) == 1
    check = maintenance.check()
    assert check.clean and check.packs_checked == 1 and not check.orphan_packs
    back = client.get("/api/v1/spaces/me/content", params={"path": "/kept.bin"}, headers=auth)
    assert back.content == data
