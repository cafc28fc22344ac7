"""Why a store cannot be opened."""

from __future__ import annotations


class StoreError(Exception):
    """A store that cannot be opened or used; the message says why and what to do (one line)."""


class IncompatibleStore(StoreError):
    """A store holding a state written in another format (another store schema version)."""
