"""A documented job survives a state export and import: its documented fields, its model's skill in
its verdicts, and a result file that agrees with its summary."""

from __future__ import annotations

import pytest
from together_eval_emulator import Emulator

from tests.support import CoreClient

MODEL = "meta-llama/Llama-3.2-3B-Instruct-Turbo"


@pytest.mark.parametrize(
    ("evaluation_type", "parameters"),
    [("classify", {}), ("score", {"scale": [0, 5]}), ("compare", {"baseline_model": "Qwen/Qwen3.5-9B"})],
)
def test_an_imported_documented_job_answers_as_before_and_its_file_agrees_with_its_summary(
    evaluation_type: str, parameters: dict[str, object]
) -> None:
    donor = CoreClient(Emulator(clock="manual"))
    body = {"model": MODEL, "evaluation_type": evaluation_type, "dataset": "reasoning-benchmark-v1"}
    created = donor.request("POST", "/v1/evaluation", json_body={**body, "parameters": parameters})
    assert created.status == 200, created.body
    job_id = created.json()["id"]
    donor.advance(3600)
    snapshot = donor.control("GET", "state")
    before = donor.job(job_id)
    result_file = before["results"]["result_file_id"]

    fresh = CoreClient(Emulator(clock="manual"))
    fresh.control("PUT", "state", snapshot)
    after = fresh.job(job_id)
    assert after == before  # the documented fields (score, metrics, ...) are still there
    rows = fresh.content(result_file)
    assert rows == donor.content(result_file)

    # The file's verdicts are the ones the summary was computed from.
    judged_correct = sum(row["judged_correct"] for row in rows)
    assert judged_correct / len(rows) == pytest.approx(after["metrics"]["accuracy"], abs=1e-4)
    if evaluation_type == "classify":
        assert sum(row["label"] == "correct" for row in rows) == after["results"]["label_counts"]["correct"]
    elif evaluation_type == "compare":
        assert sum(row["final_decision"] == "A" for row in rows) == after["results"]["A_wins"]
