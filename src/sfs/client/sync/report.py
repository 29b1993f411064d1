"""What a pass tells its caller: events as they happen, progress as it goes, a report at the end.

These are the engine's outward types (the CLI shows them, tests read them); the uploads and the
downloads fill them in too, so they sit in a module of their own that imports nothing of the
engine's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

Event = dict[str, Any]


class PassProgress(Protocol):
    """How far a pass is: files and bytes to move, known once the pass has planned."""

    def begin(self, files: int, size: int) -> None: ...
    def advance(self, *, files: int = 0, size: int = 0) -> None: ...
    def end(self) -> None: ...


class NoProgress:
    def begin(self, files: int, size: int) -> None:
        pass

    def advance(self, *, files: int = 0, size: int = 0) -> None:
        pass

    def end(self) -> None:
        pass


@dataclass
class Report:
    uploaded: int = 0
    downloaded: int = 0
    deleted_remote: int = 0
    deleted_local: int = 0
    moved: int = 0
    folders: int = 0
    conflicts: int = 0
    bytes_sent: int = 0  # chunk content
    bytes_sent_total: int = 0  # everything uploaded: chunks, framing, questions, manifests
    bytes_received: int = 0
    bytes_resumed: int = 0  # of downloads, found already written by an interrupted pass
    chunks_sent: int = 0
    chunks_reused: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def absorb(self, later: Report) -> None:
        """Add a later pass's figures to this one's."""
        for name, value in vars(later).items():
            mine = getattr(self, name)
            setattr(self, name, mine + value)

    @property
    def changed_anything(self) -> bool:
        return any(
            (self.uploaded, self.downloaded, self.deleted_remote, self.deleted_local),
        ) or bool(self.moved or self.folders or self.conflicts)
