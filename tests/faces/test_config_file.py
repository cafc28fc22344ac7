"""`serve --config FILE`: TOML and JSON files become EmulatorConfig values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError
from together_eval_emulator.engine._config import EmulatorConfig
from together_eval_emulator.faces._configfile import ConfigFileError, load_config_file

TOML = """
seed = 7
clock = "manual"
progression = "after_polls"
polls_per_phase = 2

[defaults.outcome]
kind = "completed"
pass_percentage = 90

[types.score.progression]
mode = "immediate"

[[scenarios]]
times = 1
match = { judge_model = "judge-*" }
outcome = { kind = "error", at = "queued", message = "boom" }

[[faults]]
match = { route = "evaluation.status" }
after = 2
times = 1
action = { kind = "error", status = 429, retry_after = 0.1 }

[[tenants]]
key = "team-a-key"
name = "team-a"

[[files]]
tenant = "team-a-key"
id = "file-00000000-0000-4000-8000-000000000001"
path = "data/qa.jsonl"
"""


def test_toml_file_with_every_table(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "qa.jsonl").write_text('{"prompt": "p", "response": "r"}\n')
    path = tmp_path / "emulator.toml"
    path.write_text(TOML)
    config = EmulatorConfig.from_env({}, file=load_config_file(path), seed=9)
    assert config.seed == 9  # explicit options win over the file
    assert config.clock == "manual" and config.progression == "after_polls" and config.polls_per_phase == 2
    assert config.defaults is not None and config.defaults.outcome is not None
    assert config.defaults.outcome.pass_percentage == 90
    assert config.types["score"].progression.mode == "immediate"  # type: ignore[union-attr]
    assert config.scenarios[0].times == 1 and config.faults[0].action.status == 429
    assert config.tenants[0].name == "team-a"
    assert config.files[0].filename == "qa.jsonl" and config.files[0].content == '{"prompt": "p", "response": "r"}\n'


def test_json_file_and_environment_layering(tmp_path: Path) -> None:
    path = tmp_path / "emulator.json"
    path.write_text(json.dumps({"seed": 3, "queued_seconds": 5, "files": [{"tenant": "k", "rows": [{"a": 1}]}]}))
    config = EmulatorConfig.from_env({"TOGETHER_EMULATOR_SEED": "4"}, file=load_config_file(path))
    assert (config.seed, config.queued_seconds) == (4, 5)
    assert config.files[0].filename == "dataset.jsonl"


@pytest.mark.parametrize(
    "name, text, words",
    [
        ("bad.toml", "seed = ", "is not valid TOML"),
        ("bad.json", "{", "is not valid JSON"),
        ("list.json", "[]", "must hold an object"),
        ("missing.toml", None, "cannot read config file"),
        ("data.toml", '[[files]]\ntenant = "k"\npath = "nope.jsonl"\n', "files.0.path"),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, text: str | None, words: str) -> None:
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    with pytest.raises(ConfigFileError, match=words.replace(".", r"\.")):
        load_config_file(path)


def test_invalid_values_name_the_field(tmp_path: Path) -> None:
    path = tmp_path / "emulator.toml"
    path.write_text('[[faults]]\naction = { kind = "latency" }\n')
    with pytest.raises(ValidationError) as info:
        EmulatorConfig.from_env({}, file=load_config_file(path))
    assert info.value.errors()[0]["loc"] == ("faults", 0, "action", "seconds")
    with pytest.raises(ValidationError) as info:
        EmulatorConfig.model_validate({"files": [{"tenant": "k"}]})
    assert "exactly one of 'content', 'rows' or 'path'" in str(info.value)
