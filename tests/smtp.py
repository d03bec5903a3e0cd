"""A real SMTP server for the tests (aiosmtpd on a free loopback port) and what it received."""

from __future__ import annotations

import email
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.policy import default as default_policy


class Inbox:
    """What the SMTP server received: one entry per recipient of each message."""

    def __init__(self):
        self.messages: list[tuple[str, email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=default_policy)
        for rcpt in envelope.rcpt_tos:
            self.messages.append((rcpt, parsed))
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for rcpt, m in self.messages if rcpt == address]

    def recipients(self) -> list[str]:
        return sorted(rcpt for rcpt, _m in self.messages)

    def wait_for(self, n: int, seconds: float = 10) -> None:
        deadline = time.monotonic() + seconds
        while len(self.messages) < n and time.monotonic() < deadline:
            time.sleep(0.05)


def body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def smtp_server(app, monkeypatch) -> Iterator[Inbox]:
    """Start the server and point the app at it (no Redis: e-mails go out in-process)."""
    from aiosmtpd.controller import Controller

    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", controller.port)
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    try:
        yield handler
    finally:
        controller.stop()
