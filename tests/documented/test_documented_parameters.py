"""The documented parameter and config types on a documented create: those with a real counterpart
become real fields of the job (`scale`, `threshold`, the judge, `baseline_model`, the model's system
prompt and settings); the others are accepted and change nothing; `custom` is a 400 that says why."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from together_eval_emulator.documented import (
    APIStatusError,
    ClassifyParameters,
    CompareParameters,
    EvaluationType,
    JudgeModelConfig,
    ModelRequest,
    ScoreParameters,
    Together,
)
from together_eval_emulator.documented._api import DEFAULT_JUDGE_MODEL
from together_eval_emulator.engine import _builtin_datasets as builtin_datasets
from together_eval_emulator.faces._controller import EmulatorController

MODEL = "meta-llama/Llama-3.3-70B-Instruct-Turbo"
DATASET = "reasoning-benchmark-v1"
DEFAULTS = builtin_datasets.get(DATASET).defaults  # type: ignore[union-attr]


def real_parameters(emulator: EmulatorController, job_id: str) -> dict[str, Any]:
    return emulator.job(job_id).parameters


def created(emulator: EmulatorController, evaluation_type: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The real parameters of a documented create of MODEL on DATASET."""
    job = Together().evaluation.create(MODEL, evaluation_type, DATASET, *args, **kwargs)
    return real_parameters(emulator, job.id)


def rejected(evaluation_type: str, *args: Any, **kwargs: Any) -> APIStatusError:
    with pytest.raises(APIStatusError) as raised:
        Together().evaluation.create(MODEL, evaluation_type, DATASET, *args, **kwargs)
    assert raised.value.status_code == 400 and raised.value.type == "invalid_request_error"
    return raised.value


# ---------------------------------------------------------------- mapped onto real fields


def test_scale_becomes_the_score_range_and_the_threshold_moves_with_it(together_emulator: EmulatorController) -> None:
    params = created(together_emulator, "score", ScoreParameters(scale=(0, 5)))
    assert (params["min_score"], params["max_score"]) == (0, 5)
    share = (DEFAULTS.pass_threshold - DEFAULTS.min_score) / (DEFAULTS.max_score - DEFAULTS.min_score)
    assert params["pass_threshold"] == pytest.approx(5 * share, abs=1e-4)  # still two thirds of the way up

    params = created(together_emulator, "score", ScoreParameters(scale=(0, 100)), threshold=80)
    assert (params["min_score"], params["max_score"], params["pass_threshold"]) == (0, 100, 80)


def test_threshold_becomes_the_pass_threshold_of_a_score_job(together_emulator: EmulatorController) -> None:
    params = created(together_emulator, "score", threshold=5)
    assert (params["min_score"], params["max_score"], params["pass_threshold"]) == (1, 10, 5)
    assert created(together_emulator, "score")["pass_threshold"] == DEFAULTS.pass_threshold


@pytest.mark.together_emulator(progression="immediate")
def test_scale_and_threshold_drive_the_results_and_the_score(together_emulator: EmulatorController) -> None:
    client = Together()
    lenient = client.evaluation.create(MODEL, "score", DATASET, ScoreParameters(scale=(0, 5)), threshold=1)
    strict = client.evaluation.create(MODEL, "score", DATASET, ScoreParameters(scale=(0, 5)), threshold=4.5)
    low, high = client.evaluation.retrieve(lenient.id), client.evaluation.retrieve(strict.id)
    assert low.results is not None and high.results is not None
    assert 0 <= low.results["aggregated_scores"]["mean_score"] <= 5
    assert 0 <= high.results["aggregated_scores"]["mean_score"] <= 5
    assert low.results["aggregated_scores"]["pass_percentage"] > high.results["aggregated_scores"]["pass_percentage"]
    assert low.metrics is not None and high.metrics is not None
    assert low.metrics["accuracy"] == pytest.approx(low.results["aggregated_scores"]["pass_percentage"] / 100, abs=1e-4)
    assert low.score == pytest.approx(low.results["aggregated_scores"]["mean_score"] / 5, abs=1e-3)


def test_the_judge_model_config_becomes_the_judge(together_emulator: EmulatorController) -> None:
    judge = JudgeModelConfig(
        model="deepseek-ai/DeepSeek-V3.1", temperature=0.3, max_tokens=512, criteria=["exactness", "brevity"]
    )
    params = created(together_emulator, "classify", judge=judge)
    assert params["judge"]["model"] == "deepseek-ai/DeepSeek-V3.1"
    assert (params["judge"]["temperature"], params["judge"]["max_tokens"]) == (0.3, 512)
    assert params["judge"]["system_template"] == DEFAULTS.judge_system_template
    assert "criteria" not in params["judge"]  # no real counterpart: no effect

    assert created(together_emulator, "classify", judge={"model": "x/judge"})["judge"]["model"] == "x/judge"


def test_the_baseline_model_becomes_model_b(together_emulator: EmulatorController) -> None:
    params = created(together_emulator, "compare", CompareParameters(baseline_model="Qwen/Qwen3.5-9B"))
    assert params["model_a"]["model"] == MODEL and params["model_b"]["model"] == "Qwen/Qwen3.5-9B"


def test_a_model_request_gives_the_model_its_system_prompt_and_settings(together_emulator: EmulatorController) -> None:
    model = ModelRequest(
        model=MODEL,
        system_prompt="Answer with the option text only.",
        parameters={"temperature": 0.4, "max_tokens": 64, "top_p": 0.9},
    )
    job = Together().evaluation.create(model, EvaluationType.SCORE, DATASET)
    assert job.model == MODEL
    generator = real_parameters(together_emulator, job.id)["model_to_evaluate"]
    assert generator["model"] == MODEL and generator["system_template"] == "Answer with the option text only."
    assert (generator["temperature"], generator["max_tokens"]) == (0.4, 64)
    assert "top_p" not in generator  # no real counterpart: no effect
    assert generator["input_template"] == DEFAULTS.model_input_template


def test_the_same_mapping_serves_plain_http(together_emulator: EmulatorController) -> None:
    reply = httpx.post(
        f"{together_emulator.url}/v1/evaluation",
        headers={"Authorization": f"Bearer {together_emulator.api_key}"},
        json={
            "model": MODEL,
            "evaluation_type": "score",
            "dataset": DATASET,
            "parameters": {"scale": [1, 5], "threshold": 4, "judge": {"model": "x/judge", "criteria": ["a"]}},
        },
    )
    assert reply.status_code == 200
    params = real_parameters(together_emulator, reply.json()["id"])
    assert (params["min_score"], params["max_score"], params["pass_threshold"]) == (1, 5, 4)
    assert params["judge"]["model"] == "x/judge" and "criteria" not in params["judge"]


# ---------------------------------------------------------------- accepted, no effect


@pytest.mark.parametrize(
    "evaluation_type,documented",
    [
        ("classify", {"parameters": ClassifyParameters(threshold=0.8, categories=["logic", "math"])}),
        ("score", {"parameters": ScoreParameters(metric="helpfulness")}),
        ("compare", {"parameters": CompareParameters(comparison_metric="win_rate"), "baseline_model": "m/b"}),
        ("classify", {"judge": JudgeModelConfig(model=DEFAULT_JUDGE_MODEL, criteria=["exactness"])}),
    ],
)
def test_parameters_without_a_real_counterpart_change_nothing(
    together_emulator: EmulatorController, evaluation_type: str, documented: dict[str, Any]
) -> None:
    plain = {"baseline_model": "m/b"} if evaluation_type == "compare" else {}
    assert created(together_emulator, evaluation_type, **documented) == created(
        together_emulator, evaluation_type, **plain
    )


# ---------------------------------------------------------------- rejected


def test_custom_is_a_400_that_says_why_and_what_to_use(together_emulator: EmulatorController) -> None:
    error = rejected(EvaluationType.CUSTOM)
    assert error.param == "evaluation_type"
    for words in ("'custom'", "cannot run it", "'classify'", "'score'", "'compare'", "parameters.judge", "'type'"):
        assert words in error.message, error.message
    assert together_emulator.jobs() == []


@pytest.mark.parametrize(
    "evaluation_type,kwargs,param,words",
    [
        ("classify", {"parameters": ScoreParameters(scale=(1, 5))}, "parameters.scale", ["only used by score"]),
        ("score", {"parameters": {"scale": [5, 1]}}, "parameters.scale", ["min < max", "[5, 1]"]),
        ("score", {"parameters": {"scale": [1, 5, 9]}}, "parameters.scale", ["two numbers"]),
        ("score", {"parameters": {"scale": ["low", 5]}}, "parameters.scale[0]", ["must be a number, got string"]),
        ("score", {"threshold": 0.8}, "parameters.threshold", ["[1, 10]", "not a share"]),
        (
            "score",
            {"parameters": ScoreParameters(scale=(0, 5)), "threshold": 7},
            "parameters.threshold",
            ["[0.0, 5.0]"],
        ),
        ("score", {"threshold": "high"}, "parameters.threshold", ["must be a number, got string"]),
        ("compare", {"baseline_model": "m/b", "threshold": 5}, "parameters.threshold", ["compare evaluation has none"]),
        ("classify", {"categories": "logic"}, "parameters.categories", ["valid list"]),
        ("score", {"metric": 3}, "parameters.metric", ["valid string"]),
        ("classify", {"judge": {"criteria": "be strict"}}, "parameters.judge.criteria", ["array of strings"]),
        ("classify", {"judge": {"temperature": 3}}, "parameters.judge.temperature", ["temperature"]),
        ("compare", {"parameters": CompareParameters(comparison_metric="x")}, "parameters.baseline_model", ["needs"]),
    ],
)
def test_a_documented_parameter_of_the_wrong_kind_is_a_400_naming_it(
    together_emulator: EmulatorController, evaluation_type: str, kwargs: dict[str, Any], param: str, words: list[str]
) -> None:
    error = rejected(evaluation_type, **kwargs)
    assert error.param == param, error.message
    assert all(word in error.message for word in words), error.message
    assert together_emulator.jobs() == []
