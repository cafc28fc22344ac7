"""Dataset problems end the job in `user_error` when it reaches `running`
(docs/wire-contract.md#decision-dataset-checks-at-running)."""

from __future__ import annotations

import pytest
from together_eval_emulator import Emulator

from tests.support import JUDGE, CoreClient, classify_params, jsonl, qa_rows

UNUSED = (
    "Unsupported dataset column(s): ['category', 'id']. Each column must be referenced by a model or judge "
    "template, or be a recognized field ('image_data_urls'). Remove unused columns or reference them in a "
    "template."
)


def run(content: str | bytes, filename: str = "data.jsonl", **config: object) -> dict:
    client = CoreClient(Emulator(clock="manual", **config))
    file_id = client.upload(content, filename=filename)
    job_id = client.create("classify", classify_params(file_id)).json()["workflow_id"]
    client.emulator.advance(3.0)
    assert client.job(job_id)["status"] == "running"  # the problem surfaces only after running starts
    client.emulator.advance(3600)
    return client.job(job_id)


def with_file(mutate) -> tuple[CoreClient, str]:
    client = CoreClient(Emulator(clock="manual"))
    file_id = client.upload(jsonl(qa_rows(3)))
    return client, client.create("classify", mutate(file_id)).json()["workflow_id"]


def final(client: CoreClient, job_id: str) -> dict:
    client.emulator.advance(3600)
    return client.job(job_id)


def test_unused_columns_fail_with_the_documented_message() -> None:
    rows = [{"id": i, "category": "c", "prompt": "p", "response": "r"} for i in range(3)]
    job = run(jsonl(rows))
    assert job["status"] == "user_error"
    assert job["results"] == {"error": UNUSED}
    assert [u["status"] for u in job["status_updates"]] == ["pending", "queued", "running", "user_error"]


def test_the_column_use_rule_can_be_switched_off() -> None:
    rows = [{"id": i, "category": "c", "prompt": "p", "response": "r"} for i in range(3)]
    job = run(jsonl(rows), column_use_rule=False)
    assert job["status"] == "completed"


def test_columns_used_in_if_and_for_blocks_and_image_data_urls_count_as_used() -> None:
    client = CoreClient(Emulator(clock="manual"))
    rows = [{"prompt": "p", "response": "r", "flag": True, "items": [1], "image_data_urls": "data:image/png;base64,AA"}]
    file_id = client.upload(jsonl(rows))
    template = "{% if flag %}{% for x in items %}{{x}}{% endfor %}{% endif %}{{prompt}}"
    job_id = client.create("classify", classify_params(file_id, judge={**JUDGE, "system_template": template}))
    assert final(client, job_id.json()["workflow_id"])["status"] == "completed"


@pytest.mark.parametrize(
    "mutate,fragment",
    [
        (lambda f: classify_params("file-00000000-0000-4000-8000-000000000000"), "was not found"),
        (
            lambda f: classify_params(f, model_to_evaluate="answer"),
            "Column 'answer' named by parameters.model_to_evaluate",
        ),
        (
            lambda f: classify_params(f, judge={**JUDGE, "system_template": "{{prompt}} {{context}}"}),
            "references column(s) ['context']",
        ),
        (lambda f: classify_params(f, judge={**JUDGE, "system_template": "{{prompt"}), "not valid Jinja2"),
    ],
)
def test_dataset_problems_become_user_error_messages(mutate, fragment: str) -> None:
    client, job_id = with_file(mutate)
    job = final(client, job_id)
    assert job["status"] == "user_error"
    assert fragment in job["results"]["error"]


def test_a_deleted_or_foreign_file_gives_the_same_message_as_an_unknown_one() -> None:
    client = CoreClient(Emulator(clock="manual"))
    mine = client.upload(jsonl(qa_rows(2)))
    client.request("DELETE", f"/v1/files/{mine}")
    foreign = client.upload(jsonl(qa_rows(2)), key="key-b")
    messages = set()
    for file_id in (mine, foreign, "file-nope"):
        job_id = client.create("classify", classify_params(file_id)).json()["workflow_id"]
        error = final(client, job_id)["results"]["error"]
        messages.add(error.replace(file_id, "<id>"))
    assert len(messages) == 1


@pytest.mark.parametrize(
    "content,filename,fragment",
    [
        ('{"prompt": "p", "response": "r"}\n\nnot json\n', "data.jsonl", "Line 3"),
        ('["a", "b"]\n', "data.jsonl", "not an object"),
        ("", "data.jsonl", "has no rows"),
        ("\n\n", "data.jsonl", "has no rows"),
        ('{"prompt": "p", "response": "r"}\n{"prompt": "p"}\n', "data.jsonl", "same fields"),
        ("prompt,response\na,b,c\n", "data.csv", "header has 2 columns"),
        (b"\xff\xfe\x00", "data.jsonl", "not valid UTF-8"),
    ],
)
def test_unparseable_or_empty_files_fail_at_running(content, filename: str, fragment: str) -> None:
    job = run(content, filename=filename)
    assert job["status"] == "user_error"
    assert fragment in job["results"]["error"]


def test_csv_datasets_work() -> None:
    assert run("prompt,response\nq1,a1\nq2,a2\n", filename="data.csv")["status"] == "completed"


def test_strict_models_fails_serverless_models_off_the_allowlist() -> None:
    job = run(jsonl(qa_rows(2)), strict_models=True)
    assert job["status"] == "user_error"
    assert "judge-model" in job["results"]["error"] and "model-list" in job["results"]["error"]
    client = CoreClient(Emulator(clock="manual", strict_models=True))
    file_id = client.upload(jsonl(qa_rows(2)))
    allowed = {**JUDGE, "model": "openai/gpt-oss-120b"}
    dedicated = {**JUDGE, "model": "ep_abc123", "model_source": "dedicated"}
    for judge in (allowed, dedicated):
        job_id = client.create("classify", classify_params(file_id, judge=judge)).json()["workflow_id"]
        assert final(client, job_id)["status"] == "completed"
