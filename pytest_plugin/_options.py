"""Settings of the emulator fixtures: the marker, command-line options and ini keys.

Every `EmulatorConfig` field with a plain value (seed, clock, durations, column_use_rule, ...)
plus the fixture options below can be set, from weakest to strongest:
test defaults (manual clock, seed 0) < ini `together_emulator_<name>` < command line
`--together-emulator-<name>` < `@pytest.mark.together_emulator(<name>=...)` on the module,
then the class, then the test (the closest marker wins).

Registering the options and the marker reads the static `_option_table` only: pydantic and the
emulator are imported when a fixture is used, or when a setting is given on the command line or in
an ini file (to refuse a bad one at start-up).
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import pytest

from ._option_table import CONFIG_OPTION_TABLE, DEFAULT_API_KEY, DEFAULT_BASE_URL, TEST_DEFAULTS

if TYPE_CHECKING:
    from ..engine._config import EmulatorConfig

MARKER = "together_emulator"
DOCS = "see 'Testing with pytest' in the README"

# Options of the fixtures themselves (not of the emulator): name -> (default, help).
FIXTURE_OPTIONS: dict[str, tuple[Any, str]] = {
    "api_key": (DEFAULT_API_KEY, "API key put in TOGETHER_API_KEY (it is also the tenant)."),
    "base_url": (DEFAULT_BASE_URL, "Root URL the in-process emulator answers on (no socket is opened)."),
    "other_hosts": ("fail", "In-process: requests to other hosts 'fail' or 'pass_through' to the network."),
    "advance_on_sleep": (
        False,
        "time.sleep / asyncio.sleep in the test's thread advance the emulator clock instead of waiting.",
    ),
}


def _simple(annotation: Any) -> bool:
    """Whether a config field can be written on a command line (scalars and lists of strings)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return all(_simple(arg) for arg in typing.get_args(annotation) if arg is not type(None))
    if origin is list:
        return typing.get_args(annotation) == (str,)
    return origin is Literal or annotation in (int, float, str, bool)


def config_option_table() -> dict[str, tuple[Any, str]]:
    """What `_option_table.CONFIG_OPTION_TABLE` must hold: name -> (default, help) of each `EmulatorConfig`
    field that can be written on a command line (a test checks the static copy against this)."""
    from ..engine._config import EmulatorConfig

    return {
        name: (field.get_default(call_default_factory=True, validated_data={}), field.description or name)
        for name, field in EmulatorConfig.model_fields.items()
        if _simple(field.annotation)
    }


CONFIG_OPTIONS = list(CONFIG_OPTION_TABLE)
ALL_OPTIONS = CONFIG_OPTIONS + list(FIXTURE_OPTIONS)


@dataclass(frozen=True)
class FixtureSettings:
    """What one test's fixture builds: the emulator config and the fixture options."""

    config: EmulatorConfig
    api_key: str
    base_url: str
    other_hosts: Literal["fail", "pass_through"]
    advance_on_sleep: bool


def add_options(parser: pytest.Parser) -> None:
    """Register `--together-emulator-<name>` and ini `together_emulator_<name>` for every option."""
    group = parser.getgroup("together-emulator", "together evaluation emulator (session defaults)")
    for name in ALL_OPTIONS:
        if name in FIXTURE_OPTIONS:
            default, text = FIXTURE_OPTIONS[name]
        else:
            model_default, text = CONFIG_OPTION_TABLE[name]
            default = TEST_DEFAULTS.get(name, model_default)
        text = f"{text} (default {default!r})"
        group.addoption(
            f"--together-emulator-{name.replace('_', '-')}",
            dest=f"together_emulator_{name}",
            default=None,
            metavar=name.upper(),
            help=text,
        )
        parser.addini(f"together_emulator_{name}", help=text, default=None)


def _coerce(name: str, value: Any) -> Any:
    """Strings from the command line or an ini file, in the shape pydantic validates."""
    if isinstance(value, str) and name == "model_allowlist":
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, str) and name == "advance_on_sleep":
        return value.strip().lower() in ("1", "true", "yes", "on")
    return value


def session_defaults(config: pytest.Config) -> dict[str, Any]:
    """Test defaults overlaid with ini settings, then command-line options; checked once when any is given."""
    values: dict[str, Any] = {**TEST_DEFAULTS, **{k: v for k, (v, _) in FIXTURE_OPTIONS.items()}}
    given = False
    for name in ALL_OPTIONS:
        ini = config.getini(f"together_emulator_{name}")
        if ini not in (None, "", []):
            values[name] = _coerce(name, ini)
            given = True
        option = config.getoption(f"together_emulator_{name}", None)
        if option is not None:
            values[name] = _coerce(name, option)
            given = True
    if not given:
        return values  # the test defaults are valid; checking them would import pydantic and the emulator
    try:
        build(values)
    except ValueError as exc:
        raise pytest.UsageError(f"together emulator: {exc} (from the command line or ini file)") from None
    return values


def build(values: dict[str, Any]) -> FixtureSettings:
    """Validate merged values into `FixtureSettings`; a bad value raises ValueError naming it."""
    from pydantic import ValidationError

    from ..engine._config import EmulatorConfig

    fixture = {name: values[name] for name in FIXTURE_OPTIONS}
    if fixture["other_hosts"] not in ("fail", "pass_through"):
        raise ValueError(f"other_hosts must be 'fail' or 'pass_through', got {fixture['other_hosts']!r}")
    try:
        config = EmulatorConfig(**{k: v for k, v in values.items() if k not in FIXTURE_OPTIONS})
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"invalid setting {name}={first.get('input')!r}: {first['msg']}") from None
    return FixtureSettings(
        config=config,
        api_key=str(fixture["api_key"]),
        base_url=str(fixture["base_url"]),
        other_hosts=fixture["other_hosts"],
        advance_on_sleep=bool(fixture["advance_on_sleep"]),
    )


def for_test(node: pytest.Item, defaults: dict[str, Any]) -> FixtureSettings:
    """The settings of one test: session defaults, then its markers (module, class, then test)."""
    values = dict(defaults)
    for mark in reversed(list(node.iter_markers(MARKER))):
        if mark.args:
            pytest.fail(
                f"@pytest.mark.{MARKER} takes keyword arguments only, got {mark.args!r} ({DOCS}).", pytrace=False
            )
        unknown = sorted(set(mark.kwargs) - set(ALL_OPTIONS))
        if unknown:
            pytest.fail(
                f"@pytest.mark.{MARKER} got unknown option(s) {unknown}. "
                f"Valid options: {', '.join(ALL_OPTIONS)} ({DOCS}).",
                pytrace=False,
            )
        values.update(mark.kwargs)
    try:
        return build(values)
    except ValueError as exc:
        problem = str(exc)
    pytest.fail(f"@pytest.mark.{MARKER}: {problem} ({DOCS}).", pytrace=False)


def marker_signature() -> str:
    """The marker's full signature, for `pytest --markers`."""
    shown = {name: default for name, (default, _) in CONFIG_OPTION_TABLE.items()}
    shown.update({**TEST_DEFAULTS, **{k: v for k, (v, _) in FIXTURE_OPTIONS.items()}})
    parts = [f"{name}=[...]" if isinstance(shown[name], list) else f"{name}={shown[name]!r}" for name in ALL_OPTIONS]
    return (
        f"{MARKER}(*, {', '.join(parts)}): settings of the together_emulator and "
        "together_emulator_server fixtures for this test (closest marker wins)."
    )
