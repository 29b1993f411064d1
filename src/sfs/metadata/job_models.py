"""Background jobs shared by every instance: a lease says who runs one now, the rest when it
last ran (`sfs admin jobs` lists them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sfs.metadata.models import Base
from sfs.metadata.types import UtcDateTime


class BackgroundJob(Base):
    __tablename__ = "background_jobs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The instance running it now, until `lease_until`; a holder that died lets it lapse.
    holder: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_holder: Mapped[str | None] = mapped_column(String(128), nullable=True)
    last_outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)  # ok | failed
    last_summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    runs: Mapped[int] = mapped_column(Integer, default=0)
