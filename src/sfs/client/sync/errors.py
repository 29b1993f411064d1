"""What goes wrong in a pass, and how far it reaches.

Most problems fail one path: it is reported, recorded in the index and retried next pass. A few
end the pass for every path (the server unreachable, the device refused) or stop it before it
starts (the folder bound to another space). The exceptions and the rule that tells the two
apart live here, apart from the engine, the uploads and the downloads that all raise or catch
them, so none of those has to import another for its errors.
"""

from __future__ import annotations

import errno

from sfs.client.api import ApiError


class FileChanged(Exception):
    """The file changed while it was read; it is retried in the next pass."""


class BoundElsewhere(Exception):
    """The folder's index records another server or space: syncing it here would read every
    difference as a change to make, and delete or duplicate files."""


class DiskFull(OSError):
    """The local disk is full: the downloads left in this pass are not even tried."""

    def __init__(self) -> None:
        super().__init__(errno.ENOSPC, "the local disk is full; free some space")


def ends_the_pass(problem: ApiError) -> bool:
    """A revoked device or an unreachable server fails every path alike: the pass stops and
    says so once (and tries again later) instead of failing thousands of paths one by one."""
    return problem.status == 401 or problem.unreachable


def reason_of(problem: Exception) -> str:
    if isinstance(problem, OSError) and problem.strerror:
        # "Permission denied", not "13"; the path is already in the report.
        return problem.strerror[:1].upper() + problem.strerror[1:]
    return str(problem.args[0]) if problem.args else type(problem).__name__
