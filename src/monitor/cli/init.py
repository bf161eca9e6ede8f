"""`monitor init [DIR]`: the starter config shipped in the package, written where the user asks, never over a
file that is there. Registered on the group by `cli/__init__.py`.

By default DIR is the current folder, made a project folder as a clone of the repository is: `config/feeds.toml`
and `digests/` beside it, found by every command run there (the config search is in `config/locate.py`). `--user`
writes the config to the user's config folder instead, read from anywhere, with its digests in the user's
data folder. Re-running is harmless: what exists is kept and named, and the exit code is 0 since what `init`
promises, a config where the commands look, is there.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import click

from ..config.locate import PROJECT_CONFIG, STARTER, user_config, user_data
from ..errors import UsageError
from .group import cli


@cli.command()
@click.argument("folder", required=False, metavar="[DIR]")
@click.option(
    "--user",
    "user_folders",
    is_flag=True,
    help="Write to the user's config folder "
    "($XDG_CONFIG_HOME/monitor/feeds.toml; digests in $XDG_DATA_HOME/monitor) instead of DIR.",
)
def init(folder: str | None, user_folders: bool) -> None:
    """Write the starter config (feeds, themes, every section commented) and a digests/ folder into DIR (default:
    this folder, as DIR/config/feeds.toml); an existing file is kept, never overwritten."""
    if user_folders and folder:
        raise UsageError("give a DIR or --user, not both")
    if user_folders:
        config, digests = user_config(os.environ), user_data(os.environ) / "digests"
    else:
        base = Path(folder or ".")
        config, digests = base / PROJECT_CONFIG, base / "digests"
    starter = resources.files("monitor").joinpath(*STARTER).read_text(encoding="utf-8")
    wrote = _write_new(config, starter)
    click.echo(f"{config}: {'written (the starter config)' if wrote else 'exists, kept as it is'}")
    digests.mkdir(parents=True, exist_ok=True)
    click.echo(f"{digests}/: the weekly digests go here")
    where = "" if user_folders or folder in (None, ".") else f"cd {folder} && "
    click.echo(f"Next: put your feeds and themes in {config}, then `{where}monitor check` and `monitor poll`.")


def _write_new(path: Path, text: str) -> bool:
    """Write `text` to a file that does not exist yet; False, and nothing touched, when it does."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as file:  # "x": an existing file is never opened for writing
            file.write(text)
    except FileExistsError:
        return False
    except OSError as error:
        raise UsageError(f"{path}: cannot be written: {error.strerror or error}") from None
    return True
