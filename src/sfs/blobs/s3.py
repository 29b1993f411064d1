"""Blobs in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, …), at any endpoint URL.

A PUT is atomic in S3: an object is visible whole or not at all. Reads of one chunk are ranged
GETs, so reading 40 KiB out of a 16 MiB pack transfers 40 KiB.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from sfs.blobs.backend import BlobNotFound, check_name, check_range

_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}


def _is_not_found(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in _NOT_FOUND


class S3Backend:
    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        """`client` is a boto3 S3 client; `prefix` (e.g. `"sfs/"`) is put before every name."""
        self._client = client
        self.bucket = bucket
        self.prefix = prefix

    @classmethod
    def connect(
        cls,
        *,
        bucket: str,
        endpoint_url: str | None = None,
        prefix: str = "",
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> S3Backend:
        """A backend on a new client; credentials not given come from boto3's usual chain."""
        client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(retries={"max_attempts": 5, "mode": "standard"}),
        )
        return cls(client, bucket, prefix)

    def _key(self, name: str) -> str:
        return self.prefix + check_name(name)

    def put(self, name: str, data: bytes | bytearray) -> None:
        self._client.put_object(Bucket=self.bucket, Key=self._key(name), Body=data)

    def get(self, name: str, offset: int = 0, length: int | None = None) -> bytes:
        check_range(offset, length)
        key = self._key(name)
        if length == 0 or (length is None and offset > 0):
            # An empty range is not expressible in HTTP; an open range past the end is a 416.
            size = self.size(name)
            if length == 0 or offset >= size:
                return b""
        extra: dict[str, str] = {}
        if offset or length is not None:
            last = "" if length is None else str(offset + length - 1)
            extra["Range"] = f"bytes={offset}-{last}"
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=key, **extra)
        except ClientError as error:
            if _is_not_found(error):
                raise BlobNotFound(name) from None
            if str(error.response.get("Error", {}).get("Code")) == "InvalidRange":
                return b""  # the range starts past the end of the blob
            raise
        body = response["Body"]
        try:
            data: bytes = body.read()
        finally:
            body.close()
        return data

    def delete(self, name: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=self._key(name))

    def exists(self, name: str) -> bool:
        try:
            self.size(name)
        except BlobNotFound:
            return False
        return True

    def size(self, name: str) -> int:
        try:
            response = self._client.head_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError as error:
            if _is_not_found(error):
                raise BlobNotFound(name) from None
            raise
        return int(response["ContentLength"])

    def modified(self, name: str) -> datetime:
        try:
            response = self._client.head_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError as error:
            if _is_not_found(error):
                raise BlobNotFound(name) from None
            raise
        written: datetime = response["LastModified"]
        return written.astimezone(UTC)

    def list(self, prefix: str = "") -> Iterator[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            for item in page.get("Contents", []):
                yield str(item["Key"])[len(self.prefix) :]
