"""together-eval-emulator: a local, deterministic emulator of Together AI's evaluation API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from .config import EmulatorConfig  # noqa: E402
from .core import Emulator  # noqa: E402

if TYPE_CHECKING:
    from .controller import EmulatorController
    from .mock import EmulatorMock, respx_router

__all__ = ["Emulator", "EmulatorConfig", "EmulatorController", "EmulatorMock", "respx_router", "__version__"]

# The in-process face pulls in respx and httpx; the server never needs them, so they load on first use.
_LAZY = {"EmulatorController": "controller", "EmulatorMock": "mock", "respx_router": "mock"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
