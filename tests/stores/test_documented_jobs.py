"""Documented jobs in a store outside the process. Created by one emulator and read back by another
process (a restart, or another server sharing the store), they keep their documented fields
(`model`, `score`, `metrics`, ...), the model's skill in their verdicts, and result files whose
rows agree with their summaries. The reader is a new Python process: it shares no cache with the
writer, so everything it answers comes from what the store kept (`Job.extensions`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.stores._factory import open_store

from tests.stores.store_support import STORE_KINDS, close, job_reads, store_url
from tests.support import CoreClient, classify_params, jsonl, qa_rows

ROOT = Path(__file__).resolve().parents[2]
# The stores whose state outlives the emulator that wrote it (a memory store has no later reader).
KINDS = [kind for kind in STORE_KINDS if kind != "memory"]
MODEL = "meta-llama/Llama-3.2-3B-Instruct-Turbo"
DOCUMENTED = {
    "classify": {},
    "score": {"scale": [0, 5], "threshold": 4},
    "compare": {"baseline_model": "Qwen/Qwen3.5-9B"},
}

# Run in a new process: open the store, answer every read of the jobs, print the answers.
READER = """
import json, sys
from together_eval_emulator import Emulator
from together_eval_emulator.stores._factory import open_store
from tests.stores.store_support import job_reads
from tests.support import CoreClient

url, ids = sys.argv[1], json.loads(sys.argv[2])
store = open_store(url)
print(json.dumps(job_reads(CoreClient(Emulator(store=store)), ids)))
store.close()
"""


def read_elsewhere(url: str, ids: list[str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", READER, url, json.dumps(ids)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answers: dict[str, Any] = json.loads(done.stdout)
    return answers


@pytest.mark.parametrize("kind", KINDS)
def test_a_documented_job_read_by_another_process_keeps_its_fields_and_its_file_agrees(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = store_url(kind, request, tmp_path)
    store = open_store(url)
    writer = CoreClient(Emulator(clock="manual", store=store))
    ids = {}
    for evaluation_type, parameters in DOCUMENTED.items():
        body = {"model": MODEL, "evaluation_type": evaluation_type, "dataset": "reasoning-benchmark-v1"}
        created = writer.request("POST", "/v1/evaluation", json_body={**body, "parameters": parameters})
        assert created.status == 200, created.body
        ids[evaluation_type] = created.json()["id"]
    real = writer.create_id("classify", classify_params(writer.upload(jsonl(qa_rows(5)))))
    writer.advance(3600)
    written = job_reads(writer, [*ids.values(), real])
    close(store)

    found = read_elsewhere(url, [*ids.values(), real])
    assert found == written  # every answer, byte for byte as JSON: documented fields and result files

    assert "model" not in found[real]["job"]  # a real-contract job stays real
    for evaluation_type, job_id in ids.items():
        job, status, rows = found[job_id]["job"], found[job_id]["status"], found[job_id]["rows"]
        assert (job["model"], job["evaluation_type"], job["dataset"]) == (
            MODEL,
            evaluation_type,
            "reasoning-benchmark-v1",
        )
        assert job["status"] == "completed" and job["score"] is not None and status["progress"] == 100
        # The file's verdicts are the ones the summary was computed from.
        assert sum(row["judged_correct"] for row in rows) / len(rows) == pytest.approx(
            job["metrics"]["accuracy"], abs=1e-4
        )
        if evaluation_type == "classify":
            assert sum(row["label"] == "correct" for row in rows) == job["results"]["label_counts"]["correct"]
        elif evaluation_type == "compare":
            assert sum(row["final_decision"] == "A" for row in rows) == job["results"]["A_wins"]
