"""The add-ons every `Emulator` gets unless it is built with a list of its own (`extensions=`).

The package root registers its own add-ons here (`register_default`), above every layer, so neither
the engine nor `http/` names one. The root registers when it is imported, which every pytest run
with the package installed does (the plugin lives in it), so this module imports nothing at run
time and a registration imports nothing either: an add-on is made on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._extension import ApiExtension

_DEFAULTS: list[Callable[[], ApiExtension]] = []
_resolved: tuple[ApiExtension, ...] | None = None


def register_default(make: Callable[[], ApiExtension]) -> None:
    """Add an add-on to the ones every `Emulator` gets unless told otherwise. `make` is called once,
    on first use (so registering costs no import)."""
    global _resolved
    _DEFAULTS.append(make)
    _resolved = None


def default_extensions() -> tuple[ApiExtension, ...]:
    """The registered default add-ons, each made once: every emulator shares the same objects (and
    so the same route table)."""
    global _resolved
    if _resolved is None:
        _resolved = tuple(make() for make in _DEFAULTS)
    return _resolved
