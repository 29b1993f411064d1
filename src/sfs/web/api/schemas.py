"""Wire models of the REST API (kept apart from tables and from domain views)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from sfs.domain.roles import Role, UserStatus
from sfs.services.identity.accounts import UserView


def _integer_only(value: object) -> object:
    """A JSON integer, as the schema says (2 and 2.0): pydantic alone also takes "2" and true."""
    if isinstance(value, bool | str):
        raise PydanticCustomError("int_type", "must be an integer")
    return value


# Put after any Field(ge=, le=) in an Annotated: before them, the schema loses their names.
INTEGER_ONLY = BeforeValidator(_integer_only)
JsonInt = Annotated[int, INTEGER_ONLY]
_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]*)?")


def _text_only(value: object) -> object:
    """ISO 8601 text, as the schema says (format date or date-time): pydantic alone also takes
    a number (of seconds since 1970), in JSON or as a query string."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise PydanticCustomError("iso_text", "must be ISO 8601 text, not a number")
    return value


TEXT_ONLY = BeforeValidator(_text_only)


class Problem(BaseModel):
    code: str = Field(description="stable, machine-readable")
    message: str = Field(description="for people")
    field: str | None = None


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)
    device_name: str = Field(default="API client", max_length=100)


class LoginResponse(BaseModel):
    """Either a token, or (when the account has a second factor) a challenge to answer first."""

    token: str | None = Field(
        default=None, description="send as 'Authorization: Bearer <token>'; shown only once"
    )
    token_type: str = "bearer"  # noqa: S105
    device_id: uuid.UUID | None = None
    user: UserOut | None = None
    second_factor: SecondFactorChallenge | None = Field(
        default=None,
        description="present instead of a token: answer it at /auth/login/second-factor",
    )


class SecondFactorChallenge(BaseModel):
    challenge: str = Field(description="opaque; valid 30 minutes")
    method: str = Field(description="'totp' (authenticator app) or 'email' (a code was mailed)")
    message: str = Field(
        default="",
        description="for the person logging in: where the code is, and for an emailed code when "
        "the one that works was sent and until when it is valid (a throttled login mails none)",
    )


class SecondFactorAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    challenge: str = Field(max_length=200)
    code: str = Field(max_length=64)
    device_name: str = Field(default="API client", max_length=100)


class ChallengeOnly(BaseModel):
    model_config = ConfigDict(extra="forbid")

    challenge: str = Field(max_length=200)


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    display_name: str
    role: Role
    status: UserStatus
    organization_id: uuid.UUID | None
    organization_name: str | None
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, view: UserView) -> UserOut:
        return cls(
            id=view.id,
            email=view.email,
            display_name=view.display_name,
            role=view.role,
            status=view.status,
            organization_id=view.organization_id,
            organization_name=view.organization_name,
            created_at=view.created_at,
            last_login_at=view.last_login_at,
        )


class CreateUserRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    display_name: str = Field(max_length=200)
    password: str = Field(max_length=1024)
    role: Role = Role.USER


class DeviceOut(BaseModel):
    id: uuid.UUID
    name: str
    created_at: datetime
    last_used_at: datetime | None
    current: bool


LoginResponse.model_rebuild()
