"""No broadcast: one process serves alone (the SQLite default), and its own commits wake its
waiters directly through `ChangeSignal`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy.orm import Session

from sfs.ports import SpaceIds


class InProcessBroadcast:
    def publish_in(self, session: Session, space_ids: SpaceIds) -> None:
        pass  # nobody else to tell

    def publish_after(self, space_ids: SpaceIds) -> None:
        pass

    async def listen(self, deliver: Callable[[SpaceIds | None], None]) -> None:
        await asyncio.Event().wait()  # nothing ever arrives; runs until cancelled
