"""Settings of the emulator fixtures: the marker, command-line options and ini keys.

`FixtureSettings` (in `_fixture_settings`) is the engine's settings model plus the fixture's own
options, and every option is generated from its fields. pytest reads the sources; the model parses
and validates what they give, as it does for `serve`. From weakest to strongest: test defaults
(manual clock, seed 0) < ini `together_emulator_<name>` < command line `--together-emulator-<name>` <
`@pytest.mark.together_emulator(<name>=...)` on the module, then the class, then the test (the
closest marker wins). The ini and command line take settings (scalars and comma-separated lists);
the marker takes every field, tables (`scenarios`, `faults`, ...) included. No environment
variable is read: a test run does not depend on the shell it starts in.

Registering the options and the marker reads the static `_option_table` only: pydantic and the
emulator are imported when a fixture is used, or when a setting is given on the command line or in
an ini file (to refuse a bad one at start-up).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from ._option_table import MARKER_DEFAULTS, OPTION_TABLE, TEST_DEFAULTS

if TYPE_CHECKING:
    from ._fixture_settings import FixtureSettings

MARKER = "together_emulator"
DOCS = "see docs/testing.md"

COMMAND_LINE_FIELDS = list(OPTION_TABLE)  # ini keys and --together-emulator-<name> options
MARKER_FIELDS = list(MARKER_DEFAULTS)


def __getattr__(name: str) -> Any:
    if name == "FixtureSettings":  # the model loads on first use (it imports pydantic and the engine)
        from ._fixture_settings import FixtureSettings

        return FixtureSettings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def ini_key(name: str) -> str:
    return f"together_emulator_{name}"


def option_of(name: str) -> str:
    return f"--together-emulator-{name.replace('_', '-')}"


def _shown(name: str) -> str:
    default = TEST_DEFAULTS.get(name, MARKER_DEFAULTS[name])
    return "[...]" if isinstance(default, list) and default else repr(default)


POLLING_REPORT = "together_emulator_polling_report"  # dest of --together-emulator-polling-report


def add_options(parser: pytest.Parser) -> None:
    """Register `--together-emulator-<name>` and ini `together_emulator_<name>` for every setting,
    and the `--together-emulator-polling-report` flag."""
    group = parser.getgroup("together-emulator", "together evaluation emulator (session defaults)")
    for name in COMMAND_LINE_FIELDS:
        text = f"{OPTION_TABLE[name][1].rstrip('.')} (default {_shown(name)})"
        group.addoption(option_of(name), dest=ini_key(name), default=None, metavar=name.upper(), help=text)
        parser.addini(ini_key(name), help=text, default=None)
    group.addoption(
        "--together-emulator-polling-report",
        dest=POLLING_REPORT,
        action="store_true",
        help="At the end of the session, list the tests whose clients polled a job badly, and why (docs/polling.md).",
    )


class _Invalid(ValueError):
    def __init__(self, field: str, value: Any, message: str) -> None:
        super().__init__(f"invalid setting {field}={value!r}: {message}")
        self.field = field


def build(values: dict[str, Any]) -> FixtureSettings:
    """Validate merged values into `FixtureSettings`; a bad value raises a ValueError naming it."""
    from pydantic import ValidationError

    from ..engine._first_error import first_error
    from ._fixture_settings import FixtureSettings

    try:
        return FixtureSettings(**values)
    except ValidationError as exc:
        first = first_error(exc)
        raise _Invalid(first.field, first.value, first.message) from None


def session_defaults(config: pytest.Config) -> dict[str, Any]:
    """Test defaults overlaid with ini settings, then command-line options; checked once when any is given."""
    values: dict[str, Any] = dict(TEST_DEFAULTS)
    origin: dict[str, str] = {}
    for name in COMMAND_LINE_FIELDS:
        ini = config.getini(ini_key(name))
        if ini not in (None, "", []):
            values[name], origin[name] = ini, f"ini {ini_key(name)}"
        option = config.getoption(ini_key(name), None)
        if option is not None:
            values[name], origin[name] = option, option_of(name)
    if not origin:
        return values  # the test defaults are valid; checking them would import pydantic and the emulator
    try:
        build(values)
    except _Invalid as exc:
        where = origin.get(exc.field.split(".")[0], "the test defaults")
        raise pytest.UsageError(f"together emulator: {exc} (from {where})") from None
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
        return build(values)
    except _Invalid as exc:
        problem = str(exc)
    pytest.fail(f"@pytest.mark.{MARKER}: {problem} ({DOCS}).", pytrace=False)


def marker_signature() -> str:
    """The marker's full signature, for `pytest --markers`."""
    parts = [f"{name}={_shown(name)}" for name in MARKER_FIELDS]
    return (
        f"{MARKER}(*, {', '.join(parts)}): settings of the together_emulator and "
        "together_emulator_server fixtures for this test (closest marker wins)."
    )
