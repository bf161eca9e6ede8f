"""SMTP over TLS as the shipped config uses it: STARTTLS on 587 and TLS from the first byte (465), against a
real aiosmtpd server on 127.0.0.1 with a certificate made for the test (trustme) and a login it only offers
over TLS. The certificate is always verified: a server the client cannot trust, or one whose certificate
names another host, gets no password and no digest, and the week stays failed until a later run delivers
it. `monitor` runs as a subprocess, as an operator or cron runs it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme

from .helpers import STORIES, THEMES, WEEK, email_section
from .mailserver import TlsMailServer
from .samples import rss

PASSWORD_ENV = "SAMPLE_SMTP_PASSWORD"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_pem(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "sample-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture
def tls_server(ca: trustme.CA) -> Iterator[Callable[..., TlsMailServer]]:
    started: list[TlsMailServer] = []

    def start(mode: str, names: tuple[str, ...] = ("127.0.0.1", "localhost"), **options: object) -> TlsMailServer:
        server = TlsMailServer(ca.issue_cert(*names), mode, **options).start()  # type: ignore[arg-type]
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def setup(feed_server, write_config, run_cli, tmp_path) -> Callable[..., Path]:
    """A config with the sample theme, e-mail to `port` as `security` says, and W39's items polled."""

    def make(port: int, security: str, **email: str) -> Path:
        section = email_section(port, user="analyst", password_env=PASSWORD_ENV, **email)
        section = section.replace('security = "none"', f'security = "{security}"')
        config = write_config(
            [{"name": "sample-wire", "url": feed_server.add("/wire", body=rss(STORIES))}],
            extra=THEMES + "\n" + section + f'\n[monitor]\ndigests_dir = "{tmp_path / "digests"}"\n',
        )
        run_cli(config, "poll")
        return config

    return make


@pytest.fixture
def monitor(db_path: Path, tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """`python -m monitor --config CONFIG --db DB ARGS...` with the SMTP password in its environment."""

    def run(config: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        environ = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
        environ.update({PASSWORD_ENV: "sample-password", **(env or {})})
        return subprocess.run(
            [sys.executable, "-m", "monitor", "--config", str(config), "--db", str(db_path), *args],
            env=environ,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


@pytest.mark.parametrize("mode, mechanism", [("starttls", "PLAIN"), ("tls", "LOGIN")])
def test_digest_goes_out_over_tls_with_a_login_to_a_server_signed_by_a_private_ca(
    mode, mechanism, tls_server, setup, monitor, ca_pem
):
    server = tls_server(mode, mechanisms=(mechanism,))
    config = setup(server.port, mode, ca_file=str(ca_pem))
    done = monitor(config, "digest", "--week", WEEK, "--send")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{WEEK}: written and sent to analyst@example.org, desk@example.org" in done.stdout
    [(recipients, message)] = server.messages
    assert recipients == ["analyst@example.org", "desk@example.org"] and message["Subject"] == f"Sample digest {WEEK}"
    assert server.sessions == [{"tls": True, "authenticated": True, "mechanism": mechanism, "login": "analyst"}]


def test_ssl_cert_file_is_trusted_as_openssl_defines_it(tls_server, setup, monitor, ca_pem):
    server = tls_server("starttls")
    config = setup(server.port, "starttls")
    done = monitor(config, "digest", "--week", WEEK, "--send", env={"SSL_CERT_FILE": str(ca_pem)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(server.messages) == 1 and server.sessions[0]["tls"]


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_an_untrusted_certificate_sends_nothing_says_what_to_fix_and_the_week_is_retried(
    mode, tls_server, setup, monitor, ca_pem
):
    server = tls_server(mode)
    config = setup(server.port, mode)  # the test's CA is in no trust store: the certificate is untrusted
    done = monitor(config, "digest", "--week", WEEK, "--send")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "certificate verify failed: unable to get local issuer certificate" in done.stdout
    assert "set email.ca_file" in done.stdout and "fix the server's certificate" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert not server.messages and not server.sessions  # no message, and no password went to that server
    assert re.search(rf"{WEEK}\s+failed", monitor(config, "digests").stdout)

    config.write_text(config.read_text().replace("[email]\n", f'[email]\nca_file = "{ca_pem}"\n'))
    retried = monitor(config, "digest", "--week", WEEK, "--send")  # a failed week is tried again
    assert f"{WEEK}: written and sent" in retried.stdout, retried.stdout + retried.stderr
    assert len(server.messages) == 1
    assert re.search(rf"{WEEK}\s+sent", monitor(config, "digests").stdout)


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_a_certificate_for_another_host_is_refused(mode, tls_server, setup, monitor, ca_pem):
    server = tls_server(mode, names=("mail.example.org",))
    config = setup(server.port, mode, ca_file=str(ca_pem))
    done = monitor(config, "digest", "--week", WEEK, "--send")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "certificate verify failed: IP address mismatch" in done.stdout and "'127.0.0.1' (email.host)" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr and not server.messages


def test_a_plain_server_on_a_tls_setting_is_a_clear_error(setup, monitor, ca_pem):
    from .mailserver import MailServer

    plain = MailServer().start()
    try:
        config = setup(plain.port, "tls", ca_file=str(ca_pem))
        done = monitor(config, "digest", "--week", WEEK, "--send")
    finally:
        plain.stop()
    assert done.returncode == 1 and "TLS failed" in done.stdout and "check email.security" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_ca_file_must_be_a_file_of_certificates(write_config, tmp_path, monitor):
    missing = write_config([], extra=f'[email]\nca_file = "{tmp_path / "nowhere.pem"}"\n')
    done = monitor(missing, "check")
    assert done.returncode == 2 and "email.ca_file: expected a file of PEM CA certificates" in done.stdout + done.stderr
    (garbage := tmp_path / "garbage.pem").write_text("not a certificate\n")
    done = monitor(write_config([], extra=f'[email]\nca_file = "{garbage}"\n'), "check")
    assert done.returncode == 2 and "cannot be loaded" in done.stdout + done.stderr
