"""The store as the rest of monitor imports it (`from .store import Store`): see the `storage` package,
whose `__all__` is this module's too (one list, so the two cannot drift)."""

from __future__ import annotations

from . import storage
from .storage import *  # noqa: F403

__all__ = storage.__all__
