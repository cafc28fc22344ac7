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

pytest_plugins = ["pytester"]
QUIET = ("-p", "no:hypothesispytest", "-p", "no:benchmark", "-p", "no:faker", "-p", "no:cacheprovider")

# A value unlike the test default for every setting: (as an ini or command-line string, as parsed).
SETTINGS: dict[str, tuple[str, Any]] = {
    "seed": ("7", 7),
    "clock": ("real", "real"),
    "time_scale": ("60", 60.0),
    "start_time": ("2030-05-01T00:00:00Z", "2030-05-01T00:00:00Z"),
    "pending_seconds": ("0.5", 0.5),
    "queued_seconds": ("4", 4.0),
    "running_seconds": ("9", 9.0),
    "running_seconds_per_row": ("0", 0.0),
    "failure_delay_seconds": ("2", 2.0),
    "max_running_per_tenant": ("5", 5),
    "max_running": ("20", 20),
    "capacity_priority": ("team-a, key-b", ["team-a", "key-b"]),
    "column_use_rule": ("off", False),
    "strict_models": ("yes", True),
    "journal_limit": ("5", 5),
    "journal_byte_limit": ("1048576", 1048576),
    "journal_body_limit": ("1024", 1024),
    "upload_url_seconds": ("600", 600.0),
    "model_allowlist": ("org/a, org/b", ["org/a", "org/b"]),
    "progression": ("immediate", "immediate"),
    "polls_per_phase": ("3", 3),
    "polling_min_interval_seconds": ("2.5", 2.5),
    "polling_reads_after_terminal": ("1", 1),
    "polling_honours_retry_after": ("off", False),
    "polling_list_watches": ("2", 2),
    "admin_token": ("secret", "secret"),
    "auth": ("known", "known"),
    "max_body_bytes": ("2048", 2048),
    "max_upload_bytes": ("4096", 4096),
    "max_json_depth": ("10", 10),
    "max_list_items": ("20", 20),
    "max_string_chars": ("30", 30),
    "api_key": ("k-9", "k-9"),
    "base_url": ("http://other.test", "http://other.test"),
    "other_hosts": ("pass_through", "pass_through"),
    "advance_on_sleep": ("true", True),
    "polling": ("strict", "strict"),
}
# Tables: only a marker gives them (as Python values).
TABLES: dict[str, Any] = {
    "model_lists": {"dedicated": ["ep_abc123"]},
    "max_running_per_type": {"compare": 1},
    "defaults": {"outcome": {"kind": "completed", "pass_percentage": 90}},
    "types": {"score": {"progression": {"mode": "immediate"}}},
    "scenarios": [{"times": 1, "outcome": {"kind": "error", "at": "queued", "message": "boom"}}],
    "faults": [{"match": {"route": "evaluation.status"}, "action": {"kind": "error", "status": 429}}],
    "tenants": [{"key": "team-a-key", "name": "team-a"}],
    "files": [{"tenant": "team-a-key", "rows": [{"prompt": "p"}]}],
    "recordings": [
        {
            "name": "failed-late",
            "job": {
                "type": "score",
                "status_updates": [
                    {"status": "pending", "timestamp": "2025-06-30T12:50:40.722334754Z"},
                    {"status": "error", "timestamp": "2025-06-30T13:50:40Z"},
                ],
            },
        }
    ],
}


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
