"""`EmulatorConfig`: immutable settings (derived with `model_copy`), parsed once by the model, and
the one helper that reports the first validation error."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, ValidationError
from together_eval_emulator.engine._config import EmulatorConfig, SeedFile, setting_names
from together_eval_emulator.engine._first_error import first_error


def test_a_config_is_immutable_and_derived_with_model_copy() -> None:
    config = EmulatorConfig(seed=1)
    with pytest.raises(ValidationError, match="frozen"):
        config.seed = 2  # type: ignore[misc]
    derived = config.model_copy(update={"seed": 2})
    assert (config.seed, derived.seed) == (1, 2)


def test_lists_are_parsed_by_the_model_from_one_string() -> None:
    assert EmulatorConfig(model_allowlist=" a/b, c/d ,").model_allowlist == ["a/b", "c/d"]  # type: ignore[arg-type]
    assert EmulatorConfig(model_allowlist=["x,y"]).model_allowlist == ["x,y"]  # a real list is kept as given


def test_from_env_layers_file_environment_and_overrides() -> None:
    environ = {"TOGETHER_EMULATOR_SEED": "2", "TOGETHER_EMULATOR_QUEUED_SECONDS": "", "TOGETHER_EMULATOR_FAULTS": "[]"}
    config = EmulatorConfig.from_env(environ, file={"seed": 1, "queued_seconds": 5}, running_seconds=9, clock=None)
    assert (config.seed, config.queued_seconds, config.running_seconds, config.clock) == (2, 5, 9, "real")
    assert EmulatorConfig.from_env(environ, seed=3).seed == 3


def test_settings_are_the_scalar_and_list_fields() -> None:
    assert setting_names(EmulatorConfig) == [
        "seed",
        "clock",
        "time_scale",
        "start_time",
        "pending_seconds",
        "queued_seconds",
        "running_seconds",
        "running_seconds_per_row",
        "failure_delay_seconds",
        "max_running_per_tenant",
        "max_running",
        "capacity_priority",
        "column_use_rule",
        "strict_models",
        "journal_limit",
        "journal_byte_limit",
        "journal_body_limit",
        "upload_url_seconds",
        "model_allowlist",
        "progression",
        "polls_per_phase",
        "polling_min_interval_seconds",
        "polling_reads_after_terminal",
        "polling_honours_retry_after",
        "polling_list_watches",
        "admin_token",
        "auth",
        "max_body_bytes",
        "max_upload_bytes",
        "max_json_depth",
        "max_list_items",
        "max_string_chars",
    ]


def test_a_seed_file_is_named_after_its_path() -> None:
    assert SeedFile(tenant="k", path="data/qa.jsonl").filename == "qa.jsonl"
    assert SeedFile(tenant="k", rows=[{"a": 1}]).filename == "dataset.jsonl"
    assert SeedFile(tenant="k", content="{}", filename="mine.jsonl").filename == "mine.jsonl"


class Inner(BaseModel):
    seconds: float = Field(gt=0)


class Outer(BaseModel):
    items: list[Inner]


def test_first_error_names_the_dotted_field_the_message_and_the_value() -> None:
    with pytest.raises(ValidationError) as info:
        Outer.model_validate({"items": [{"seconds": 1}, {"seconds": -1}, {"seconds": "x"}]})
    first = first_error(info.value)
    assert (first.field, first.message, first.value) == ("items.1.seconds", "Input should be greater than 0", -1)
    assert first_error(info.value, under="parameters").field == "parameters.items.1.seconds"
    with pytest.raises(ValidationError) as info:
        Outer.model_validate([])
    assert first_error(info.value).field == ""
