"""Magic judge models: `emulator/<directive>+...` select a scenario from the request."""

from __future__ import annotations

import pytest
from together_eval_emulator.engine._errors import InvalidRequest
from together_eval_emulator.engine._magic import scenario_of
from together_eval_emulator.http._wire import ClassifyParameters


def params(model: str) -> ClassifyParameters:
    return ClassifyParameters.model_validate(
        {
            "input_data_file_path": "f",
            "labels": ["a", "b"],
            "pass_labels": ["a"],
            "judge": {"model": model, "model_source": "serverless", "system_template": "t"},
        }
    )


def test_ordinary_models_are_not_magic() -> None:
    assert scenario_of(params("meta-llama/Llama-3.3-70B-Instruct-Turbo")) is None
    assert scenario_of(params("emulatorish/x")) is None


@pytest.mark.parametrize(
    "model, progression, outcome",
    [
        ("emulator/completed", None, {"kind": "completed"}),
        (
            "emulator/error",
            None,
            {"kind": "error", "message": "Emulated error requested by the magic judge model 'emulator/error'."},
        ),
        ("emulator/user_error@queued", None, {"kind": "user_error", "at": "queued"}),
        ("emulator/stall@pending", None, {"kind": "stall", "at": "pending"}),
        ("emulator/preempt-2", None, {"preemptions": 2}),
        ("emulator/preempt", None, {"preemptions": 1}),
        ("emulator/pass-80", None, {"pass_percentage": 80}),
        ("emulator/mean-7.5+spread-1", None, {"score_mean": 7.5, "score_spread": 1}),
        ("emulator/mean--2", None, {"score_mean": -2}),
        ("emulator/wins-6-3-1", None, {"compare_weights": {"A": 6, "B": 3, "Tie": 1}}),
        (
            "emulator/judge-fail-40+gen-fail-5+invalid-1",
            None,
            {"judge_fail_rate": 0.4, "generation_fail_rate": 0.05, "invalid_rate": 0.01},
        ),
        ("emulator/immediate", {"mode": "immediate"}, None),
        ("emulator/manual", {"mode": "manual"}, None),
        ("emulator/polls-3+error@queued", {"mode": "after_polls", "polls": 3}, {"kind": "error", "at": "queued"}),
        ("emulator/durations-1-2.5-3", {"mode": "durations", "pending": 1, "queued": 2.5, "running": 3}, None),
    ],
)
def test_directives(model: str, progression: dict[str, object] | None, outcome: dict[str, object] | None) -> None:
    scenario = scenario_of(params(model))
    assert scenario is not None
    if progression is None:
        assert scenario.progression is None
    else:
        assert scenario.progression is not None
        assert scenario.progression.model_dump(exclude_none=True) == progression
    if outcome is None:
        assert scenario.outcome is None
    else:
        assert scenario.outcome is not None
        dumped = scenario.outcome.model_dump()
        assert {k: dumped[k] for k in outcome} == outcome


@pytest.mark.parametrize(
    "model, words",
    [
        ("emulator/explode", "Unknown magic directive 'explode'"),
        ("emulator/error@finished", "Unknown magic directive 'error@finished'"),
        ("emulator/", "Unknown magic directive ''"),
        ("emulator/error+pass-80", "do not fit"),
        ("emulator/pass-120", "do not fit"),
    ],
)
def test_bad_magic_is_a_400_naming_the_field(model: str, words: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        scenario_of(params(model))
    assert info.value.param == "parameters.judge.model"
    assert words in info.value.message
