"""The errors `monitor` raises. Each carries the data a user needs to fix the problem.

Errors of one feed (a timeout, a 500, a broken document) are not raised: they travel as data in a
`FetchResult`/`FeedReport` so that one feed never stops a round. These exceptions are for what stops a
command: a broken config, an unusable database.
"""

from __future__ import annotations

from dataclasses import dataclass


class MonitorError(Exception):
    """Base of every error `monitor` raises on purpose; the CLI prints it as one `Error:` line."""

    exit_code = 1


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong with the config: where it is and what was expected instead."""

    path: str  # the key path, such as `feeds[3].url` or `polling.interval`
    message: str
    line: int | None = None

    def render(self, file: str) -> str:
        where = f"{file}:{self.line}" if self.line else file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(MonitorError):
    """The config cannot be used. Lists every problem found, not only the first."""

    exit_code = 2

    def __init__(self, file: str, problems: list[ConfigProblem]):
        self.file = file
        self.problems = problems
        count = len(problems)
        header = f"{file}: {count} problem{'s' if count != 1 else ''} in the configuration"
        super().__init__("\n".join([header, *("  " + p.render(file) for p in problems)]))


class StoreError(MonitorError):
    """The database cannot be opened, migrated or written."""

    def __init__(self, path: str, message: str, *, locked: bool = False):
        self.path = path
        self.locked = locked  # another process held the write lock: waiting and trying again can succeed
        super().__init__(f"database {path}: {message}")


class UsageError(MonitorError):
    """A command was given something it cannot act on (an unknown feed name, a bad week)."""

    exit_code = 2
