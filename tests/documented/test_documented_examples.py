"""The documented API's usage examples, run as tests through the documented client.

Each `*_example` function is a usage example of the documented API as it circulates, with one
change: its import line (`from together import Together` becomes the documented client's). The
fixture supplies TOGETHER_API_KEY and TOGETHER_BASE_URL, and the marker picks a progression that
needs no sleeping: `immediate` (the first read shows the end) or `after_polls` (each read moves the
job one phase on; the loop's `time.sleep(30)` only advances the emulator clock).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from together_eval_emulator.documented import EvaluationCreateResponse, EvaluationJob
from together_eval_emulator.engine import _builtin_datasets as builtin_datasets
from together_eval_emulator.faces._controller import EmulatorController

# ---------------------------------------------------------------- the examples


def basic_evaluation_example() -> EvaluationCreateResponse:
    from together_eval_emulator.documented import Together  # the example: from together import Together

    client = Together()

    # Start an evaluation job
    evaluation = client.evaluation.create(
        model="meta-llama/Llama-3.2-3B-Instruct-Turbo",
        evaluation_type="classify",
        dataset="reasoning-benchmark-v1",
    )

    print(f"Evaluation ID: {evaluation.id}")
    print(f"Status: {evaluation.status}")
    return evaluation


def monitoring_example() -> EvaluationJob:
    import time

    from together_eval_emulator.documented import Together  # the example: from together import Together

    client = Together()

    evaluation = client.evaluation.create(
        model="meta-llama/Llama-3.3-70B-Instruct-Turbo",
        evaluation_type="score",
        dataset="qa-benchmark-v1",
    )

    # Monitor the evaluation until it finishes
    while True:
        job = client.evaluation.retrieve(evaluation.id)
        print(f"Status: {job.status}")

        if job.status == "completed":
            print(f"Score: {job.score}")
            print(f"Metrics: {job.metrics}")
            break
        elif job.status == "failed":
            print(f"Evaluation failed: {job.error}")
            break

        time.sleep(30)  # check every 30 seconds

    return job


def model_comparison_example() -> list[tuple[str, float]]:
    from together_eval_emulator.documented import Together  # the example: from together import Together

    client = Together()

    models = [
        "meta-llama/Llama-3.2-3B-Instruct-Turbo",
        "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        "Qwen/Qwen3.5-9B",
        "deepseek-ai/DeepSeek-V3.1",
    ]

    # Start one evaluation per model, all on the same dataset
    evaluations = {}
    for model in models:
        evaluation = client.evaluation.create(
            model=model,
            evaluation_type="score",
            dataset="standard-benchmark-v1",
        )
        evaluations[model] = evaluation.id

    # Collect the scores of the finished ones
    results = []
    for model, evaluation_id in evaluations.items():
        job = client.evaluation.retrieve(evaluation_id)
        if job.status == "completed":
            results.append((model, job.score))

    # Rank the models by score
    results.sort(key=lambda item: item[1], reverse=True)
    for rank, (model, score) in enumerate(results, 1):
        print(f"{rank}. {model}: {score:.3f}")
    return results  # type: ignore[return-value]


def metrics_analysis_example() -> dict[str, Any]:
    from together_eval_emulator.documented import Together  # the example: from together import Together

    client = Together()

    evaluation = client.evaluation.create(
        model="meta-llama/Llama-3.3-70B-Instruct-Turbo",
        evaluation_type="classify",
        dataset="math-benchmark-v1",
    )
    job = client.evaluation.retrieve(evaluation.id)

    if job.status == "completed" and job.metrics:
        metrics = job.metrics
        print(f"Accuracy: {metrics.get('accuracy', 'N/A')}")
        print(f"Precision: {metrics.get('precision', 'N/A')}")
        print(f"Recall: {metrics.get('recall', 'N/A')}")
        print(f"F1 score: {metrics.get('f1_score', 'N/A')}")

        # Performance per category
        for category, stats in metrics.get("categories", {}).items():
            print(f"{category}: {stats.get('accuracy', 'N/A')}")
    return job.metrics or {}


# ---------------------------------------------------------------- the tests


@pytest.mark.together_emulator(progression="immediate")
@pytest.mark.parametrize("face", ["together_emulator", "together_emulator_server"])
def test_basic_evaluation(request: pytest.FixtureRequest, face: str, capsys: pytest.CaptureFixture[str]) -> None:
    emulator: EmulatorController = request.getfixturevalue(face)

    evaluation = basic_evaluation_example()

    assert evaluation.status == "pending" and evaluation.object == "evaluation"
    assert evaluation.created_at == int(emulator.now().timestamp())
    assert capsys.readouterr().out == f"Evaluation ID: {evaluation.id}\nStatus: pending\n"
    assert emulator.job(evaluation.id).type == "classify"


@pytest.mark.together_emulator(progression="after_polls", advance_on_sleep=True)
def test_monitoring_loop_until_completed(
    together_emulator: EmulatorController, capsys: pytest.CaptureFixture[str]
) -> None:
    job = monitoring_example()

    out = capsys.readouterr().out.splitlines()
    # One poll per phase: pending, queued (read as pending), running, completed.
    assert out[:4] == ["Status: pending", "Status: pending", "Status: running", "Status: completed"]
    assert out[4] == f"Score: {job.score}" and out[5].startswith("Metrics: {'accuracy': ")
    assert job.status == "completed" and job.api_status == "completed" and job.error is None
    assert job.score is not None and 0 <= job.score <= 1
    together_emulator.assert_polled(job.id, times=4)


@pytest.mark.together_emulator(progression="after_polls", advance_on_sleep=True)
def test_monitoring_loop_until_failed(
    together_emulator: EmulatorController, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = {"times": 1, "outcome": {"kind": "error", "at": "running", "message": "judge unavailable"}}
    assert httpx.post(f"{together_emulator.url}/_emulator/scenarios", json=scenario).status_code == 201

    job = monitoring_example()

    assert capsys.readouterr().out.splitlines() == [
        "Status: pending",
        "Status: pending",
        "Status: running",
        "Status: failed",
        "Evaluation failed: judge unavailable",
    ]
    assert (job.status, job.api_status, job.score, job.metrics) == ("failed", "error", None, None)
    assert job.completed_at is not None


@pytest.mark.together_emulator(progression="immediate")
def test_comparing_models_and_ranking_them(
    together_emulator: EmulatorController, capsys: pytest.CaptureFixture[str]
) -> None:
    results = model_comparison_example()

    scores = [score for _, score in results]
    assert len(results) == 4 and scores == sorted(scores, reverse=True)
    assert len(set(scores)) == 4  # the models really differ
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{rank}. {model}: {score:.3f}" for rank, (model, score) in enumerate(results, 1)]


@pytest.mark.together_emulator(progression="immediate")
def test_comparing_models_ranks_the_same_on_every_run(together_emulator: EmulatorController) -> None:
    """The ranking is a pure function of the seed, not of what ran before."""
    first = model_comparison_example()
    together_emulator.reset()
    assert model_comparison_example() == first


@pytest.mark.together_emulator(progression="immediate")
def test_metrics_analysis(together_emulator: EmulatorController, capsys: pytest.CaptureFixture[str]) -> None:
    metrics = metrics_analysis_example()

    out = capsys.readouterr().out.splitlines()
    assert out[:4] == [
        f"Accuracy: {metrics['accuracy']}",
        f"Precision: {metrics['precision']}",
        f"Recall: {metrics['recall']}",
        f"F1 score: {metrics['f1_score']}",
    ]
    catalog = builtin_datasets.get("math-benchmark-v1")
    assert catalog is not None
    assert out[4:] == [f"{name}: {stats['accuracy']}" for name, stats in metrics["categories"].items()]
    assert {name: stats["count"] for name, stats in metrics["categories"].items()} == catalog.categories
    assert all(0 <= metrics[key] <= 1 for key in ("accuracy", "precision", "recall", "f1_score"))
