"""The emails about devices, each in its recipient's language: a new device signed in, and a
remote wipe done.

Sent once the change is committed, in order with the caller's other mail. A notice is not worth
failing a login or a wipe confirmation for: one the mail server refuses is logged, not raised.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from email.message import EmailMessage

from sfs.domain.user_agents import describe
from sfs.i18n import translator
from sfs.metadata.db import Database
from sfs.metadata.models import User
from sfs.services.notifications import Notifier

DEVICES_PAGE = "/account/devices"
_log = logging.getLogger(__name__)


class DeviceMail:
    def __init__(self, database: Database, notifier: Notifier) -> None:
        self._database = database
        self._notifier = notifier

    def new_device(
        self,
        user_id: uuid.UUID,
        *,
        device_name: str,
        app_password: bool,
        address: str | None,
        user_agent: str | None,
    ) -> None:
        """Tell the user a new device (or app password) can now reach their files."""

        def prepare() -> EmailMessage | None:
            recipient = self._recipient(user_id)
            if recipient is None:
                return None
            email, name, language = recipient
            _ = translator(language)
            software = software_label(user_agent)
            lines = [
                _("Hello %(name)s,") % {"name": name},
                "",
                (
                    _('A new app password "%(device)s" was created for your account.')
                    if app_password
                    else _('A new device "%(device)s" signed in to your account.')
                )
                % {"device": device_name},
                _("Address: %(address)s") % {"address": address or "—"},
                _("Software: %(software)s") % {"software": software},
                "",
                _(
                    "If this was not you, revoke or wipe it on the Devices page and change "
                    "your password: %(link)s"
                )
                % {"link": self._notifier.link(DEVICES_PAGE)},
            ]
            return self._notifier.compose(
                to=email,
                subject=_("A new device can reach your Secure File Sync files"),
                body="\n".join(lines) + "\n",
            )

        self._send(prepare)

    def wipe_done(
        self,
        owner_id: uuid.UUID,
        *,
        device_name: str,
        requested_by: uuid.UUID | None,
        kept: int | None,
    ) -> None:
        """Tell the device's owner, and whoever asked for the wipe if someone else, that the
        device erased what it held."""
        recipients = [owner_id]
        if requested_by is not None and requested_by != owner_id:
            recipients.append(requested_by)
        for recipient_id in recipients:
            self._send(
                lambda user_id=recipient_id: self._wipe_message(  # type: ignore[misc]
                    user_id, owner_id=owner_id, device_name=device_name, kept=kept
                )
            )

    def _send(self, prepare: Callable[[], EmailMessage | None]) -> None:
        try:
            message = prepare()
            if message is not None:
                self._notifier.deliver(message)
        except Exception:  # the change it tells of is committed; the mail is a courtesy
            _log.exception("Could not send a device notice")

    def _wipe_message(
        self, user_id: uuid.UUID, *, owner_id: uuid.UUID, device_name: str, kept: int | None
    ) -> EmailMessage | None:
        recipient = self._recipient(user_id)
        owner = self._recipient(owner_id)
        if recipient is None or owner is None:
            return None
        email, name, language = recipient
        _ = translator(language)
        whose = (
            _('Your device "%(device)s" was wiped.') % {"device": device_name}
            if user_id == owner_id
            else _('The device "%(device)s" of %(owner)s (%(email)s) was wiped.')
            % {"device": device_name, "owner": owner[1], "email": owner[0]}
        )
        lines = [
            _("Hello %(name)s,") % {"name": name},
            "",
            whose,
            _(
                "It erased the files it had synced from Secure File Sync and its saved login, "
                "and can no longer reach the account."
            ),
        ]
        if kept:
            lines.append(
                _("%(count)s files on it that were never synced were left in place.")
                % {"count": kept}
            )
        lines += ["", _("Devices: %(link)s") % {"link": self._notifier.link(DEVICES_PAGE)}]
        return self._notifier.compose(
            to=email,
            subject=_("A device was wiped"),
            body="\n".join(lines) + "\n",
        )

    def _recipient(self, user_id: uuid.UUID) -> tuple[str, str, str | None] | None:
        with self._database.transaction() as session:
            user = session.get(User, user_id)
            return None if user is None else (user.email, user.display_name, user.language)


def software_label(user_agent: str | None) -> str:
    """`Firefox 128 (Linux)`, `sfs 0.1.0 (Linux)`; `—` when the User-Agent names nothing."""
    software = describe(user_agent)
    parts = [software.client or "", software.version or ""]
    text = " ".join(part for part in parts if part)
    if software.platform:
        text = f"{text} ({software.platform})" if text else software.platform
    return text or "—"
