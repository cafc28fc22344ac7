"""Results: seeded verdicts, aggregates that agree with the result file, determinism
(docs/wire-contract.md#decision-seeded-verdicts, docs/reference/results.md)."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from together_eval_emulator import Emulator

from tests.support import JUDGE, CoreClient, jsonl

ROWS = [
    {"prompt": f"Question {i}: what is {i} + {i}?", "response": f"{2 * i}", "other": f"{2 * i + 1}"} for i in range(60)
]
GEN = {
    "model": "gen-model",
    "model_source": "serverless",
    "system_template": "Answer briefly.",
    "input_template": "{{prompt}}",
}
JUDGE_ALL = {**JUDGE, "system_template": "Judge {{prompt}} given {{other}} and {{response}}"}


def params_for(kind: str, file_id: str, generated: bool) -> dict:
    if kind == "classify":
        return {
            "input_data_file_path": file_id,
            "judge": JUDGE_ALL,
            "labels": ["good", "meh", "bad"],
            "pass_labels": ["good", "meh"],
            "model_to_evaluate": GEN if generated else "response",
        }
    if kind == "score":
        return {
            "input_data_file_path": file_id,
            "judge": JUDGE_ALL,
            "min_score": 1,
            "max_score": 10,
            "pass_threshold": 6,
            "model_to_evaluate": GEN if generated else "response",
        }
    return {
        "input_data_file_path": file_id,
        "judge": JUDGE_ALL,
        "model_a": "response",
        "model_b": GEN if generated else "other",
    }


def completed(kind: str, generated: bool, seed: int = 0, rows: list | None = None) -> tuple[dict, list[dict], bytes]:
    client = CoreClient(Emulator(clock="manual", seed=seed))
    file_id = client.upload(jsonl(rows or ROWS))
    job_id = client.create(kind, params_for(kind, file_id, generated)).json()["workflow_id"]
    client.emulator.advance(3600)
    results = client.job(job_id)["results"]
    raw = client.request("GET", f"/v1/files/{results['result_file_id']}/content").body
    return results, [json.loads(line) for line in raw.splitlines()], raw


@pytest.mark.parametrize("generated", [False, True], ids=["column", "generated"])
def test_classify_results_agree_with_the_result_file(generated: bool) -> None:
    results, rows, _ = completed("classify", generated)
    assert list(results) == sorted(results)
    assert set(results) == {
        "generation_fail_count",
        "invalid_label_count",
        "judge_fail_count",
        "label_counts",
        "pass_percentage",
        "result_file_id",
    }
    assert results["label_counts"] == {
        label: Counter(r["label"] for r in rows)[label] for label in ("bad", "good", "meh")
    }
    assert list(results["label_counts"]) == ["bad", "good", "meh"]
    passed = sum(r["label"] in ("good", "meh") for r in rows)
    assert results["pass_percentage"] == pytest.approx(100 * passed / len(ROWS))
    assert len(set(r["label"] for r in rows)) > 1  # verdicts vary by row
    extra = ["MODEL_TO_EVALUATE_OUTPUT"] if generated else []
    assert all(
        list(r) == ["prompt", "response", "other", *extra, "evaluation_successful", "label", "feedback"] for r in rows
    )
    assert [r["prompt"] for r in rows] == [r["prompt"] for r in ROWS]  # input order kept


@pytest.mark.parametrize("generated", [False, True], ids=["column", "generated"])
def test_score_results_agree_with_the_result_file(generated: bool) -> None:
    results, rows, _ = completed("score", generated)
    scores = [r["score"] for r in rows]
    assert all(isinstance(s, int) and 1 <= s <= 10 for s in scores)
    mean = sum(scores) / len(scores)
    std = (sum((s - mean) ** 2 for s in scores) / len(scores)) ** 0.5
    aggregated = results["aggregated_scores"]
    assert list(aggregated) == ["mean_score", "pass_percentage", "std_score"]
    assert aggregated["mean_score"] == pytest.approx(mean)
    assert aggregated["std_score"] == pytest.approx(std)
    assert aggregated["pass_percentage"] == pytest.approx(100 * sum(s >= 6 for s in scores) / len(scores))
    assert results["failed_samples"] == 0 and results["invalid_score_count"] == 0


@pytest.mark.parametrize("generated", [False, True], ids=["column", "generated"])
def test_compare_results_agree_with_the_result_file(generated: bool) -> None:
    results, rows, _ = completed("compare", generated)
    decisions = Counter(r["final_decision"] for r in rows)
    assert (results["A_wins"], results["B_wins"], results["Ties"]) == (decisions["A"], decisions["B"], decisions["Tie"])
    assert results["A_wins"] + results["B_wins"] + results["Ties"] == len(ROWS)
    assert "num_samples" not in results
    for row in rows:
        agree = row["choice_original"] == row["choice_flipped"]
        assert row["final_decision"] == (row["choice_original"] if agree else "Tie")
        # The flipped pass saw the responses swapped; its feedback names the other letter.
        other = "B" if row["choice_flipped"] == "A" else "A"
        assert row["judge_feedback_flipped_order"].startswith(f"Response {other} is better")
    keys = [
        "prompt",
        "response",
        "other",
        "evaluation_successful",
        "MODEL_TO_EVALUATE_OUTPUT_B",
        "choice_original",
        "judge_feedback_original_order",
        "choice_flipped",
        "judge_feedback_flipped_order",
        "final_decision",
        "is_incomplete",
    ]
    if not generated:
        keys.remove("MODEL_TO_EVALUATE_OUTPUT_B")
    assert all(list(r) == keys for r in rows)


def test_single_pass_compare_has_only_original_order_fields() -> None:
    client = CoreClient(Emulator(clock="manual"))
    file_id = client.upload(jsonl(ROWS))
    params = {**params_for("compare", file_id, False), "disable_position_bias_correction": True}
    job_id = client.create("compare", params).json()["workflow_id"]
    client.emulator.advance(3600)
    results = client.job(job_id)["results"]
    rows = [
        json.loads(line)
        for line in client.request("GET", f"/v1/files/{results['result_file_id']}/content").body.splitlines()
    ]
    assert results["Ties"] == 0
    assert all("choice_flipped" not in r and r["final_decision"] == r["choice_original"] for r in rows)


def test_integral_percentages_are_written_without_a_decimal_point() -> None:
    client = CoreClient(Emulator(clock="manual"))
    file_id = client.upload(jsonl(ROWS[:4]))
    params = params_for("classify", file_id, False)
    params["labels"], params["pass_labels"] = ["good", "bad"], ["good"]
    job_id = client.create("classify", params).json()["workflow_id"]
    client.emulator.advance(3600)
    body = client.request("GET", f"/v1/evaluation/{job_id}/status").body.decode()
    assert re.search(r'"pass_percentage":(0|25|50|75|100)[,}]', body), body


@pytest.mark.parametrize("kind", ["classify", "score", "compare"])
def test_same_seed_same_bytes_different_seed_different_verdicts(kind: str) -> None:
    first, _, raw_first = completed(kind, True, seed=7)
    again, _, raw_again = completed(kind, True, seed=7)
    assert (first, raw_first) == (again, raw_again)
    other, _, raw_other = completed(kind, True, seed=8)
    assert raw_other != raw_first


def test_results_do_not_depend_on_the_order_jobs_were_created_in() -> None:
    def run(order: list[str]) -> dict[str, bytes]:
        client = CoreClient(Emulator(clock="manual"))
        file_id = client.upload(jsonl(ROWS))
        ids = {kind: client.create(kind, params_for(kind, file_id, True)).json()["workflow_id"] for kind in order}
        client.emulator.advance(3600)
        out = {}
        for kind, job_id in ids.items():
            results = client.job(job_id)["results"]
            out[kind] = client.request("GET", f"/v1/files/{results.pop('result_file_id')}/content").body
            out[kind + ".results"] = json.dumps(results).encode()
        return out

    assert run(["classify", "score", "compare"]) == run(["compare", "classify", "score"])


def test_ids_are_seeded_and_follow_the_documented_formats() -> None:
    def ids(seed: int) -> list[str]:
        client = CoreClient(Emulator(clock="manual", seed=seed))
        file_id = client.upload(jsonl(ROWS[:3]))
        made = [file_id]
        for _ in range(3):
            made.append(client.create("score", params_for("score", file_id, False)).json()["workflow_id"])
        return made

    first = ids(1)
    assert ids(1) == first
    assert ids(2) != first
    assert re.fullmatch(r"file-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", first[0])
    assert all(re.fullmatch(r"eval-[0-9a-f]{4}-1767225600", job_id) for job_id in first[1:])
    assert len(set(first)) == 4


def test_result_file_is_listed_with_purpose_eval_output() -> None:
    client = CoreClient(Emulator(clock="manual"))
    file_id = client.upload(jsonl(ROWS[:3]))
    job_id = client.create("score", params_for("score", file_id, False)).json()["workflow_id"]
    assert [f["id"] for f in client.request("GET", "/v1/files").json()["data"] if f["id"].startswith("file-")] == [
        file_id
    ]
    client.emulator.advance(3600)
    result_id = client.job(job_id)["results"]["result_file_id"]
    listed = {f["id"]: f for f in client.request("GET", "/v1/files").json()["data"]}
    assert listed[result_id]["purpose"] == "eval-output"
    assert listed[result_id]["bytes"] == len(client.request("GET", f"/v1/files/{result_id}/content").body)
    assert client.request("GET", f"/v1/files/{result_id}", key="key-b").status == 404
