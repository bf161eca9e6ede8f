"""Text from outside made safe to keep and to show. Pure.

Two hazards travel in text that monitor did not write:
- terminal control sequences: a feed title with ESC (raw, or as `&#27;`) can retitle a terminal window,
  clear the screen or rewrite what `monitor search` shows; C1 codes (`\\x9b` is a one-byte CSI) too.
  They are stripped when items are stored (parse/feed.py) and again wherever feed text is printed, which
  covers text stored before.
- credentials in a feed's URL (`https://user:secret@host/feed`): shown anywhere (logs, `monitor feeds`,
  poll notes, digests, OPML), the password is replaced by `***` and the user kept; a lone userinfo
  (`https://token@host/feed`, as many services take a token) is hidden whole; so is the value of a query
  parameter whose name says it is a credential (`?token=***`, `api_key`, `sig`...): a failing feed's error
  quotes its URL, and the digest e-mails the failing feeds' errors.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

# C0 except tab and newline, DEL, and C1 (U+0080-U+009F, which terminals may read as 8-bit ESC and CSI).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CRLF = re.compile(r"\r\n?")
_BREAKS = re.compile(r"[\t\n\r\x0b\x0c\x1c-\x1f\x85\u2028\u2029]+")
# scheme://userinfo@ : the userinfo runs to the LAST "@" before the path (as urllib and httpx split a
# netloc), so a password with an unescaped "@" is hidden whole.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^\s/?#@]*(?:@[^\s/?#@]*)*)@(?=[^\s/?#@]*(?:[/?#\s]|$))")

# The words of a query parameter's name that say it carries a credential (`token`, `access_token`, `apiKey`,
# `X-Amz-Signature`, `sig`): the config's secret keys (config.settings.SECRET_KEYS) and those that signed
# and authenticated feeds use.
SECRET_WORDS = frozenset(
    """password pass secret token api_key key apikey passwd pwd auth authorization credential credentials
    sig signature hmac jwt session sessionid sid""".split()
)
_NAME_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
_URL = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s<>\"'`]+")
_PARAMETER = re.compile(r"([?&;])([^=&;#\s]+)=([^&;#\s]*)")


def strip_controls(text: str) -> str:
    """`text` without control characters; line breaks (CR LF and lone CR become LF) and tabs are kept."""
    return _CONTROLS.sub("", _CRLF.sub("\n", text))


def one_line(text: str) -> str:
    """`text` without control characters, each run of line breaks and tabs made one space: for a title, a
    name or a table cell."""
    return _CONTROLS.sub("", _BREAKS.sub(" ", text))


def redact(text: str) -> str:
    """`text` (a URL, or a message quoting URLs) with the secrets of every URL's userinfo and the values of
    its credential parameters replaced by `***`."""
    if "@" in text:
        text = _USERINFO.sub(_hide, text)
    if "=" in text and "://" in text:
        text = _URL.sub(_hide_parameters, text)
    return text


def secret_parameter(piece: str) -> bool:
    """Whether a query parameter (`name=value`) carries a credential, by its name (`SECRET_WORDS`)."""
    name = unquote(piece.partition("=")[0])
    words = {w.lower() for w in _NAME_WORDS.findall(name)}
    return bool(words & SECRET_WORDS) or re.sub(r"[^a-z0-9]", "", name.lower()) in SECRET_WORDS


def _hide_parameters(found: re.Match[str]) -> str:
    url = found.group(0)
    start = url.find("?")
    if start < 0:
        return url
    return url[:start] + _PARAMETER.sub(_hide_parameter, url[start:])


def _hide_parameter(found: re.Match[str]) -> str:
    lead, name, value = found.groups()
    return f"{lead}{name}=***" if value and secret_parameter(name) else found.group(0)


def _hide(found: re.Match[str]) -> str:
    user, colon, _password = found.group(2).partition(":")
    return f"{found.group(1)}{user}:***@" if colon else f"{found.group(1)}***@"


def shown(text: str | None) -> str:
    """Text from outside as one printable line: no controls, no credentials. None is empty."""
    return redact(one_line(text)) if text else ""


def shown_block(text: str) -> str:
    """Text from outside as printable lines (a log record with a traceback, a digest): no controls but
    line breaks and tabs, no credentials."""
    return redact(strip_controls(text))
