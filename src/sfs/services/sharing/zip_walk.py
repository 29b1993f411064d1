"""What a folder's ZIP will hold: its live subtree, walked one level at a time, refused as soon
as it passes the limits (before a byte of the archive is sent)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from sfs.domain.errors import TooLarge
from sfs.i18n import N_
from sfs.metadata.file_models import Node
from sfs.services.files.nodes import FOLDER
from sfs.services.sharing.zip_stream import ZipEntry

BATCH = 500


def walk_folder(
    session: Session, folder: Node, *, max_entries: int, max_bytes: int
) -> list[ZipEntry]:
    entries: list[ZipEntry] = []
    total = 0
    level: list[tuple[uuid.UUID, tuple[str, ...]]] = [(folder.id, ())]
    while level:
        below = dict(level)
        level = []
        ids = list(below)
        for start in range(0, len(ids), BATCH):
            children = session.scalars(
                select(Node)
                .where(Node.parent_id.in_(ids[start : start + BATCH]), Node.deleted_at.is_(None))
                .order_by(Node.name_key)
            ).all()
            for child in children:
                assert child.parent_id is not None
                parts = (*below[child.parent_id], child.name)
                is_folder = child.kind == FOLDER
                entries.append(ZipEntry(parts, child.size, child.modified_at, is_folder))
                total += 0 if is_folder else child.size
                if len(entries) > max_entries or total > max_bytes:
                    raise TooLarge(
                        N_(
                            "This folder is too large to download as one ZIP "
                            "(at most %(entries)s files and %(gib)s GiB); "
                            "download its subfolders or files one by one."
                        )
                        % {"entries": f"{max_entries:,}", "gib": f"{max_bytes / 1024**3:g}"}
                    )
                if is_folder:
                    level.append((child.id, parts))
    return entries
