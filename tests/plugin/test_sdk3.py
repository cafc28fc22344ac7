"""together==3.1.1 through the in-process fixture: upload -> create -> complete -> results -> result file,
for every evaluation type, sync and async, with strict response validation."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from plugin_support import EVAL_CASES
from together import AsyncTogether, Together
from together_eval_emulator.faces._controller import EmulatorController

TYPES = sorted(EVAL_CASES)


def check_results(eval_type: str, results: Any, rows: int) -> None:
    if eval_type == "classify":
        assert sum(results.label_counts.values()) == rows
        assert set(results.label_counts) == {"helpful", "unhelpful"}
    elif eval_type == "score":
        assert 1 <= results.aggregated_scores.mean_score <= 10
    else:
        assert results.a_wins + results.b_wins + results.ties == rows


def check_rows(content: bytes, eval_type: str) -> None:
    dataset = EVAL_CASES[eval_type][0]
    rows = [json.loads(line) for line in content.splitlines()]
    assert [row["prompt"] for row in rows] == [row["prompt"] for row in dataset]  # row order = input order


@pytest.mark.parametrize("eval_type", TYPES)
def test_sync_flow(together_emulator: EmulatorController, write_dataset: Callable[[str], Any], eval_type: str) -> None:
    client = Together(_strict_response_validation=True)  # key and base URL come from the fixture
    uploaded = client.files.upload(write_dataset(eval_type), purpose="eval", check=False)
    job = client.evals.create(
        type=eval_type, parameters={**EVAL_CASES[eval_type][1], "input_data_file_path": uploaded.id}
    )
    assert client.evals.status(job.workflow_id).status == "pending"

    assert together_emulator.run_until_complete(job.workflow_id) == "completed"

    status = client.evals.status(job.workflow_id)
    assert status.status == "completed"
    check_results(eval_type, status.results, len(EVAL_CASES[eval_type][0]))
    retrieved = client.evals.retrieve(job.workflow_id)
    assert [u.status for u in retrieved.status_updates] == ["pending", "queued", "running", "completed"]
    check_rows(client.files.content(status.results.result_file_id).read(), eval_type)
    together_emulator.assert_called("evaluation.create", times=1)
    together_emulator.assert_polled(job.workflow_id, times=3)


@pytest.mark.anyio
@pytest.mark.parametrize("eval_type", TYPES)
async def test_async_flow(
    together_emulator: EmulatorController, write_dataset: Callable[[str], Any], eval_type: str
) -> None:
    client = AsyncTogether(_strict_response_validation=True)
    uploaded = await client.files.upload(write_dataset(eval_type), purpose="eval", check=False)
    job = await client.evals.create(
        type=eval_type, parameters={**EVAL_CASES[eval_type][1], "input_data_file_path": uploaded.id}
    )
    assert (await client.evals.status(job.workflow_id)).status == "pending"

    together_emulator.complete_all()

    status = await client.evals.status(job.workflow_id)
    assert status.status == "completed"
    check_results(eval_type, status.results, len(EVAL_CASES[eval_type][0]))
    content = await client.files.content(status.results.result_file_id)
    check_rows(await content.read(), eval_type)
    together_emulator.assert_called_with("evaluation.create", body={"type": eval_type})


def test_same_seed_same_ids_and_results(
    together_emulator: EmulatorController, write_dataset: Callable[[str], Any]
) -> None:
    """Defaults are seed 0 on a frozen clock: the ids are the same in every run of the suite."""
    client = Together()
    uploaded = client.files.upload(write_dataset("classify"), purpose="eval", check=False)
    job = client.evals.create(
        type="classify", parameters={**EVAL_CASES["classify"][1], "input_data_file_path": uploaded.id}
    )
    assert job.workflow_id == "eval-43ca-1767225600"
    assert uploaded.id == "file-12ec6a1d-f998-499f-a405-c6eb3ad44afa"
