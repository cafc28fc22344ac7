"""together-eval-emulator: a local, deterministic emulator of Together AI's evaluation API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .engine._config import EmulatorConfig
from .http._core import Emulator

if TYPE_CHECKING:
    from .faces._controller import EmulatorController
    from .faces._mock import EmulatorMock, respx_router

__all__ = ["Emulator", "EmulatorConfig", "EmulatorController", "EmulatorMock", "respx_router", "__version__"]

# The in-process face pulls in respx and httpx; the server never needs them, so they load on first use.
_LAZY = {"EmulatorController": "faces._controller", "EmulatorMock": "faces._mock", "respx_router": "faces._mock"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
