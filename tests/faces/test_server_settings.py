"""`serve`'s settings (`ServerSettings`): every field reachable from each source that should read it,
the precedence defaults < config file < environment < command line, and list parsing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from together_eval_emulator.engine._config import EmulatorConfig, env_var, setting_names
from together_eval_emulator.faces._cli import main, parser
from together_eval_emulator.faces._configfile import ConfigFileError
from together_eval_emulator.faces._settings import ENV_FIELDS, FILE_FIELDS, OPTION_FIELDS, ServerSettings, option_of

from tests.support import ENGINE_SETTING_SAMPLES, TABLE_SAMPLES

# A value unlike the default for every setting: (as an option or a variable gives it, as parsed).
SETTINGS: dict[str, tuple[str, Any]] = {
    **ENGINE_SETTING_SAMPLES,
    "clock": ("manual", "manual"),
    "progression": ("after_polls", "after_polls"),
    "host": ("127.0.0.2", "127.0.0.2"),
    "port": ("8123", 8123),
    "log_level": ("info", "info"),
    "store": ("sqlite:state.db", "sqlite:state.db"),
    "reset_store": ("on", True),
    "workers": ("3", 3),
}
# A value of every table, as a config file gives it.
TABLES: dict[str, Any] = TABLE_SAMPLES


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shell running the suite must not leak settings into these tests."""
    for name in ServerSettings.model_fields:
        monkeypatch.delenv(env_var(name), raising=False)


def write(tmp_path: Path, values: dict[str, Any]) -> str:
    path = tmp_path / "emulator.json"
    path.write_text(json.dumps(values))
    return str(path)


def from_command_line(*args: str) -> ServerSettings:
    """The settings `serve ARGS` would run with (the same path as `main`)."""
    namespace = parser().parse_args(["serve", *args])
    return ServerSettings(**{name: value for name in OPTION_FIELDS if (value := getattr(namespace, name)) is not None})


def test_the_samples_cover_every_field() -> None:
    assert set(SETTINGS) | {"config"} == set(setting_names(ServerSettings))
    assert set(SETTINGS) | set(TABLES) | {"config"} == set(ServerSettings.model_fields)
    assert set(OPTION_FIELDS) == set(ENV_FIELDS) == set(SETTINGS) | {"config"}
    assert set(FILE_FIELDS) == set(SETTINGS) | set(TABLES)


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_every_setting_is_an_option(name: str) -> None:
    text, parsed = SETTINGS[name]
    assert getattr(from_command_line(option_of(name), text), name) == parsed


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_every_setting_is_an_environment_variable(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    text, parsed = SETTINGS[name]
    monkeypatch.setenv(env_var(name), text)
    assert getattr(ServerSettings(), name) == parsed


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_every_setting_is_a_config_file_key(name: str, tmp_path: Path) -> None:
    _, parsed = SETTINGS[name]
    assert getattr(ServerSettings(config=write(tmp_path, {name: parsed})), name) == parsed


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_table_is_a_config_file_key_and_nothing_else(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_file = ServerSettings(config=write(tmp_path, {name: TABLES[name]}))
    assert getattr(from_file, name) != getattr(ServerSettings(), name)
    assert name not in OPTION_FIELDS
    monkeypatch.setenv(env_var(name), json.dumps(TABLES[name]))
    assert getattr(ServerSettings(), name) == getattr(EmulatorConfig(), name, ServerSettings.model_fields[name].default)


def test_the_config_file_path_comes_from_the_option_or_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    by_variable, by_option = write(tmp_path / "a", {"seed": 1}), write(tmp_path / "b", {"seed": 2})
    monkeypatch.setenv("TOGETHER_EMULATOR_CONFIG", by_variable)
    assert from_command_line().seed == 1
    assert from_command_line("--config", by_option).seed == 2
    (tmp_path / "inner.json").write_text(json.dumps({"config": by_option}))
    with pytest.raises(ConfigFileError, match="'config' names the config file"):
        from_command_line("--config", str(tmp_path / "inner.json"))


@pytest.mark.parametrize(
    "file, variable, option, expected",
    [
        (None, None, None, 0),
        (1, None, None, 1),
        (1, "2", None, 2),
        (None, "2", None, 2),
        (1, "2", "3", 3),
        (1, None, "3", 3),
        (None, None, "3", 3),
    ],
)
def test_precedence_defaults_file_environment_command_line(
    file: int | None,
    variable: str | None,
    option: str | None,
    expected: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = ["--config", write(tmp_path, {"seed": file, "running_seconds": 30})] if file is not None else []
    if variable is not None:
        monkeypatch.setenv("TOGETHER_EMULATOR_SEED", variable)
    if option is not None:
        args += ["--seed", option]
    settings = from_command_line(*args)
    assert settings.seed == expected
    assert settings.running_seconds == (30 if file is not None else 3)  # layers below keep their other values


def test_precedence_of_a_list_and_of_the_server_fields(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(tmp_path, {"model_allowlist": ["file/model"], "port": 8100, "host": "127.0.0.3"})
    monkeypatch.setenv("TOGETHER_EMULATOR_MODEL_ALLOWLIST", "env/model")
    monkeypatch.setenv("TOGETHER_EMULATOR_PORT", "8200")
    settings = from_command_line("--config", config, "--port", "8300")
    assert (settings.model_allowlist, settings.port, settings.host) == (["env/model"], 8300, "127.0.0.3")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("org/a,org/b", ["org/a", "org/b"]),
        (" org/a , org/b ,, ", ["org/a", "org/b"]),
        ("only/one", ["only/one"]),
        (",", []),
    ],
)
def test_list_variables_are_comma_separated(text: str, expected: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOGETHER_EMULATOR_MODEL_ALLOWLIST", text)
    assert ServerSettings().model_allowlist == expected
    assert EmulatorConfig.from_env({"TOGETHER_EMULATOR_MODEL_ALLOWLIST": text}).model_allowlist == expected
    assert from_command_line("--model-allowlist", text).model_allowlist == expected


def test_empty_variables_are_unset_and_names_ignore_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOGETHER_EMULATOR_SEED", "")
    monkeypatch.setenv("together_emulator_running_seconds", "12")
    settings = ServerSettings()
    assert (settings.seed, settings.running_seconds) == (0, 12)


def test_settings_are_immutable_and_give_a_plain_emulator_config() -> None:
    settings = from_command_line("--seed", "4", "--port", "0")
    with pytest.raises(ValidationError, match="frozen"):
        settings.seed = 5  # type: ignore[misc]
    config = settings.emulator_config()
    assert type(config) is EmulatorConfig and config.seed == 4


def test_errors_name_the_setting_the_value_and_its_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["serve", "--time-scale", "0"]) == 2
    assert "invalid setting time_scale='0' (--time-scale): Input should be greater than 0" in capsys.readouterr().err
    monkeypatch.setenv("TOGETHER_EMULATOR_PORT", "http")
    assert main(["serve"]) == 2
    assert "invalid setting port='http' (TOGETHER_EMULATOR_PORT): Input should be a valid integer" in (
        capsys.readouterr().err
    )
    monkeypatch.delenv("TOGETHER_EMULATOR_PORT")
    config = write(tmp_path, {"sede": 3})
    assert main(["serve", "--config", config]) == 2
    assert f"invalid setting sede (config file {config}): Extra inputs are not permitted" in capsys.readouterr().err


def test_help_names_every_option_and_its_variable() -> None:
    text = parser()._subparsers._group_actions[0].choices["serve"].format_help()  # type: ignore[union-attr]
    for name in OPTION_FIELDS:
        assert option_of(name) in text and env_var(name) in text.replace("\n", "").replace(" ", "")


def test_an_on_off_option_given_bare_is_on() -> None:
    bare = from_command_line("--reset-store", "--strict-models")
    assert bare.reset_store is True and bare.strict_models is True
    assert from_command_line("--reset-store", "off", "--port", "0").reset_store is False
