"""Numbers and times of the API with the ranges of `sfs.protocol.limits`, checked as a request is
parsed (422 naming the field) and written into the OpenAPI schema. The services check the same
ranges again, for the doors that do not come through here."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import AfterValidator, Field, WithJsonSchema
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
from sfs.web.api.schemas import INTEGER_ONLY, TEXT_ONLY

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


# The windows as patterns, so the schema states them too: exactly for days; for times exactly
# but within 14 hours of either end, where the UTC offset decides.
_YEARS = r"(19[7-9][0-9]|2[01][0-9]{2})"
_DAY = _YEARS + r"-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_CLOCK = r"([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
_ZONE = r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
DAY_PATTERN = f"^{_DAY}$"
TIME_PATTERN = f"^{_DAY}T{_CLOCK}{_ZONE}$"


def _text(format_: str, pattern: str, description: str, *, optional: bool) -> WithJsonSchema:
    text: dict[str, Any] = {"type": "string", "format": format_, "pattern": pattern}
    text["description"] = description
    return WithJsonSchema({"anyOf": [text, {"type": "null"}]} if optional else text)


# In a JSON body.
VersionNumber = Annotated[int, Field(ge=1, le=MAX_VERSION), INTEGER_ONLY]
FileTime = Annotated[
    datetime,
    TEXT_ONLY,
    AfterValidator(_in_time_window),
    _text("date-time", TIME_PATTERN, f"a file's mtime, {_TIME_RULE}", optional=False),
]

# In a query string.
VersionQuery = Annotated[
    int | None, Query(ge=1, le=MAX_VERSION, description="a version number; the current by default")
]
FileTimeQuery = Annotated[
    datetime | None,
    TEXT_ONLY,
    AfterValidator(_optional_time_in_window),
    _text("date-time", TIME_PATTERN, f"the file's mtime, {_TIME_RULE}", optional=True),
    Query(description=f"the file's mtime, {_TIME_RULE}"),
]
DayQuery = Annotated[  # add Query(description=…)
    date | None,
    TEXT_ONLY,
    AfterValidator(_in_day_window),
    _text("date", DAY_PATTERN, f"a day {_DAY_RULE}", optional=True),
]
SequenceQuery = Annotated[int, Query(ge=0, le=MAX_SEQUENCE)]
