"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd), keeping every message it accepts."""

from __future__ import annotations

import asyncio
import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Inbox:
    def __init__(self, reply_delay: float = 0.0) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.reply_delay = reply_delay
        self.received = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        self.received.set()
        # A slow "250 OK" leaves a window in which the message is here but the sender does not know it yet:
        # the moment at-most-once delivery is about.
        await asyncio.sleep(self.reply_delay)
        return "250 OK"


class MailServer:
    def __init__(self, user: str | None = None, password: str | None = None, reply_delay: float = 0.0):
        self.inbox = _Inbox(reply_delay)
        options: dict[str, Any] = {}
        if user:
            def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
                ok = isinstance(data, LoginPassword) and data.login.decode() == user and data.password.decode() == password
                return AuthResult(success=ok, handled=False)
            options = {"authenticator": check, "auth_required": True, "auth_require_tls": False}
        self.port = free_port()  # aiosmtpd's controller cannot be given port 0
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **options)

    @property
    def messages(self) -> list[tuple[list[str], EmailMessage]]:
        return self.inbox.messages

    def start(self) -> MailServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
