"""The command line. `group` holds the click group, its `Context` and how errors end a command; each other
module holds one family of commands, registered on the group when this package is imported."""

from __future__ import annotations

from . import alerts, demo, digests, feeds, history, init, labels, models, service, themes
from .group import cli

__all__ = ["cli", "main"]
COMMAND_FAMILIES = (feeds, themes, digests, alerts, service, demo, history, init, labels, models)


def main() -> None:
    cli(prog_name="monitor")
