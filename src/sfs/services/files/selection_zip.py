"""Several files and folders of one folder as one ZIP, streamed as it is made (no copy kept).

The selection is walked first, so one over the limits is refused (TooLarge) before a byte is
sent; the archive itself is written by the same streaming writer as a share link's ZIP.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence

from sfs.domain.actor import Actor
from sfs.domain.errors import InvalidInput, NotFound, TooLarge
from sfs.i18n import N_
from sfs.metadata.db import Database
from sfs.protocol.paths import join_path
from sfs.services.files.content import FileContentService
from sfs.services.files.nodes import FOLDER, checked_name, live_child, parse_path, resolve_folder
from sfs.services.files.spaces import visible_space
from sfs.services.sharing.zip_stream import ZipEntry, stream_zip
from sfs.services.sharing.zip_walk import walk_folder

ZIP_MAX_BYTES = 4 * 1024**3
ZIP_MAX_ENTRIES = 10_000
MAX_SELECTED = 1000


class SelectionZipService:
    def __init__(
        self,
        database: Database,
        content: FileContentService,
        *,
        max_bytes: int = ZIP_MAX_BYTES,
        max_entries: int = ZIP_MAX_ENTRIES,
    ) -> None:
        self._database = database
        self._content = content
        self.max_bytes = max_bytes
        self.max_entries = max_entries

    def zip_selection(
        self, actor: Actor, *, space_id: uuid.UUID, folder: str, names: Sequence[str]
    ) -> tuple[str, Iterator[bytes]]:
        """(archive name, its bytes as they are made) for the named entries of `folder`."""
        if not names:
            raise InvalidInput(N_("Select at least one file or folder."), field="items")
        if len(names) > MAX_SELECTED:
            raise InvalidInput(f"Select at most {MAX_SELECTED} entries.", field="items")
        base = parse_path(folder)
        entries: list[ZipEntry] = []
        total = 0
        with self._database.transaction() as session:
            space = visible_space(session, actor, space_id)
            parent = resolve_folder(session, space, base)
            for name in dict.fromkeys(names):  # each once, in the order given
                node = live_child(session, parent.id, checked_name(name))
                if node is None:
                    raise NotFound(f"{join_path([*base, name])} does not exist.")
                if node.kind == FOLDER:
                    entries.append(ZipEntry((node.name,), 0, node.modified_at, is_folder=True))
                    below = walk_folder(
                        session,
                        node,
                        max_entries=self.max_entries - len(entries),
                        max_bytes=self.max_bytes - total,
                    )
                    entries += [
                        ZipEntry((node.name, *e.parts), e.size, e.modified_at, e.is_folder)
                        for e in below
                    ]
                    total += sum(e.size for e in below if not e.is_folder)
                else:
                    entries.append(ZipEntry((node.name,), node.size, node.modified_at))
                    total += node.size
                if len(entries) > self.max_entries or total > self.max_bytes:
                    raise TooLarge(
                        N_(
                            "This selection is too large to download as one ZIP "
                            "(at most %(entries)s files and %(gib)s GiB); "
                            "download fewer files at a time."
                        )
                        % {
                            "entries": f"{self.max_entries:,}",
                            "gib": f"{self.max_bytes / 1024**3:g}",
                        }
                    )

        def open_entry(entry: ZipEntry) -> Iterable[bytes]:
            path = join_path([*base, *entry.parts])
            try:
                return self._content.download(actor, space_id=space_id, path=path).body
            except NotFound:
                return []  # deleted since the walk: an empty entry, not a broken archive

        top = base[-1] if base else "files"
        name = f"{names[0]}.zip" if len(names) == 1 else f"{top}.zip"
        return name, stream_zip(entries, open_entry)
