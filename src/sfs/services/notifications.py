"""Composing and sending the service's emails. Each use case writes its own message text."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sfs.mail.background import BackgroundMailer
from sfs.ports import Mailer


class Notifier:
    def __init__(self, mailer: Mailer, *, sender: str, base_url: str) -> None:
        self._mailer = mailer
        self.background = BackgroundMailer(mailer)
        self.sender = sender
        self.base_url = base_url

    def link(self, path: str) -> str:
        """An absolute link into the portal, for emails."""
        return f"{self.base_url}{path}"

    def send(self, *, to: str, subject: str, body: str) -> None:
        """Send now: the caller learns whether the mail server took it."""
        self._mailer.send(self.compose(to=to, subject=subject, body=body))

    def deliver(self, message: EmailMessage) -> None:
        """Send a message made with `compose` now."""
        self._mailer.send(message)

    def send_later(self, prepare: Callable[[], EmailMessage | None]) -> None:
        """Run `prepare` on the background sender and send what it returns (None: nothing).

        Returns at once: whatever `prepare` looks up or writes, and whatever the mail server
        does, takes no time of the caller's (see `PasswordResetService.request`)."""
        self.background.submit(prepare)

    def compose(self, *, to: str, subject: str, body: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain="sfs")
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(body)
        return message
