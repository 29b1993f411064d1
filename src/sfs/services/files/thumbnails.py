"""Thumbnails of images for the Files page: made from the decrypted content, kept sealed.

A thumbnail is made once per version and edge, from the file's content as the reader may read
it (the same scoping as a download), and kept in the `thumbnails` table sealed under the
organisation's data key, never as plain bytes on disk. An image that is too large, damaged or
hostile (a decompression bomb) makes no thumbnail, and that answer is kept as well, so it is
not decoded again.
"""

from __future__ import annotations

import hashlib
import io
import threading
import uuid
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from sfs.crypto.cache_seal import SealedCacheError, open_derived, seal_derived
from sfs.domain.actor import Actor
from sfs.domain.errors import InvalidInput, NotFound
from sfs.metadata.db import Database
from sfs.metadata.file_models import Thumbnail, Version
from sfs.ports import Clock
from sfs.services.files.content import FileContentService
from sfs.services.files.nodes import FILE, parse_path, resolve
from sfs.services.files.spaces import visible_space
from sfs.services.storage.keyring import Keyring

EDGES = (64, 256)
# Names worth trying: anything else is shown with its type's icon and never decoded.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp")
DECODED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP")
MAX_SOURCE_BYTES = 32 * 1024**2
MAX_PIXELS = 50_000_000  # e.g. 8,000 x 6,000; Pillow's own bomb limit is about 89 million
MEDIA_TYPE = "image/webp"
# A decode may hold a 32 MiB source and a 50-megapixel image at once: a page of a thousand images
# (or someone asking for them on purpose) makes them one or two at a time, not all together.
MAX_DECODES = 2


@dataclass(frozen=True)
class ThumbnailImage:
    data: bytes
    media_type: str
    etag: str


def may_have_thumbnail(name: str) -> bool:
    return name.lower().endswith(IMAGE_SUFFIXES)


class ThumbnailService:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        keyring: Keyring,
        content: FileContentService,
        *,
        max_source_bytes: int = MAX_SOURCE_BYTES,
        max_pixels: int = MAX_PIXELS,
        max_decodes: int = MAX_DECODES,
    ) -> None:
        self._database = database
        self._clock = clock
        self._keyring = keyring
        self._content = content
        self.max_source_bytes = max_source_bytes
        self.max_pixels = max_pixels
        self._decoding = threading.BoundedSemaphore(max_decodes)

    def thumbnail(
        self, actor: Actor, *, space_id: uuid.UUID, path: str, edge: int
    ) -> ThumbnailImage:
        """The current version's thumbnail; NotFound when the file makes none (or the reader
        may not see it: the same answer, so nothing is told about another's files)."""
        if edge not in EDGES:
            raise InvalidInput(
                f"A thumbnail is {' or '.join(map(str, EDGES))} pixels.", field="size"
            )
        with self._database.transaction() as session:
            space = visible_space(session, actor, space_id)
            node = resolve(session, space, parse_path(path))
            if (
                node.kind != FILE
                or node.current_version_id is None
                or not may_have_thumbnail(node.name)
                or node.size > self.max_source_bytes
            ):
                raise NotFound("This file has no thumbnail.")
            version = session.get(Version, node.current_version_id)
            assert version is not None
            number, version_id, organization_id = version.number, version.id, space.organization_id
            cached = session.scalars(
                select(Thumbnail).where(Thumbnail.version_id == version_id, Thumbnail.edge == edge)
            ).one_or_none()
            found = (cached.sealed,) if cached is not None else None
        keys = self._keyring.keys_for(organization_id)
        label = _label(version_id, edge)
        if found is not None:
            if found[0] is None:
                raise NotFound("This file has no thumbnail.")
            try:
                return _image(open_derived(keys, label, found[0]), version_id, edge)
            except SealedCacheError:
                pass  # altered at rest: made again below, and the row replaced
        with self._decoding:
            download = self._content.download(actor, space_id=space_id, path=path, version=number)
            data = self._make(b"".join(download.body), edge)
        self._keep(
            version_id, edge, organization_id, seal_derived(keys, label, data) if data else None
        )
        if data is None:
            raise NotFound("This file has no thumbnail.")
        return _image(data, version_id, edge)

    def _make(self, source: bytes, edge: int) -> bytes | None:
        """The image scaled to fit `edge`, as WebP; None for anything that is not a sound image
        of a sane size. The pixel count is checked from the header, before any decoding."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(source), formats=DECODED_FORMATS) as image:
                    width, height = image.size
                    if width * height > self.max_pixels or width < 1 or height < 1:
                        return None
                    image.draft("RGB", (edge, edge))  # JPEG: decode at a fraction of the size
                    image.thumbnail((edge, edge))
                    converted = image.convert("RGBA" if _has_alpha(image) else "RGB")
                    out = io.BytesIO()
                    converted.save(out, format="WEBP", quality=80)
                    return out.getvalue()
        except (
            UnidentifiedImageError,
            Image.DecompressionBombError,
            Image.DecompressionBombWarning,
            OSError,
            ValueError,
            SyntaxError,  # raised by some of Pillow's parsers on broken headers
        ):
            return None

    def _keep(
        self, version_id: uuid.UUID, edge: int, organization_id: uuid.UUID, sealed: bytes | None
    ) -> None:
        try:
            with self._database.transaction() as session:
                if session.get(Version, version_id) is None:
                    return  # purged meanwhile: nothing to keep
                row = session.get(Thumbnail, (version_id, edge))
                if row is None:
                    session.add(
                        Thumbnail(
                            version_id=version_id,
                            edge=edge,
                            organization_id=organization_id,
                            sealed=sealed,
                            created_at=self._clock.now(),
                        )
                    )
                else:
                    row.sealed = sealed
        except IntegrityError:
            pass  # two requests made the same thumbnail; the other one kept it


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _label(version_id: uuid.UUID, edge: int) -> bytes:
    return b"thumbnail/" + version_id.bytes + edge.to_bytes(4, "big")


def _image(data: bytes, version_id: uuid.UUID, edge: int) -> ThumbnailImage:
    etag = hashlib.sha256(_label(version_id, edge)).hexdigest()[:32]
    return ThumbnailImage(data=data, media_type=MEDIA_TYPE, etag=etag)
