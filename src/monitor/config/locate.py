"""Which config file a command reads, and where the files of a config in the user's folders go.

The usual search, first found wins: `--config`, `MONITOR_CONFIG`, `./config/feeds.toml` (a project folder, as
`monitor init` makes and a clone of the repository is), then `$XDG_CONFIG_HOME/monitor/feeds.toml` (default
`~/.config`). A file given by option or variable is read even when missing, so that the error names it.

Pure: the environment and a test for a file's existence are arguments; cli/group.py passes the real ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_CONFIG = "config/feeds.toml"
STARTER = ("starter", "feeds.toml")  # inside the package: importlib.resources.files("monitor").joinpath(*STARTER)


@dataclass(frozen=True, slots=True)
class Found:
    """The config file a command reads (None when the search found none) and why that one."""

    path: str | None
    reason: str


def user_config(env: Mapping[str, str]) -> Path:
    return _xdg(env, "XDG_CONFIG_HOME", ".config") / "monitor" / "feeds.toml"


def user_data(env: Mapping[str, str]) -> Path:
    """Where the database and digests of the user-folder config go (XDG Base Directory: data, not config)."""
    return _xdg(env, "XDG_DATA_HOME", ".local/share") / "monitor"


def _xdg(env: Mapping[str, str], variable: str, fallback: str) -> Path:
    # The specification says a relative value is invalid and must be ignored.
    value = env.get(variable, "")
    if value and Path(value).is_absolute():
        return Path(value)
    return Path(env.get("HOME") or Path.home()) / fallback


def find_config(option: str | None, env: Mapping[str, str], exists: Callable[[str], bool]) -> Found:
    if option:
        return Found(option, "from --config")
    if env.get("MONITOR_CONFIG"):
        return Found(env["MONITOR_CONFIG"], "from MONITOR_CONFIG")
    if exists(PROJECT_CONFIG):
        return Found(PROJECT_CONFIG, f"./{PROJECT_CONFIG} in this folder")
    user = user_config(env)
    if exists(str(user)):
        return Found(str(user), "the user's config folder ($XDG_CONFIG_HOME/monitor)")
    return Found(None, f"no config found: looked for ./{PROJECT_CONFIG} and {user}")


def data_home(config_path: str, env: Mapping[str, str]) -> Path | None:
    """The folder a config's relative database and digests paths are taken from, when it is not the working
    directory: for the config in the user's folder, which is read from wherever the user stands."""
    if Path(config_path).absolute() == user_config(env).absolute():
        return user_data(env)
    return None
