"""Both mailers deliver a real message: to a local SMTP sink, and to the outbox folder."""

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler

from sfs.mail.background import BackgroundMailer
from sfs.mail.outbox import OutboxMailer
from sfs.mail.smtp import SmtpMailer, SmtpTarget


class Collector(MessageHandler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[bytes] = []

    def handle_message(self, message) -> None:  # type: ignore[no-untyped-def]
        self.messages.append(message.as_bytes())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_sink() -> Iterator[tuple[Collector, int]]:
    collector = Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield collector, port
    finally:
        controller.stop()


def a_message() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Secure File Sync <no-reply@sfs.example.com>"
    message["To"] = "jan@acme.example.com"
    message["Subject"] = "Your code"
    message.set_content("Your code is 123456.")
    return message


def test_the_smtp_mailer_delivers_to_a_server(smtp_sink: tuple[Collector, int]) -> None:
    collector, port = smtp_sink
    SmtpMailer(SmtpTarget.from_url(f"smtp://127.0.0.1:{port}")).send(a_message())
    assert len(collector.messages) == 1
    received = message_from_bytes(collector.messages[0])
    assert received["To"] == "jan@acme.example.com"
    assert "123456" in received.get_payload()


def test_the_background_mailer_delivers_to_a_server_off_the_callers_thread(
    smtp_sink: tuple[Collector, int],
) -> None:
    collector, port = smtp_sink
    background = BackgroundMailer(SmtpMailer(SmtpTarget.from_url(f"smtp://127.0.0.1:{port}")))
    try:
        background.send(a_message())
        background.flush()
    finally:
        background.close()
    assert len(collector.messages) == 1
    assert "123456" in message_from_bytes(collector.messages[0]).get_payload()


def test_the_outbox_mailer_writes_whole_eml_files(tmp_path: Path) -> None:
    OutboxMailer(tmp_path / "outbox").send(a_message())
    files = list((tmp_path / "outbox").iterdir())
    assert [f.suffix for f in files] == [".eml"]
    assert message_from_bytes(files[0].read_bytes())["Subject"] == "Your code"


def test_smtp_urls_are_parsed_with_credentials_and_tls() -> None:
    target = SmtpTarget.from_url("smtp://mailer:s%40cret@mail.example.com:587?starttls=1")
    assert (target.host, target.port, target.starttls) == ("mail.example.com", 587, True)
    assert (target.username, target.password) == ("mailer", "s@cret")
    assert SmtpTarget.from_url("smtps://mail.example.com").port == 465
