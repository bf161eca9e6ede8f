"""A `Digest` -> its text and HTML, with the Jinja2 templates shipped in `templates/` or those of a folder
named in the config (`digest.templates_dir`), which override them file by file.

Everything in a digest comes from feeds and is untrusted: the HTML template is autoescaped, evidence is
marked up from plain-text segments, and links are only ever http(s) (see digest.py).
"""

from __future__ import annotations

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined, select_autoescape

from .digest import Digest, sparkline


def environment(templates_dir: str | None = None) -> Environment:
    loaders = [FileSystemLoader(templates_dir)] if templates_dir else []
    env = Environment(
        loader=ChoiceLoader([*loaders, PackageLoader("monitor", "templates")]),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=True),
        undefined=StrictUndefined,  # a typo in an override template fails loudly, not silently empty
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["sparkline"] = sparkline
    env.filters["signed"] = lambda n: f"+{n}" if n > 0 else str(n)
    env.filters["longdate"] = lambda day: f"{day:%A} {day.day} {day:%B}"  # "Monday 25 September", portably
    return env


def render_text(digest: Digest, env: Environment) -> str:
    return env.get_template("digest.txt.j2").render(d=digest)


def render_html(digest: Digest, env: Environment) -> str:
    return env.get_template("digest.html.j2").render(d=digest)
