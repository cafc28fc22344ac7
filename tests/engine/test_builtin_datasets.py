"""Built-in benchmark datasets: the catalog agrees with the files, every tenant sees them as ready
eval files, they cannot be deleted, and real-contract jobs can use them."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.engine import _builtin_datasets as builtin_datasets
from together_eval_emulator.engine._builtin_datasets import BUILTIN_CREATED_AT
from together_eval_emulator.engine._templates import referenced_columns

from tests.support import JUDGE, CoreClient, jsonl, qa_rows

CHECKOUT_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
NAMES = [
    "reasoning-benchmark-v1",
    "qa-benchmark-v1",
    "code-benchmark-v1",
    "math-benchmark-v1",
    "reading-comprehension-v1",
    "safety-benchmark-v1",
    "standard-benchmark-v1",
]


def rows_of(name: str) -> list[dict]:
    return [
        json.loads(line)
        for line in (CHECKOUT_FIXTURES / "datasets" / f"{name}.jsonl").read_text().splitlines()
        if line.strip()
    ]


def defaults_params(name: str, eval_type: str = "classify", **extra: object) -> dict:
    """A working real-contract body for a built-in dataset, from its catalog defaults."""
    d = builtin_datasets.get(name).defaults  # type: ignore[union-attr]
    generator = {
        "model": "gen-model",
        "model_source": "serverless",
        "system_template": d.model_system_template,
        "input_template": d.model_input_template,
    }
    params = {
        "input_data_file_path": name,
        "judge": {**JUDGE, "system_template": d.judge_system_template},
        "model_to_evaluate": generator,
    }
    if eval_type == "classify":
        params.update(labels=list(d.labels), pass_labels=list(d.pass_labels))
    return {**params, **extra}


def test_the_seven_standard_datasets_in_catalog_order() -> None:
    assert list(builtin_datasets.names()) == NAMES
    assert builtin_datasets.fixtures_root() == CHECKOUT_FIXTURES


@pytest.mark.parametrize("name", NAMES)
def test_catalog_agrees_with_the_file(name: str) -> None:
    entry = builtin_datasets.get(name)
    assert entry is not None
    rows = rows_of(name)
    assert len(rows) == entry.rows >= 100
    assert all(tuple(row) == entry.columns for row in rows)
    assert entry.has_options == ("options" in entry.columns)
    assert Counter(row["category"] for row in rows) == entry.categories
    assert len({row["question"] for row in rows}) == len(rows)  # no duplicate questions
    for row in rows:
        assert row["question"].strip() and str(row["reference_answer"]).strip()
        if entry.has_options:
            assert row["reference_answer"] in row["options"] and len(set(row["options"])) == len(row["options"]) >= 2
    parsed = entry.dataset()
    assert list(parsed.rows()) == rows and parsed.columns == entry.columns


@pytest.mark.parametrize("name", NAMES)
def test_the_defaults_reference_every_column(name: str) -> None:
    """The column-use rule: the catalog defaults are a working real-contract configuration."""
    entry = builtin_datasets.get(name)
    assert entry is not None
    d = entry.defaults
    used = set()
    for where, source in [
        ("model.system", d.model_system_template),
        ("model.input", d.model_input_template),
        ("judge", d.judge_system_template),
    ]:
        used |= referenced_columns(source, where)
    assert used == set(entry.columns)
    assert referenced_columns(d.judge_system_template, "judge") == set(entry.columns)
    assert d.pass_labels[0] in d.labels and d.min_score <= d.pass_threshold <= d.max_score


def test_loading_is_cached_per_process() -> None:
    first, second = builtin_datasets.get("qa-benchmark-v1"), builtin_datasets.get("qa-benchmark-v1")
    assert first is second
    assert first.content() is second.content()  # type: ignore[union-attr]
    assert first.dataset() is second.dataset()  # type: ignore[union-attr]


def test_every_tenant_lists_the_builtins_first_then_its_own_files() -> None:
    client = CoreClient(Emulator(clock="manual"))
    own = client.upload(jsonl(qa_rows(2)))
    for key in ("key-a", "key-b"):
        listed = client.request("GET", "/v1/files", key=key).json()["data"]
        assert [f["id"] for f in listed[:7]] == NAMES
        assert [f["id"] for f in listed[7:]] == ([own] if key == "key-a" else [])
        for file in listed[:7]:
            assert {k: v for k, v in file.items() if k not in ("project_id", "organization_id")} == {
                "id": file["id"],
                "object": "file",
                "created_at": BUILTIN_CREATED_AT,
                "type": None,
                "purpose": "eval",
                "filename": f"{file['id']}.jsonl",
                "bytes": (CHECKOUT_FIXTURES / "datasets" / f"{file['id']}.jsonl").stat().st_size,
                "LineCount": 0,
                "Processed": True,
                "FileType": "jsonl",
            }
            assert file["project_id"] == listed[0]["project_id"]  # the caller's project, like its own files


@pytest.mark.parametrize("name", NAMES)
def test_retrieve_and_download_a_builtin(name: str) -> None:
    client = CoreClient(Emulator(clock="manual"))
    retrieved = client.request("GET", f"/v1/files/{name}", key="any-key")
    assert retrieved.status == 200 and retrieved.json()["id"] == name
    content = client.request("GET", f"/v1/files/{name}/content", key="any-key")
    assert content.status == 200
    assert content.body == (CHECKOUT_FIXTURES / "datasets" / f"{name}.jsonl").read_bytes()
    assert retrieved.json()["bytes"] == len(content.body)


def test_builtins_cannot_be_deleted_and_survive_reset() -> None:
    client = CoreClient(Emulator(clock="manual"))
    reply = client.request("DELETE", "/v1/files/qa-benchmark-v1")
    assert reply.status == 403
    error = reply.json()["error"]
    assert error["param"] == "id" and error["type"] == "invalid_request_error" and error["code"] is None
    assert "built-in dataset" in error["message"] and "cannot be deleted" in error["message"]
    assert client.request("GET", "/v1/files/qa-benchmark-v1").status == 200
    client.emulator.reset()
    assert [f["id"] for f in client.request("GET", "/v1/files").json()["data"]] == NAMES
    assert client.request("GET", "/v1/files/not-a-dataset").status == 404
    assert client.request("DELETE", "/v1/files/not-a-dataset").status == 404


@pytest.mark.parametrize("eval_type", ["classify", "score"])
def test_a_real_contract_job_runs_on_a_builtin(eval_type: str) -> None:
    client = CoreClient(Emulator(clock="manual"))
    extra = {"min_score": 1, "max_score": 10, "pass_threshold": 7} if eval_type == "score" else {}
    created = client.create(eval_type, defaults_params("math-benchmark-v1", eval_type, **extra))
    assert created.status == 200 and set(created.json()) == {"workflow_id", "status"}
    client.emulator.advance(3600)
    job = client.job(created.json()["workflow_id"])
    assert job["status"] == "completed"
    assert job["parameters"]["input_data_file_path"] == "math-benchmark-v1"
    rows = [
        json.loads(line)
        for line in client.request("GET", f"/v1/files/{job['results']['result_file_id']}/content").body.splitlines()
    ]
    source = rows_of("math-benchmark-v1")
    assert [r["question"] for r in rows] == [r["question"] for r in source]
    # Real-contract result rows carry no benchmark columns of the documented layer.
    assert not {"judged_correct", "model_answer", "reference_match"} & set(rows[0])


def test_a_real_contract_job_must_still_reference_every_column() -> None:
    client = CoreClient(Emulator(clock="manual"))
    params = defaults_params("qa-benchmark-v1")
    params["judge"] = {**JUDGE, "system_template": "Is the answer to {{question}} {{reference_answer}}?"}
    job_id = client.create("classify", params).json()["workflow_id"]
    client.emulator.advance(3600)
    job = client.job(job_id)
    assert job["status"] == "user_error"
    assert job["results"]["error"].startswith("Unsupported dataset column(s): ['category'].")


def test_the_loader_reads_an_installed_namespace_package_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Installed from a wheel, `emulator.fixtures` is a namespace package: its root is a MultiplexedPath."""
    from importlib.readers import MultiplexedPath

    monkeypatch.setattr(builtin_datasets, "fixtures_root", lambda: MultiplexedPath(str(CHECKOUT_FIXTURES)))
    assert (
        builtin_datasets.fixture_bytes("datasets", "qa-benchmark-v1.jsonl")
        == (CHECKOUT_FIXTURES / "datasets" / "qa-benchmark-v1.jsonl").read_bytes()
    )
