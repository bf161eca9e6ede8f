"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd), keeping every message it accepts.

It can also misbehave the ways real servers do: refuse some recipients (550 at RCPT TO), answer each RCPT
slowly, answer QUIT with something other than 221, or drop the connection at QUIT, after it has accepted
the message; or keep the message and hang up without answering the "." that ends it."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Iterable
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def body(message: EmailMessage, subtype: str) -> str:
    """The text of a message's text/`subtype` part (plain or html), which a digest always has."""
    part = message.get_body((subtype,))
    assert part is not None, f"no text/{subtype} part in the message"
    return str(part.get_content())


class _Inbox:
    def __init__(
        self,
        reply_delay: float = 0.0,
        refuse: Iterable[str] = (),
        rcpt_delay: float = 0.0,
        quit_reply: str | None = None,
        drop_at_quit: bool = False,
        drop_at_data: bool = False,
    ) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.reply_delay = reply_delay
        self.refuse = {address.lower() for address in refuse}
        self.rcpt_delay = rcpt_delay
        self.quit_reply = quit_reply
        self.drop_at_quit = drop_at_quit
        self.drop_at_data = drop_at_data
        self.received = threading.Event()
        self.rcpt_seen = threading.Event()  # a delivery has begun: its first RCPT TO arrived

    async def handle_RCPT(
        self,
        server: Any,
        session: Any,
        envelope: Any,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        self.rcpt_seen.set()
        await asyncio.sleep(self.rcpt_delay)
        if address.lower() in self.refuse:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        self.received.set()
        if self.drop_at_data:
            server.transport.abort()  # the message is here; its sender never hears so
        # A slow "250 OK" leaves a window in which the message is here but the sender does not know it yet:
        # the moment at-most-once delivery is about.
        await asyncio.sleep(self.reply_delay)
        return "250 OK"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> Any:
        if self.drop_at_quit:
            server.transport.abort()  # gone without a word, after the 250 for the message
        return self.quit_reply or "221 Bye"


class MailServer:
    def __init__(
        self,
        user: str | None = None,
        password: str | None = None,
        reply_delay: float = 0.0,
        *,
        refuse: Iterable[str] = (),
        rcpt_delay: float = 0.0,
        quit_reply: str | None = None,
        drop_at_quit: bool = False,
        drop_at_data: bool = False,
    ):
        self.inbox = _Inbox(reply_delay, refuse, rcpt_delay, quit_reply, drop_at_quit, drop_at_data)
        options: dict[str, Any] = {}
        if user:

            def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
                ok = (
                    isinstance(data, LoginPassword)
                    and data.login.decode() == user
                    and data.password.decode() == password
                )
                return AuthResult(success=ok, handled=False)

            options = {"authenticator": check, "auth_required": True, "auth_require_tls": False}
        self.port = free_port()  # aiosmtpd's controller cannot be given port 0
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **options)

    @property
    def messages(self) -> list[tuple[list[str], EmailMessage]]:
        return self.inbox.messages

    def copies(self, address: str) -> int:
        """How many messages reached `address`."""
        return sum(address in recipients for recipients, _ in self.messages)

    def start(self) -> Self:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> MailServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _TlsInbox(_Inbox):
    """Also keeps, for each message, whether it came over TLS and who had logged in."""

    def __init__(self) -> None:
        super().__init__()
        self.sessions: list[dict[str, Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mechanism, login = session.auth_data or (None, None)
        self.sessions.append(
            {
                "tls": session.ssl is not None,
                "authenticated": session.authenticated,
                "mechanism": mechanism,
                "login": login,
            }
        )
        return await super().handle_DATA(server, session, envelope)


class _ImplicitTlsSMTP(SMTP):
    """aiosmtpd 1.4 counts a connection as encrypted only after STARTTLS, so with `auth_require_tls` it
    refuses AUTH on a port that speaks TLS from the first byte (aio-libs/aiosmtpd#281). Here a connection
    that arrived through TLS counts as encrypted, as it does on a real port 465."""

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        if transport.get_extra_info("ssl_object") is not None:
            self._tls_protocol = transport
            assert self.session is not None
            self.session.ssl = {"cipher": transport.get_extra_info("cipher")}


class _ImplicitTlsController(Controller):
    def factory(self) -> SMTP:
        return _ImplicitTlsSMTP(self.handler, **self.SMTP_kwargs)


class TlsMailServer(MailServer):
    """A submission server as the shipped config expects one: `mode` "starttls" (port 587: plain until
    STARTTLS, which it requires before anything else) or "tls" (port 465: TLS from the first byte), with
    `certificate` (a trustme leaf) as its own, and a login (LOGIN or PLAIN) that is only offered over TLS."""

    def __init__(
        self,
        certificate: Any,
        mode: str = "starttls",
        user: str = "analyst",
        password: str = "sample-password",
        mechanisms: tuple[str, ...] = ("LOGIN", "PLAIN"),
    ):
        self.inbox = self.tls_inbox = _TlsInbox()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        certificate.configure_cert(context)

        def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            ok = isinstance(data, LoginPassword) and data.login.decode() == user and data.password.decode() == password
            return AuthResult(success=ok, handled=False, auth_data=(mechanism, user) if ok else None)

        options: dict[str, Any] = {
            "authenticator": check,
            "auth_required": True,
            "auth_require_tls": True,
            "auth_exclude_mechanism": [m for m in ("LOGIN", "PLAIN") if m not in mechanisms],
        }
        self.port = free_port()
        if mode == "starttls":
            self.controller = Controller(
                self.inbox, hostname="127.0.0.1", port=self.port, tls_context=context, require_starttls=True, **options
            )
        elif mode == "tls":
            self.controller = _ImplicitTlsController(
                self.inbox, hostname="127.0.0.1", port=self.port, ssl_context=context, **options
            )
        else:
            raise ValueError(f"mode: expected 'starttls' or 'tls', got {mode!r}")

    @property
    def sessions(self) -> list[dict[str, Any]]:
        return self.tls_inbox.sessions
