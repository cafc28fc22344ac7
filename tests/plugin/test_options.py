"""The fixtures' settings (`FixtureSettings`): every field reachable from the ini file, the command
line and the marker as it should be, and the precedence test defaults < ini < command line < marker."""

from __future__ import annotations

from typing import Any

import pytest
from together_eval_emulator.engine._config import EmulatorConfig, setting_names
from together_eval_emulator.pytest_plugin._options import (
    COMMAND_LINE_FIELDS,
    MARKER,
    MARKER_FIELDS,
    FixtureSettings,
    for_test,
    ini_key,
    session_defaults,
)

from tests.support import ENGINE_SETTING_SAMPLES, TABLE_SAMPLES

pytest_plugins = ["pytester"]
QUIET = ("-p", "no:hypothesispytest", "-p", "no:benchmark", "-p", "no:faker", "-p", "no:cacheprovider")

# A value unlike the test default for every setting: (as an ini or command-line string, as parsed).
SETTINGS: dict[str, tuple[str, Any]] = {
    **ENGINE_SETTING_SAMPLES,
    "clock": ("real", "real"),
    "strict_models": ("yes", True),
    "progression": ("immediate", "immediate"),
    "api_key": ("k-9", "k-9"),
    "base_url": ("http://other.test", "http://other.test"),
    "other_hosts": ("pass_through", "pass_through"),
    "advance_on_sleep": ("true", True),
    "polling": ("strict", "strict"),
}
# Tables: only a marker gives them (as Python values).
TABLES: dict[str, Any] = TABLE_SAMPLES


class Config:
    """The two methods of `pytest.Config` the options read: ini keys and command-line options."""

    def __init__(self, ini: dict[str, str] | None = None, options: dict[str, str] | None = None) -> None:
        self.ini, self.options = ini or {}, options or {}

    def getini(self, key: str) -> str | None:
        return self.ini.get(key)

    def getoption(self, dest: str, default: object = None) -> object:
        return self.options.get(dest, default)


class Item:
    """A test item carrying markers, closest first (as `iter_markers` yields them)."""

    def __init__(self, *marks: dict[str, Any]) -> None:
        self.marks = [getattr(pytest.mark, MARKER)(**kwargs).mark for kwargs in marks]

    def iter_markers(self, name: str) -> list[pytest.Mark]:
        return self.marks if name == MARKER else []


def settings(ini: dict[str, str] | None = None, options: dict[str, str] | None = None, *marks: dict[str, Any]):
    defaults = session_defaults(Config(ini, options))  # type: ignore[arg-type]
    return for_test(Item(*marks), defaults)  # type: ignore[arg-type]


def test_the_samples_cover_every_field() -> None:
    assert set(SETTINGS) == set(COMMAND_LINE_FIELDS) == set(setting_names(FixtureSettings))
    assert set(SETTINGS) | set(TABLES) == set(MARKER_FIELDS) == set(FixtureSettings.model_fields)


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_every_setting_is_an_ini_key_an_option_and_a_marker_keyword(name: str) -> None:
    text, parsed = SETTINGS[name]
    assert getattr(settings({ini_key(name): text}), name) == parsed
    assert getattr(settings(None, {ini_key(name): text}), name) == parsed
    assert getattr(settings(None, None, {name: parsed}), name) == parsed
    assert getattr(settings(None, None, {name: text}), name) == parsed  # a marker may give the string too


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_table_is_a_marker_keyword(name: str) -> None:
    assert getattr(settings(None, None, {name: TABLES[name]}), name) != getattr(settings(), name)
    assert name not in COMMAND_LINE_FIELDS


def test_test_defaults() -> None:
    given = settings()
    assert (given.clock, given.seed) == ("manual", 0)
    assert given.emulator_config() == EmulatorConfig(clock="manual")


@pytest.mark.parametrize(
    "ini, option, marks, expected",
    [
        (None, None, [], 0),
        ("1", None, [], 1),
        ("1", "2", [], 2),
        ("1", "2", [{"seed": 3}], 3),
        (None, "2", [{"running_seconds": 40}], 2),
        ("1", "2", [{"seed": 4}, {"seed": 3}], 4),  # the closest marker (the test's) wins
        (None, None, [{"running_seconds": 40}, {"seed": 3}], 3),  # markers add up
    ],
)
def test_precedence_test_defaults_ini_command_line_markers(
    ini: str | None, option: str | None, marks: list[dict[str, Any]], expected: int
) -> None:
    given = settings(
        {ini_key("seed"): ini, ini_key("running_seconds"): "30"} if ini else None,
        {ini_key("seed"): option} if option else None,
        *marks,
    )
    assert given.seed == expected
    assert given.running_seconds == (40 if any("running_seconds" in m for m in marks) else 30 if ini else 3)


def test_lists_are_comma_separated_on_the_command_line_and_in_ini() -> None:
    assert settings({ini_key("model_allowlist"): "a/b, c/d ,"}).model_allowlist == ["a/b", "c/d"]
    assert settings(None, {ini_key("model_allowlist"): "e/f"}).model_allowlist == ["e/f"]


def test_a_bad_session_value_is_a_usage_error_naming_its_source() -> None:
    with pytest.raises(pytest.UsageError, match=r"invalid setting seed='x': .* \(from --together-emulator-seed\)"):
        session_defaults(Config(None, {ini_key("seed"): "x"}))  # type: ignore[arg-type]
    with pytest.raises(
        pytest.UsageError, match=r"other_hosts='nowhere': .* \(from ini together_emulator_other_hosts\)"
    ):
        session_defaults(Config({ini_key("other_hosts"): "nowhere"}))  # type: ignore[arg-type]


def test_a_table_in_a_marker_reaches_the_emulator(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\ntogether_emulator_model_allowlist = ini/model\n")
    pytester.makepyfile("""
import httpx
import pytest

@pytest.mark.together_emulator(tenants=[{"key": "team-a-key", "name": "team-a"}], auth="known",
                               api_key="team-a-key")
def test_known_tenant(together_emulator):
    with httpx.Client(base_url=together_emulator.url) as http:
        assert http.get("/v1/evaluation", headers={"Authorization": "Bearer nobody"}).status_code == 401
        ok = http.get("/v1/evaluation/model-list", headers={"Authorization": "Bearer team-a-key"})
    assert ok.status_code == 200 and ok.json() == {"model_list": ["cli/model", "cli/other"]}
""")
    result = pytester.runpytest_inprocess(*QUIET, "--together-emulator-model-allowlist=cli/model,cli/other")
    result.assert_outcomes(passed=1)
