"""Who a member may share with, found by a few letters: colleagues of their own organisation
(active accounts, by email or name) and its groups (by name), for the share dialogs of the
Nextcloud clients. Nothing of another organisation, and nothing when internal sharing is off.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from sfs.domain.actor import Actor
from sfs.domain.roles import UserStatus
from sfs.metadata.db import Database
from sfs.metadata.models import User
from sfs.metadata.team_models import Group
from sfs.services.sharing.members import member_of_organisation
from sfs.services.sharing.share_grants import sharing_allowed

MAX_FOUND = 50


@dataclass(frozen=True)
class Sharee:
    kind: str  # user | group
    name: str  # what to share with: the email, or the group's name
    label: str  # what to show: the display name, or the group's name


class ShareeSearch:
    def __init__(self, database: Database) -> None:
        self._database = database

    def find(self, actor: Actor, text: str, *, limit: int = MAX_FOUND) -> list[Sharee]:
        """Colleagues (never the actor) then groups whose email or name holds `text`, at most
        `limit` of each, by name; an empty search finds nobody."""
        organization_id = member_of_organisation(actor)
        needle = text.strip().casefold()
        if not needle:
            return []
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        with self._database.transaction() as session:
            if not sharing_allowed(session, organization_id):
                return []
            users = session.scalars(
                select(User)
                .where(
                    User.organization_id == organization_id,
                    User.id != actor.user_id,
                    User.status == UserStatus.ACTIVE.value,
                    or_(
                        func.lower(User.email).like(pattern, escape="\\"),
                        func.lower(User.display_name).like(pattern, escape="\\"),
                    ),
                )
                .order_by(User.display_name, User.email)
                .limit(limit)
            ).all()
            groups = session.scalars(
                select(Group)
                .where(
                    Group.organization_id == organization_id,
                    Group.name_key.like(pattern, escape="\\"),
                )
                .order_by(Group.name_key)
                .limit(limit)
            ).all()
            return [Sharee("user", user.email, user.display_name) for user in users] + [
                Sharee("group", group.name, group.name) for group in groups
            ]
