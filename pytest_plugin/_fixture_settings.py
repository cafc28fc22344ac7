"""The fixtures' settings model: the engine's settings plus the fixture's own options.

Imported only when a fixture is used or a setting is given (it imports pydantic and the engine);
registering the plugin's options reads the static copy in `_option_table`, which
`tests/plugin/test_startup.py` checks against `option_table()` and `marker_defaults()` here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from ..engine._config import EmulatorConfig, setting_names
from ._option_table import DEFAULT_API_KEY, DEFAULT_BASE_URL


class FixtureSettings(EmulatorConfig):
    """What one test's fixture builds: the emulator's settings and the fixture's own options.

    A plain model, not a pydantic-settings one: it reads no source itself (pytest does), and
    building a `BaseSettings` costs about a millisecond per test."""

    api_key: str = Field(
        DEFAULT_API_KEY, min_length=1, description="API key put in TOGETHER_API_KEY (also the tenant)."
    )
    base_url: str = Field(
        DEFAULT_BASE_URL, min_length=1, description="Root URL the in-process emulator answers on (no socket is opened)."
    )
    other_hosts: Literal["fail", "pass_through"] = Field(
        "fail", description="In-process: requests to other hosts 'fail', or 'pass_through' to the network."
    )
    advance_on_sleep: bool = Field(
        False,
        description="time.sleep / asyncio.sleep in the test's thread advance the emulator clock instead of waiting.",
    )
    polling: Literal["lenient", "strict", "off"] = Field(
        "lenient",
        description="Polling verdict of the test's jobs: 'strict' fails the test when one was polled badly, "
        "'lenient' only reports it (--together-emulator-polling-report), 'off' grades none.",
    )

    @field_validator("base_url")
    @classmethod
    def _root_url(cls, value: str) -> str:
        from ..faces._mock import checked_base_url  # imported with the fixture's face anyway

        checked_base_url(value)
        return value


def _default(name: str) -> Any:
    return FixtureSettings.model_fields[name].get_default(call_default_factory=True, validated_data={})


def option_table() -> dict[str, tuple[Any, str]]:
    """What `_option_table.OPTION_TABLE` must hold: name -> (default, help) of every field a command
    line or an ini file can set, in declaration order."""
    fields = FixtureSettings.model_fields
    return {name: (_default(name), fields[name].description or name) for name in setting_names(FixtureSettings)}


def marker_defaults() -> dict[str, Any]:
    """What `_option_table.MARKER_DEFAULTS` must hold: every field a marker can set (tables included),
    in declaration order, with its model default."""
    return {name: _default(name) for name in FixtureSettings.model_fields}
