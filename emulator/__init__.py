"""together-eval-emulator: a local, deterministic emulator of Together AI's evaluation API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .engine._config import EmulatorConfig
from .http._core import Emulator

if TYPE_CHECKING:
    from .engine._faults import FaultAction, FaultMatch, FaultRule, Quota
    from .engine._scenarios import Match, Outcome, Progression, Scenario, ScenarioEntry
    from .engine._snapshot import Snapshot
    from .faces._control_client import ControlPlaneError, JobSummary, ScenarioListing, StateImported
    from .faces._controller import EmulatorController, JobNeverCompletes
    from .faces._mock import EmulatorMock, respx_router
    from .http._wire import ClockState
    from .stores._factory import open_store

__all__ = [
    "ClockState",
    "ControlPlaneError",
    "Emulator",
    "EmulatorConfig",
    "EmulatorController",
    "EmulatorMock",
    "FaultAction",
    "FaultMatch",
    "FaultRule",
    "JobNeverCompletes",
    "JobSummary",
    "Match",
    "Outcome",
    "Progression",
    "Quota",
    "Scenario",
    "ScenarioEntry",
    "ScenarioListing",
    "Snapshot",
    "StateImported",
    "__version__",
    "open_store",
    "respx_router",
]

# The in-process face pulls in respx and httpx; the server never needs them, so they load on first use.
# The control plane's models (what `EmulatorController` takes and returns) load on first use too.
_LAZY = {
    "EmulatorController": "faces._controller",
    "EmulatorMock": "faces._mock",
    "respx_router": "faces._mock",
    "ControlPlaneError": "faces._control_client",
    "JobNeverCompletes": "faces._controller",
    "JobSummary": "faces._control_client",
    "ScenarioListing": "faces._control_client",
    "StateImported": "faces._control_client",
    "ClockState": "http._wire",
    "Scenario": "engine._scenarios",
    "ScenarioEntry": "engine._scenarios",
    "Match": "engine._scenarios",
    "Outcome": "engine._scenarios",
    "Progression": "engine._scenarios",
    "FaultRule": "engine._faults",
    "FaultMatch": "engine._faults",
    "FaultAction": "engine._faults",
    "Quota": "engine._faults",
    "Snapshot": "engine._snapshot",
    "open_store": "stores._factory",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
