"""Change broadcasts between instances (the `ChangeBroadcast` port): PostgreSQL LISTEN/NOTIFY,
Redis pub/sub, or none at all when one process serves alone."""

from __future__ import annotations

from sfs.config import Settings
from sfs.ports import ChangeBroadcast


def broadcast_from_settings(settings: Settings) -> ChangeBroadcast:
    """`SFS_CHANGE_NOTIFICATION`, resolved by the settings (auto → postgresql or process)."""
    choice = settings.change_notification
    if choice == "postgresql":
        from sfs.broadcast.postgres import PostgresBroadcast

        return PostgresBroadcast(settings.database_url)
    if choice == "process":
        from sfs.broadcast.process import InProcessBroadcast

        return InProcessBroadcast()
    from sfs.broadcast.redis import RedisBroadcast

    return RedisBroadcast(choice)
