"""Numbers and times of the API with the ranges of `sfs.protocol.limits`, checked as a request is
parsed (422 naming the field) and written into the OpenAPI schema. The services check the same
ranges again, for the doors that do not come through here."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from sfs.protocol.limits import (
    EARLIEST_DAY,
    LATEST_DAY,
    MAX_SEQUENCE,
    MAX_VERSION,
    TIME_WINDOW_TEXT,
    in_day_window,
    in_time_window,
)

_TIME_RULE = f"with a time zone offset, {TIME_WINDOW_TEXT}"
_DAY_RULE = f"from {EARLIEST_DAY.isoformat()} to {LATEST_DAY.isoformat()}"


def _in_time_window(value: datetime) -> datetime:
    if not in_time_window(value):
        raise PydanticCustomError("time_window", f"must be a time {_TIME_RULE}")
    return value


def _in_day_window(value: date | None) -> date | None:
    if value is not None and not in_day_window(value):
        raise PydanticCustomError("day_window", f"must be a day {_DAY_RULE}")
    return value


def _optional_time_in_window(value: datetime | None) -> datetime | None:
    return None if value is None else _in_time_window(value)


# In a JSON body.
VersionNumber = Annotated[int, Field(ge=1, le=MAX_VERSION)]
FileTime = Annotated[
    datetime, AfterValidator(_in_time_window), Field(description=f"a file's mtime, {_TIME_RULE}")
]

# In a query string.
VersionQuery = Annotated[
    int | None, Query(ge=1, le=MAX_VERSION, description="a version number; the current by default")
]
FileTimeQuery = Annotated[
    datetime | None,
    AfterValidator(_optional_time_in_window),
    Query(description=f"the file's mtime, {_TIME_RULE}"),
]
DayQuery = Annotated[date | None, AfterValidator(_in_day_window)]  # add Query(description=…)
SequenceQuery = Annotated[int, Query(ge=0, le=MAX_SEQUENCE)]
