"""The email that tells a link's creator someone downloaded from it or dropped a file in it,
in the creator's language, on the background sender (a visitor never waits for mail)."""

from __future__ import annotations

import uuid
from email.message import EmailMessage

from sfs.i18n import translator
from sfs.metadata.db import Database
from sfs.metadata.models import User
from sfs.services.notifications import Notifier

FILES_PAGE = "/files"


class LinkMail:
    def __init__(self, database: Database, notifier: Notifier) -> None:
        self._database = database
        self._notifier = notifier

    def activity(
        self, owner_id: uuid.UUID, *, uploaded: bool, name: str, address: str | None
    ) -> None:
        def prepare() -> EmailMessage | None:
            with self._database.transaction() as session:
                user = session.get(User, owner_id)
                if user is None:
                    return None
                email, display_name, language = user.email, user.display_name, user.language
            _ = translator(language)
            what = (
                _('Someone added "%(name)s" through your share link.')
                if uploaded
                else _('Someone downloaded "%(name)s" through your share link.')
            ) % {"name": name}
            lines = [
                _("Hello %(name)s,") % {"name": display_name},
                "",
                what,
                _("Address: %(address)s") % {"address": address or "—"},
                "",
                _("Your files: %(link)s") % {"link": self._notifier.link(FILES_PAGE)},
            ]
            subject = (
                _("A file was added through your link")
                if uploaded
                else _("A file was downloaded through your link")
            )
            return self._notifier.compose(to=email, subject=subject, body="\n".join(lines) + "\n")

        self._notifier.send_later(prepare)
