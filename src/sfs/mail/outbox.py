"""Writes each message as an .eml file into a folder: the embedded default, and easy to inspect."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from sfs.private_files import make_private_folder, open_private, tighten


class OutboxMailer:
    """Messages hold live reset links and email codes: the folder is 0700, each file 0600."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        if folder.is_dir():  # messages written by an earlier version, before the modes
            tighten(folder)
            for written in folder.iterdir():
                tighten(written)

    def send(self, message: EmailMessage) -> None:
        make_private_folder(self.folder)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        final = self.folder / f"{stamp}-{secrets.token_hex(4)}.eml"
        temporary = final.with_suffix(".tmp")
        # Written under a temporary name first so a reader never sees half a message.
        with os.fdopen(open_private(temporary, os.O_WRONLY | os.O_TRUNC), "wb") as handle:
            handle.write(message.as_bytes())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, final)
