"""The `If` header (RFC 4918, 10.4): lists of lock-token and ETag conditions.

The header holds for the request when any one of its lists holds for the resource it names
(the request's own, or the tagged one); a list holds when all its conditions do. Every lock token
named in it counts as submitted, for the locks a write must prove it holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sfs.domain.errors import InvalidInput

# A coded URL or resource tag <...>, an entity tag [...], a list's brackets, or Not.
_TOKEN = re.compile(r'\s*(?:(<[^>]*>)|(\[(?:W/)?"[^"]*"\])|(\()|(\))|(Not)\b)', re.IGNORECASE)


@dataclass(frozen=True)
class Condition:
    negated: bool
    lock_token: str | None = None  # a state token, e.g. "opaquelocktoken:…"
    etag: str | None = None  # quoted, as in a header: "\"abc\""


@dataclass(frozen=True)
class ConditionList:
    resource: str | None  # the tagged URL, or None for the request's resource
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class IfHeader:
    lists: tuple[ConditionList, ...] = field(default_factory=tuple)

    @property
    def lock_tokens(self) -> set[str]:
        return {
            c.lock_token
            for group in self.lists
            for c in group.conditions
            if c.lock_token and not c.negated
        }

    def holds(self, state_of: Callable[[str | None], ResourceState]) -> bool:
        """`state_of(resource)` tells a resource's ETag and lock tokens (None: the request's)."""
        if not self.lists:
            return True
        for group in self.lists:
            state = state_of(group.resource)
            if all(_condition_holds(c, state) for c in group.conditions):
                return True
        return False


@dataclass(frozen=True)
class ResourceState:
    etag: str | None  # quoted; None when the resource does not exist
    lock_tokens: frozenset[str]


def parse_if_header(value: str | None) -> IfHeader:
    """InvalidInput (400) for a header that does not follow the grammar."""
    if value is None or not value.strip():
        return IfHeader()
    lists: list[ConditionList] = []
    resource: str | None = None
    position = 0
    while position < len(value):
        if not value[position:].strip():
            break
        match = _TOKEN.match(value, position)
        if match is None:
            raise _malformed()
        position = match.end()
        coded, _, opening, _, _ = match.groups()
        if coded is not None:  # a resource tag before its lists
            resource = coded[1:-1]
            continue
        if opening is None:
            raise _malformed()
        conditions, position = _conditions(value, position)
        lists.append(ConditionList(resource, tuple(conditions)))
    if not lists:
        raise _malformed()
    return IfHeader(tuple(lists))


def _conditions(value: str, position: int) -> tuple[list[Condition], int]:
    conditions: list[Condition] = []
    negated = False
    while True:
        match = _TOKEN.match(value, position)
        if match is None:
            raise _malformed()
        position = match.end()
        coded, etag, opening, closing, not_ = match.groups()
        if closing is not None:
            if not conditions or negated:
                raise _malformed()
            return conditions, position
        if not_ is not None:
            if negated:
                raise _malformed()
            negated = True
        elif coded is not None:
            conditions.append(Condition(negated, lock_token=coded[1:-1].strip()))
            negated = False
        elif etag is not None:
            conditions.append(Condition(negated, etag=etag[1:-1].removeprefix("W/")))
            negated = False
        else:
            assert opening is not None
            raise _malformed()


def _condition_holds(condition: Condition, state: ResourceState) -> bool:
    if condition.lock_token is not None:
        matched = condition.lock_token in state.lock_tokens
    else:
        matched = state.etag is not None and condition.etag == state.etag
    return matched != condition.negated


def _malformed() -> InvalidInput:
    return InvalidInput("The If header is malformed.", field="If")


def etag_matches(header: str | None, etag: str | None) -> bool:
    """Whether an If-Match / If-None-Match value names the current ETag ('*': any existing)."""
    if header is None or etag is None:
        return False
    for candidate in header.split(","):
        candidate = candidate.strip().removeprefix("W/")
        if candidate == "*" or candidate == etag:
            return True
    return False
