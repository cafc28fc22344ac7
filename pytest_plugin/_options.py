"""Settings of the emulator fixtures: the marker, command-line options and ini keys.

`FixtureSettings` is the engine's settings model plus the fixture's own options, and every option
is generated from its fields. pytest reads the sources; the model parses and validates what they
give, as it does for `serve`. From weakest to strongest: test defaults (manual clock, seed 0) <
ini `together_emulator_<name>` < command line `--together-emulator-<name>` <
`@pytest.mark.together_emulator(<name>=...)` on the module, then the class, then the test (the
closest marker wins). The ini and command line take settings (scalars and comma-separated lists);
the marker takes every field, tables (`scenarios`, `faults`, ...) included. No environment
variable is read: a test run does not depend on the shell it starts in.
"""

from __future__ import annotations

from typing import Any, Literal

import pytest
from pydantic import Field, ValidationError

from ..engine._config import EmulatorConfig, setting_names
from ..engine._first_error import first_error
from ..faces._controller import DEFAULT_API_KEY
from ..faces._mock import DEFAULT_BASE_URL, TEST_DEFAULTS

MARKER = "together_emulator"
DOCS = "see 'Testing with pytest' in the README"


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


COMMAND_LINE_FIELDS = setting_names(FixtureSettings)  # ini keys and --together-emulator-<name> options
MARKER_FIELDS = list(FixtureSettings.model_fields)


def ini_key(name: str) -> str:
    return f"together_emulator_{name}"


def option_of(name: str) -> str:
    return f"--together-emulator-{name.replace('_', '-')}"


def _default(name: str) -> Any:
    return TEST_DEFAULTS.get(name, FixtureSettings.model_fields[name].get_default(call_default_factory=True))


def _shown(name: str) -> str:
    default = _default(name)
    return "[...]" if isinstance(default, list) and default else repr(default)


def add_options(parser: pytest.Parser) -> None:
    """Register `--together-emulator-<name>` and ini `together_emulator_<name>` for every setting."""
    group = parser.getgroup("together-emulator", "together evaluation emulator (session defaults)")
    for name in COMMAND_LINE_FIELDS:
        text = f"{(FixtureSettings.model_fields[name].description or name).rstrip('.')} (default {_shown(name)})"
        group.addoption(option_of(name), dest=ini_key(name), default=None, metavar=name.upper(), help=text)
        parser.addini(ini_key(name), help=text, default=None)


def session_defaults(config: pytest.Config) -> dict[str, Any]:
    """Test defaults overlaid with ini settings, then command-line options; checked once."""
    values: dict[str, Any] = dict(TEST_DEFAULTS)
    origin: dict[str, str] = {}
    for name in COMMAND_LINE_FIELDS:
        ini = config.getini(ini_key(name))
        if ini not in (None, "", []):
            values[name], origin[name] = ini, f"ini {ini_key(name)}"
        option = config.getoption(ini_key(name), None)
        if option is not None:
            values[name], origin[name] = option, option_of(name)
    try:
        FixtureSettings(**values)
    except ValidationError as exc:
        first = first_error(exc)
        where = origin.get(first.field.split(".")[0], "the test defaults")
        raise pytest.UsageError(
            f"together emulator: invalid setting {first.field}={first.value!r}: {first.message} (from {where})"
        ) from None
    return values


def for_test(node: pytest.Item, defaults: dict[str, Any]) -> FixtureSettings:
    """The settings of one test: session defaults, then its markers (module, class, then test)."""
    values = dict(defaults)
    for mark in reversed(list(node.iter_markers(MARKER))):
        if mark.args:
            pytest.fail(
                f"@pytest.mark.{MARKER} takes keyword arguments only, got {mark.args!r} ({DOCS}).", pytrace=False
            )
        unknown = sorted(set(mark.kwargs) - set(MARKER_FIELDS))
        if unknown:
            pytest.fail(
                f"@pytest.mark.{MARKER} got unknown option(s) {unknown}. "
                f"Valid options: {', '.join(MARKER_FIELDS)} ({DOCS}).",
                pytrace=False,
            )
        values.update(mark.kwargs)
    try:
        return FixtureSettings(**values)
    except ValidationError as exc:
        first = first_error(exc)
        problem = f"invalid setting {first.field}={first.value!r}: {first.message}"
    pytest.fail(f"@pytest.mark.{MARKER}: {problem} ({DOCS}).", pytrace=False)


def marker_signature() -> str:
    """The marker's full signature, for `pytest --markers`."""
    parts = [f"{name}={_shown(name)}" for name in MARKER_FIELDS]
    return (
        f"{MARKER}(*, {', '.join(parts)}): settings of the together_emulator and "
        "together_emulator_server fixtures for this test (closest marker wins)."
    )
