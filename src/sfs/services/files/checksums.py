"""Checksums of a file's bytes: the SHA1 kept with each version (Nextcloud clients and rclone
compare it), and what a client may claim with `OC-Checksum` (SHA1, MD5 or ADLER32)."""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass
from typing import Any

from sfs.domain.errors import InvalidInput
from sfs.i18n import N_

CHECKSUM_TYPES = ("SHA1", "MD5", "ADLER32")


class ContentHash:
    """SHA1 or MD5 (hashlib), or ADLER32 (zlib): what OC-Checksum may name."""

    def __init__(self, algorithm: str) -> None:
        self._adler = 1 if algorithm == "ADLER32" else None
        self._hash = None if algorithm == "ADLER32" else hashlib.new(algorithm.lower())

    def update(self, data: bytes) -> None:
        if self._hash is not None:
            self._hash.update(data)
        else:
            assert self._adler is not None
            self._adler = zlib.adler32(data, self._adler)

    def hexdigest(self) -> str:
        if self._hash is not None:
            return self._hash.hexdigest()
        return f"{self._adler:08x}"


@dataclass(frozen=True)
class Checksum:
    """A checksum a client sent with its upload (`OC-Checksum: SHA1:<hex>`)."""

    algorithm: str
    hex_value: str

    @classmethod
    def parse(cls, header: str) -> Checksum:
        algorithm, colon, value = header.strip().partition(":")
        algorithm = algorithm.upper()
        if not colon or algorithm not in CHECKSUM_TYPES:
            raise InvalidInput(
                N_(
                    "OC-Checksum must be one of %(join)s and a hex value.",
                    join=", ".join(CHECKSUM_TYPES),
                ),
                field="OC-Checksum",
            )
        value = value.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{8,128}", value):
            raise InvalidInput(N_("The OC-Checksum value is not hexadecimal."), field="OC-Checksum")
        return cls(algorithm, value)

    def require(self, computed: str) -> None:
        """InvalidInput unless `computed` (this algorithm's hex digest of the bytes) matches."""
        if computed != self.hex_value:
            raise InvalidInput(
                N_(
                    (
                        "The file's %(algorithm)s is %(computed)s, not %(hex_value)s: the "
                        "bytes were damaged on the way. Nothing was changed."
                    ),
                    algorithm=self.algorithm,
                    computed=computed,
                    hex_value=self.hex_value,
                ),
                field="OC-Checksum",
            )


class Hashes:
    """The SHA1 every whole upload gets, and the client's claimed checksum if it names another
    algorithm, computed in one pass over the bytes in order."""

    def __init__(self, claimed: Checksum | None = None, *, sha1: Any | None = None) -> None:
        self.claimed = claimed
        # `sha1`: a hashlib SHA1 to carry on (a chunked upload's running hash), else a new one.
        self._sha1 = sha1 if sha1 is not None else hashlib.sha1(usedforsecurity=False)
        other = claimed is not None and claimed.algorithm != "SHA1"
        self._other = ContentHash(claimed.algorithm) if other and claimed else None

    def update(self, data: bytes) -> None:
        self._sha1.update(data)
        if self._other is not None:
            self._other.update(data)

    def sha1(self) -> str:
        return str(self._sha1.hexdigest())

    def sha1_state(self) -> Any:
        """The hashlib SHA1 object itself, to carry on over more bytes later."""
        return self._sha1

    def verify(self) -> str:
        """The SHA1, once the claimed checksum (if any) is checked: InvalidInput if not equal."""
        sha1 = self.sha1()
        if self.claimed is not None:
            other = self._other.hexdigest() if self._other is not None else sha1
            self.claimed.require(other)
        return sha1
