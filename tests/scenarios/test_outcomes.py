"""Each outcome: results, fail counts and the result file agree; the >30% rule fails the job;
errors, stalls and preemption follow their paths; everything is deterministic under the seed."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

import pytest
from scenario_support import (
    Api,
    classify_params,
    compare_params,
    compare_rows,
    jsonl,
    make_face,
    qa_rows,
    score_params,
    statuses,
)

GENERATOR = {
    "model": "gen-model",
    "model_source": "serverless",
    "system_template": "Answer.",
    "input_template": "{{prompt}}",
}


def run(api: Api, eval_type: str, params: dict[str, Any], outcome: dict[str, Any]) -> dict[str, Any]:
    """Create one job with `outcome` (next-1 scenario, immediate progression) and read it."""
    api.control("POST", "scenarios", {"times": 1, "progression": {"mode": "immediate"}, "outcome": outcome})
    return api.job(api.create_id(eval_type, params))


def prompts(n: int) -> list[dict[str, Any]]:
    """Rows for jobs that generate their responses (the column-use rule wants no other column)."""
    return [{"prompt": f"Question {i}?"} for i in range(n)]


def classify_job(api: Api, rows: int, outcome: dict[str, Any], **extra: Any) -> tuple[dict[str, Any], list[dict]]:
    data = prompts(rows) if "model_to_evaluate" in extra else qa_rows(rows)
    job = run(api, "classify", classify_params(api.upload(jsonl(data)), **extra), outcome)
    assert job["status"] == "completed", job
    return job["results"], api.content(job["results"]["result_file_id"])


def check_classify_agrees(results: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    good = [row for row in rows if row["evaluation_successful"]]
    assert results["label_counts"] == {"bad": 0, "good": 0} | dict(Counter(row["label"] for row in good))
    assert results["pass_percentage"] == pytest.approx(100 * sum(row["label"] == "good" for row in good) / len(rows))
    failed = [row for row in rows if not row["evaluation_successful"]]
    assert (
        len(failed) == results["judge_fail_count"] + results["invalid_label_count"] + results["generation_fail_count"]
    )


@pytest.mark.parametrize(
    "outcome, expected",
    [
        ({"pass_percentage": 100}, {"good": 40, "bad": 0}),
        ({"pass_percentage": 0}, {"good": 0, "bad": 40}),
        ({"label_weights": {"bad": 1}}, {"good": 0, "bad": 40}),
    ],
)
def test_classify_exact_distributions(api: Api, outcome: dict[str, Any], expected: dict[str, int]) -> None:
    results, rows = classify_job(api, 40, outcome)
    assert results["label_counts"] == expected
    check_classify_agrees(results, rows)


def test_classify_target_pass_percentage_is_approached(api: Api) -> None:
    results, rows = classify_job(api, 200, {"pass_percentage": 30})
    assert 20 <= results["pass_percentage"] <= 40
    check_classify_agrees(results, rows)


def test_score_mean_and_spread(api: Api) -> None:
    file_id = api.upload(jsonl(qa_rows(100)))
    exact = run(api, "score", score_params(file_id), {"score_mean": 8, "score_spread": 0})["results"]
    assert exact["aggregated_scores"] == {"mean_score": 8, "pass_percentage": 100, "std_score": 0}
    job = run(api, "score", score_params(file_id), {"score_mean": 4, "score_spread": 1.5})
    results, rows = job["results"], api.content(job["results"]["result_file_id"])
    scores = [row["score"] for row in rows]
    assert results["aggregated_scores"]["mean_score"] == pytest.approx(statistics.fmean(scores))
    assert results["aggregated_scores"]["std_score"] == pytest.approx(statistics.pstdev(scores))
    assert 3.4 <= statistics.fmean(scores) <= 4.6 and 0.9 <= statistics.pstdev(scores) <= 2.1
    assert results["aggregated_scores"]["pass_percentage"] == pytest.approx(sum(s >= 6 for s in scores))


@pytest.mark.parametrize(
    "weights, expected",
    [
        ({"A": 1}, (30, 0, 0)),
        ({"B": 1}, (0, 30, 0)),
        ({"Tie": 1}, (0, 0, 30)),
    ],
)
def test_compare_exact_weights(api: Api, weights: dict[str, float], expected: tuple[int, int, int]) -> None:
    file_id = api.upload(jsonl(compare_rows(30)))
    job = run(api, "compare", compare_params(file_id), {"compare_weights": weights})
    results, rows = job["results"], api.content(job["results"]["result_file_id"])
    assert (results["A_wins"], results["B_wins"], results["Ties"]) == expected
    assert (
        Counter(row["final_decision"] for row in rows)
        == Counter({"A": expected[0], "B": expected[1], "Tie": expected[2]}) - Counter()
    )


def test_compare_mixed_weights_add_up(api: Api) -> None:
    file_id = api.upload(jsonl(compare_rows(120)))
    job = run(api, "compare", compare_params(file_id), {"compare_weights": {"A": 5, "B": 3, "Tie": 2}})
    results, rows = job["results"], api.content(job["results"]["result_file_id"])
    decisions = Counter(row["final_decision"] for row in rows)
    assert (results["A_wins"], results["B_wins"], results["Ties"]) == (decisions["A"], decisions["B"], decisions["Tie"])
    assert results["A_wins"] > results["B_wins"] > results["Ties"] > 0
    assert sum(decisions.values()) == 120


def test_judge_failures_flow_into_counts_and_file(api: Api) -> None:
    results, rows = classify_job(api, 100, {"judge_fail_rate": 0.2})
    failed = [row for row in rows if not row["evaluation_successful"]]
    assert 0 < results["judge_fail_count"] == len(failed) <= 30
    assert all(row["label"] is None and "feedback" not in row for row in failed)
    check_classify_agrees(results, rows)


def test_generation_failures_flow_into_counts_and_file(api: Api) -> None:
    results, rows = classify_job(
        api,
        100,
        {"generation_fail_rate": 0.2},
        model_to_evaluate=GENERATOR,
        judge={"model": "j", "model_source": "serverless", "system_template": "Judge {{prompt}}"},
    )
    failed = [row for row in rows if not row["evaluation_successful"]]
    assert 0 < results["generation_fail_count"] == len(failed)
    assert all(row["MODEL_TO_EVALUATE_OUTPUT"] is None for row in failed)
    assert all(row["MODEL_TO_EVALUATE_OUTPUT"] for row in rows if row["evaluation_successful"])
    check_classify_agrees(results, rows)


def test_invalid_scores_count_as_failed_samples(api: Api) -> None:
    file_id = api.upload(jsonl(qa_rows(100)))
    job = run(api, "score", score_params(file_id), {"invalid_rate": 0.15})
    results, rows = job["results"], api.content(job["results"]["result_file_id"])
    failed = [row for row in rows if not row["evaluation_successful"]]
    assert 0 < results["invalid_score_count"] == results["failed_samples"] == len(failed)
    assert all(row["score"] is None for row in failed)


def test_compare_failed_rows_are_incomplete(api: Api) -> None:
    file_id = api.upload(jsonl(compare_rows(100)))
    job = run(api, "compare", compare_params(file_id), {"judge_fail_rate": 0.2})
    results, rows = job["results"], api.content(job["results"]["result_file_id"])
    failed = [row for row in rows if row["is_incomplete"]]
    assert failed and all(not row["evaluation_successful"] and row["final_decision"] == "" for row in failed)
    assert results["judge_fail_count"] == 2 * len(failed)  # both passes failed
    assert results["A_wins"] + results["B_wins"] + results["Ties"] + len(failed) == 100


@pytest.mark.parametrize("rate", ["judge_fail_rate", "generation_fail_rate"])
def test_more_than_30_percent_failed_rows_fails_the_job(api: Api, rate: str) -> None:
    file_id = api.upload(jsonl(prompts(50)))
    params = classify_params(
        file_id,
        model_to_evaluate=GENERATOR,
        judge={"model": "j", "model_source": "serverless", "system_template": "J {{prompt}}"},
    )
    job = run(api, "classify", params, {rate: 0.6})
    assert job["status"] == "error" and statuses(job) == ["pending", "queued", "running", "error"]
    assert "more than 30%" in job["results"]["error"] and "of 50 rows failed" in job["results"]["error"]
    assert set(job["results"]) == {"error"}
    files = api.own_files()
    assert all(file["purpose"] != "eval-output" for file in files)


def test_up_to_30_percent_failed_rows_still_completes(api: Api) -> None:
    from together_eval_emulator.engine._results import is_job_failure

    assert not is_job_failure(3, 10) and is_job_failure(4, 10)  # "more than 30%"
    file_id = api.upload(jsonl(qa_rows(200)))
    low = run(api, "classify", classify_params(file_id), {"judge_fail_rate": 0.2})
    assert low["status"] == "completed" and 0 < low["results"]["judge_fail_count"] <= 60


@pytest.mark.parametrize(
    "kind, phase", [("error", "pending"), ("user_error", "queued"), ("error", "running"), ("user_error", "running")]
)
def test_error_at_a_chosen_phase_with_a_message(api: Api, kind: str, phase: str) -> None:
    api.control("PUT", "scenarios/default", {"outcome": {"kind": kind, "at": phase, "message": f"{kind} in {phase}"}})
    workflow_id = api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(3)))))
    api.advance(3600)
    job = api.job(workflow_id)
    flow = ["pending", "queued", "running"]
    assert statuses(job) == flow[: flow.index(phase) + 1] + [kind]
    assert job["results"] == {"error": f"{kind} in {phase}"}
    assert api.status(workflow_id) == {"status": kind, "results": {"error": f"{kind} in {phase}"}}


def test_error_without_a_message_has_a_default(api: Api) -> None:
    job = run(api, "classify", classify_params(api.upload(jsonl(qa_rows(3)))), {"kind": "error"})
    assert job["status"] == "error" and "internal error" in job["results"]["error"]


@pytest.mark.parametrize("phase", ["pending", "queued", "running"])
def test_stall_in_a_phase_forever(api: Api, phase: str) -> None:
    api.control("PUT", "scenarios/default", {"outcome": {"kind": "stall", "at": phase}})
    workflow_id = api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(3)))))
    api.advance(10**6)
    for _ in range(3):
        assert api.status(workflow_id) == {"status": phase, "results": None}
    flow = ["pending", "queued", "running"]
    assert statuses(api.job(workflow_id)) == flow[: flow.index(phase) + 1]


def test_preemption_jumps_back_to_queued(api: Api) -> None:
    api.control(
        "PUT", "scenarios/default", {"progression": {"mode": "after_polls", "polls": 1}, "outcome": {"preemptions": 1}}
    )
    workflow_id = api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(3)))))
    seen = [api.status(workflow_id)["status"] for _ in range(7)]
    assert seen == ["pending", "queued", "running", "queued", "running", "completed", "completed"]
    assert statuses(api.job(workflow_id)) == ["pending", "queued", "running", "queued", "running", "completed"]


def test_dataset_problems_win_over_a_completed_outcome(api: Api) -> None:
    file_id = api.upload(jsonl([{"prompt": "p", "response": "r", "unused": 1}]))
    job = run(api, "classify", classify_params(file_id), {"pass_percentage": 100})
    assert job["status"] == "user_error" and "unused" in job["results"]["error"]


def test_an_earlier_scenario_failure_wins_over_a_dataset_problem(api: Api) -> None:
    job = run(
        api,
        "classify",
        classify_params("file-00000000-0000-4000-8000-000000000000"),
        {"kind": "error", "at": "queued", "message": "queue lost"},
    )
    assert statuses(job) == ["pending", "queued", "error"] and job["results"] == {"error": "queue lost"}


def test_outcomes_are_deterministic_under_the_seed() -> None:
    def results(seed: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        from together_eval_emulator import Emulator

        api = make_face("core", Emulator(clock="manual", seed=seed))
        return classify_job(api, 60, {"pass_percentage": 50, "judge_fail_rate": 0.1})

    assert results(3) == results(3)
    assert results(3)[0]["label_counts"] != results(4)[0]["label_counts"]


def test_outcome_attached_to_one_running_job(api: Api) -> None:
    api.control("PUT", "scenarios/default", {"progression": {"mode": "manual"}})
    file_id = api.upload(jsonl(qa_rows(20)))
    workflow_id = api.create_id("classify", classify_params(file_id))
    api.control("POST", f"jobs/{workflow_id}/advance", {"steps": 2})
    summary = api.control("PUT", f"jobs/{workflow_id}/scenario", {"outcome": {"label_weights": {"bad": 1}}})
    assert summary["status"] == "running" and summary["source"]["outcome"] == "job"
    api.control("POST", f"jobs/{workflow_id}/advance")
    job = api.job(workflow_id)
    assert job["results"]["label_counts"] == {"bad": 20, "good": 0}
    assert statuses(job) == ["pending", "queued", "running", "completed"]
    assert all(row["label"] == "bad" for row in api.content(job["results"]["result_file_id"]))


def test_forcing_statuses(api: Api) -> None:
    api.control("PUT", "scenarios/default", {"progression": {"mode": "manual"}})
    workflow_id = api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(5)))))
    assert api.control("POST", f"jobs/{workflow_id}/status", {"status": "running"})["status"] == "running"
    assert api.control("POST", f"jobs/{workflow_id}/status", {"status": "queued"})["status"] == "queued"
    forced = api.control("POST", f"jobs/{workflow_id}/status", {"status": "user_error", "message": "bad rows"})
    assert forced["status"] == "user_error"
    job = api.job(workflow_id)
    assert statuses(job) == ["pending", "running", "queued", "user_error"]
    assert job["results"] == {"error": "bad rows"}
    api.control("POST", f"jobs/{workflow_id}/status", {"status": "completed"})
    assert api.job(workflow_id)["results"]["label_counts"]
    reply = api.request("POST", f"/_emulator/jobs/{workflow_id}/advance", key=None)
    assert reply.status == 409 and "no further phase" in reply.json()["error"]["message"]
    reply = api.request("PUT", f"/_emulator/jobs/{workflow_id}/scenario", json_body={"outcome": {}}, key=None)
    assert reply.status == 409 and "already ended" in reply.json()["error"]["message"]
