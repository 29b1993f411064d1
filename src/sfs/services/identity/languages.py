"""Which language a signed-in user chose for the portal and their emails."""

from __future__ import annotations

from sqlalchemy import select

from sfs.domain.actor import OPERATOR_USER_ID, Actor
from sfs.i18n import LANGUAGES
from sfs.metadata.db import Database
from sfs.metadata.models import User


class LanguagePreferences:
    def __init__(self, database: Database) -> None:
        self._database = database

    def chosen_by(self, actor: Actor) -> str | None:
        """The actor's own choice (`en` or `nl`), or None when they have not made one."""
        if actor.user_id == OPERATOR_USER_ID:
            return None
        with self._database.transaction() as session:
            query = select(User.language).where(User.id == actor.user_id)
            language = session.scalars(query).first()
        return language if language in LANGUAGES else None
