"""together-eval-emulator: a local, deterministic emulator of Together AI's evaluation API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .engine._config import EmulatorConfig
    from .faces._controller import EmulatorController
    from .faces._mock import EmulatorMock, respx_router
    from .http._core import Emulator

__all__ = ["Emulator", "EmulatorConfig", "EmulatorController", "EmulatorMock", "respx_router", "__version__"]

# Every public name loads on first use: the pytest plugin (`together_eval_emulator.pytest_plugin`) is
# imported by every pytest run where the package is installed, and must not pay for pydantic, the
# core or respx unless a fixture is used; the server never needs respx and httpx.
_LAZY = {
    "Emulator": "http._core",
    "EmulatorConfig": "engine._config",
    "EmulatorController": "faces._controller",
    "EmulatorMock": "faces._mock",
    "respx_router": "faces._mock",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
