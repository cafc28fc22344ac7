"""together-eval-emulator: a local, deterministic emulator of Together AI's evaluation API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .http._default_extensions import register_default

if TYPE_CHECKING:
    from .engine._config import EmulatorConfig
    from .engine._faults import FaultAction, FaultMatch, FaultRule, Quota
    from .engine._paths import LifecyclePath
    from .engine._polling import PollingReport, PollingThresholds
    from .engine._recordings import Recording
    from .engine._redaction import key_fingerprint
    from .engine._scenarios import Match, Outcome, Progression, Scenario, ScenarioEntry
    from .engine._snapshot import Snapshot
    from .faces._control_client import ControlPlaneError, JobSummary, ScenarioListing, StateImported
    from .faces._controller import EmulatorController, JobNeverCompletes
    from .faces._mock import EmulatorMock, respx_router
    from .http._core import Emulator
    from .http._extension import ApiExtension
    from .http._wire import CapacityState, ClockState, QueueState, RecordingSummary
    from .stores._factory import open_store

__all__ = [
    "CapacityState",
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
    "LifecyclePath",
    "Match",
    "Outcome",
    "PollingReport",
    "PollingThresholds",
    "Progression",
    "QueueState",
    "Quota",
    "Recording",
    "RecordingSummary",
    "Scenario",
    "ScenarioEntry",
    "ScenarioListing",
    "Snapshot",
    "StateImported",
    "__version__",
    "key_fingerprint",
    "open_store",
    "respx_router",
]

# Every public name loads on first use: the pytest plugin (`together_eval_emulator.pytest_plugin`) is
# imported by every pytest run where the package is installed, and must not pay for pydantic, the
# core or respx unless a fixture is used; the server never needs respx and httpx.
_LAZY = {
    "Emulator": "http._core",
    "EmulatorConfig": "engine._config",
    "EmulatorController": "faces._controller",
    "EmulatorMock": "faces._mock",
    "respx_router": "faces._mock",
    "ControlPlaneError": "faces._control_client",
    "JobNeverCompletes": "faces._controller",
    "JobSummary": "faces._control_client",
    "ScenarioListing": "faces._control_client",
    "StateImported": "faces._control_client",
    "ClockState": "http._wire",
    "CapacityState": "http._wire",
    "QueueState": "http._wire",
    "RecordingSummary": "http._wire",
    "Recording": "engine._recordings",
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
    "PollingReport": "engine._polling",
    "LifecyclePath": "engine._paths",
    "PollingThresholds": "engine._polling",
    "key_fingerprint": "engine._redaction",
    "open_store": "stores._factory",
}


def _documented_api() -> ApiExtension:
    from .documented._extension import DocumentedApi

    return DocumentedApi()


# The documented API is part of the product: every `Emulator` serves it unless built with
# `extensions=[]`. Registered here, above every layer, so neither the engine nor `http/` names it;
# registering imports nothing (the registry module imports nothing, the add-on loads on first use).
register_default(_documented_api)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
