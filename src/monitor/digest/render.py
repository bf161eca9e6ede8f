"""A `Digest` -> its text and HTML, with the Jinja2 templates shipped in `templates/` or those of a folder
named in the config (`digest.templates_dir`), which override them file by file.

Everything in a digest comes from feeds and is untrusted: the HTML template is autoescaped, evidence is
marked up from plain-text segments, and links are only ever http(s) (see build.py). Every value a
template prints passes `shown` (Jinja's `finalize`), in shipped and override templates alike: no terminal
control characters in the text digest (nor the e-mail made of it), no credentials of a feed URL.
"""

from __future__ import annotations

from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from ..text.safe import shown_block
from .build import Digest, sparkline


def environment(templates_dir: str | None = None) -> Environment:
    loaders = [FileSystemLoader(templates_dir)] if templates_dir else []
    env = Environment(
        loader=ChoiceLoader([*loaders, PackageLoader("monitor.digest", "templates")]),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=True),
        undefined=StrictUndefined,  # a typo in an override template fails loudly, not silently empty
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=shown,
    )
    env.filters["sparkline"] = sparkline
    env.filters["signed"] = lambda n: f"+{n}" if n > 0 else str(n)
    env.filters["plural"] = lambda n, word: f"{n} {word}{'' if n == 1 else 's'}"  # "1 item", "2 items"
    env.filters["longdate"] = lambda day: f"{day:%A} {day.day} {day:%B}"  # "Monday 25 September", portably
    env.filters["when"] = lambda moment: f"{moment:%a} {moment.day} {moment:%b %H:%M}"  # "Tue 26 Sep 09:00"
    return env


def shown(value: Any) -> Any:
    """A printed value without controls or credentials; markup stays markup (not escaped again)."""
    if isinstance(value, Markup):
        return Markup(shown_block(str(value)))
    return shown_block(value) if isinstance(value, str) else value


def render_text(digest: Digest, env: Environment) -> str:
    return env.get_template("digest.txt.j2").render(d=digest)


def render_html(digest: Digest, env: Environment) -> str:
    return env.get_template("digest.html.j2").render(d=digest)
