"""EDGE: a rendered digest to `digests/` (atomically) and to its readers by SMTP.

The message is multipart/alternative (plain text first, HTML second, as RFC 2046 §5.1.4 orders them:
the richer part last) with Date and a Message-ID that the caller keeps, so a resent copy carries the same
Message-ID and can be recognised as the same message.
"""

from __future__ import annotations

import errno
import os
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol

from ..config.load import EmailSettings
from ..errors import MonitorError

SMTP_TIMEOUT = 30.0


class DeliveryError(MonitorError):
    """The SMTP server could not be reached or refused the message; the digest stays unsent."""


class DeliveryUncertain(DeliveryError):
    """The whole message was transmitted and the server's answer never came (the connection dropped or timed
    out after the final "."): it may have been accepted, so it must not be sent again automatically."""


class DigestFilesError(MonitorError):
    """A week's digest files cannot be written (the folder cannot be made, is a file, is not writable, the
    disk is full). Raised before anything is recorded or sent, so the week is simply produced, and sent,
    once the folder is usable again."""

    def __init__(self, folder: Path, week: str, cause: OSError):
        self.folder = folder
        self.week = week
        if isinstance(cause, (FileExistsError, NotADirectoryError)):
            reason = "a file stands where the folder should be"
        elif isinstance(cause, PermissionError):
            reason = "permission denied"
        else:
            reason = cause.strerror or str(cause)
        super().__init__(
            f"digest {week}: cannot write its files to {folder}/: {reason} ({cause}); nothing was "
            f"sent or recorded; the week is produced once the folder can be written (monitor.digests_dir)"
        )


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the server said of a message it accepted for at least one recipient: the message is sent,
    whatever is listed here. Produced by a `Sender`, recorded by `publish`."""

    refused: tuple[tuple[str, str], ...] = ()  # (recipient, the server's reply): they did not get it
    note: str | None = None  # what went wrong after the message was accepted (a bad answer to QUIT)


class Sender(Protocol):
    def send(self, message: EmailMessage) -> Delivery | None: ...


def write_files(folder: str | Path, week: str, text: str, html: str) -> tuple[Path, Path]:
    """`YYYY-Www.txt` and `.html`, each written to a temporary file and renamed over the old one, so a
    reader never sees half a digest."""
    target = Path(folder)
    try:
        return _write_files(target, week, text, html)
    except OSError as error:
        raise DigestFilesError(target, week, error) from error


def _write_files(target: Path, week: str, text: str, html: str) -> tuple[Path, Path]:
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix, content in (("txt", text), ("html", html)):
        path = target / f"{week}.{suffix}"
        handle, temporary = _new_file(target, f".{week}.", f".{suffix}.tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        paths.append(path)
    return paths[0], paths[1]


def _new_file(folder: Path, prefix: str, suffix: str) -> tuple[int, str]:
    """A new file of a name no one else has, as `tempfile.mkstemp` makes, but created with mode 0666 less
    the umask as any file is (mkstemp's is 0600 whatever the umask: analysts on the host of a Docker or
    systemd install could not read the digests). The umask is applied by the kernel, not read and reset
    here, which would race with the daemon's other threads."""
    for _ in range(100):
        path = folder / f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), str(path)
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary name", str(folder))


def new_message_id(sender: str) -> str:
    return make_msgid(domain=sender.rsplit("@", 1)[-1] or None)


def build_message(
    settings: EmailSettings, subject: str, text: str, html: str, message_id: str, now: datetime
) -> EmailMessage:
    message = EmailMessage()
    # Header values never carry line breaks: a feed title cannot inject a header (the subject is made by
    # `digest.subject_line`, and the policy refuses CR/LF as a second guard).
    message["Subject"] = " ".join(subject.split())
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.to)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


class SmtpSender:
    """Sends through the configured server: STARTTLS, TLS or plain, with a login when a user is set."""

    def __init__(self, settings: EmailSettings, environ: dict[str, str] | None = None):
        self.settings = settings
        environ = dict(os.environ) if environ is None else environ
        self.password = environ.get(settings.password_env) if settings.password_env else None
        if settings.user and settings.password_env and self.password is None:
            raise DeliveryError(f"email.password_env names {settings.password_env}, which is not set")

    def send(self, message: EmailMessage) -> Delivery:
        """Raises DeliveryError when no recipient got the message; once the server has accepted it for one,
        it is sent, and what went wrong besides is in the returned Delivery."""
        s = self.settings
        where = f"SMTP server {s.host}:{s.port}"
        try:
            client = self._connect(where)
            transmitted: list[bool] = []
            try:
                transmitted = _watch_transmission(client)
                # smtplib raises only when every recipient was refused or DATA was; refusals of some come
                # back here, after the others have the message.
                refused = client.send_message(message)
            except BaseException as error:
                client.close()
                # No answer (not a refusal, which is an SMTPResponseException) after the whole message went.
                if transmitted and isinstance(error, OSError) and not isinstance(error, smtplib.SMTPResponseException):
                    raise DeliveryUncertain(
                        f"{where} received the whole message but never answered "
                        f"({error or type(error).__name__}): it may have been delivered"
                    ) from error
                raise
        except smtplib.SMTPAuthenticationError as error:
            raise DeliveryError(f"{where} refused the login of {s.user!r}: {_reason(error)}") from error
        except smtplib.SMTPRecipientsRefused as error:
            raise DeliveryError(f"{where} refused every recipient: {_refusals(error.recipients)}") from error
        except smtplib.SMTPNotSupportedError as error:
            raise DeliveryError(f"{where} does not offer STARTTLS; set email.security") from error
        except smtplib.SMTPException as error:
            raise DeliveryError(f"{where}: {_reason(error)}") from error
        except (TimeoutError, OSError) as error:
            raise DeliveryError(f"cannot reach {where}: {error}") from error
        return Delivery(
            refused=tuple((address, _reply(*reply)) for address, reply in refused.items()), note=_quit(client, where)
        )

    def _connect(self, where: str) -> smtplib.SMTP:
        """An open connection, encrypted as `email.security` says and logged in when a user is set. The
        server's certificate is verified (its chain and that it names `email.host`) before the password
        is sent; a certificate that fails is a DeliveryError that says what to fix."""
        s = self.settings
        context = tls_context(s.ca_file)
        try:
            if s.security == "tls":
                client: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=SMTP_TIMEOUT, context=context)
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=SMTP_TIMEOUT)
        except ssl.SSLError as error:
            raise DeliveryError(_tls_failure(where, s, error)) from error
        try:
            if s.security == "starttls":
                client.starttls(context=context)
            if s.user:
                client.login(s.user, self.password or "")
        except ssl.SSLError as error:
            client.close()
            raise DeliveryError(_tls_failure(where, s, error)) from error
        except BaseException:
            client.close()
            raise
        return client


def _watch_transmission(client: smtplib.SMTP) -> list[bool]:
    """Becomes [True] once the message's last line (the lone "." that ends DATA, RFC 5321 §4.1.1.4) has gone to
    the server: from then on, a missing answer means the message may have been accepted. smtplib sends the
    message and its "." in one `send` call and tells no one; this wrapper on the one client instance does."""
    transmitted: list[bool] = []
    send = client.send

    def watched(data: bytes | str) -> None:
        send(data)
        if isinstance(data, bytes) and data.endswith(b"\r\n.\r\n"):
            transmitted.append(True)

    client.send = watched  # type: ignore[method-assign,assignment]
    return transmitted


def _quit(client: smtplib.SMTP, where: str) -> str | None:
    """Say QUIT (RFC 5321 §4.1.1.10). The message is already accepted, so a server that answers anything but
    221, or hangs up, changes nothing about its delivery: it is noted, never raised (which would make the
    week `failed` and a retry send a second copy)."""
    try:
        code, text = client.docmd("QUIT")
    except (smtplib.SMTPException, OSError) as error:
        return f"{where} accepted the message, then dropped the connection at QUIT ({error or type(error).__name__})"
    finally:
        client.close()
    if code != 221:
        return f"{where} accepted the message, then answered QUIT with {_reply(code, text)}"
    return None


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}".strip()


def _refusals(recipients: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{address} ({_reply(*reply)})" for address, reply in recipients.items())


def tls_context(ca_file: str | None = None) -> ssl.SSLContext:
    """Verifying client context: the system's CA certificates (which OpenSSL lets SSL_CERT_FILE and
    SSL_CERT_DIR replace), or only those of `ca_file` for a server signed by a private CA."""
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (ssl.SSLError, OSError) as error:  # checked by the config already; the file may have changed since
        raise DeliveryError(f"email.ca_file {ca_file}: cannot load CA certificates from it: {error}") from error


def _tls_failure(where: str, settings: EmailSettings, error: ssl.SSLError) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        return (
            f"{where}: certificate verify failed: {error.verify_message}; set email.ca_file to "
            f"the CA that signed it (or SSL_CERT_FILE), or fix the server's certificate so that a trusted "
            f"CA signed it for {settings.host!r} (email.host)"
        )
    return (
        f'{where}: TLS failed: {error.reason or error}; check email.security ("tls" for a port such as '
        f'465 that speaks TLS at once, "starttls" for 587) and email.port'
    )


def _reason(error: smtplib.SMTPException) -> str:
    code = getattr(error, "smtp_code", None)
    text = getattr(error, "smtp_error", b"")
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}".strip() if code else str(error)
