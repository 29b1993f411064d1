"""`-` as a file name: `sfs get FILE -` writes to standard output, `sfs put - PATH` reads
standard input, so `sfs` fits in a pipe (`pg_dump | sfs put - backups/db.sql`)."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from sfs.client.api import RemoteNode
from sfs.client.sync.remote import SyncApi
from sfs.client.transfer import NoProgress, TransferError, file_version, version_content

STANDARD_STREAM = "-"


def write_to_stdout(
    api: SyncApi, remote: str, *, version: int | None, out: BinaryIO | None = None
) -> RemoteNode:
    """Stream a file (or one of its versions) to standard output as it arrives. Nothing is
    written when the file is a folder or the version does not exist; a download cut short ends
    in an error (the bytes already written cannot be taken back: the exit code says so)."""
    target = out or sys.stdout.buffer
    node, manifest = file_version(api, remote, version)
    written = 0
    for block in version_content(api, manifest, NoProgress()):
        target.write(block)
        written += len(block)
    target.flush()
    if written != manifest.size:
        raise TransferError(
            f"the download of {node.path} ended after {written} of {manifest.size} bytes"
        )
    return node


@contextmanager
def stdin_as_file(name: str, source: BinaryIO | None = None) -> Iterator[Path]:
    """Standard input, read to its end into a private temporary file named `name` (uploads
    hash a file before they send it, so a pipe is kept whole first); removed afterwards."""
    stream = source or sys.stdin.buffer
    with tempfile.TemporaryDirectory(prefix="sfs-stdin-") as folder:
        path = Path(folder) / name
        with path.open("wb") as copy:
            shutil.copyfileobj(stream, copy, length=1024 * 1024)
        yield path
