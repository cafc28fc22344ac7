"""The documented convenience API, driven end to end over HTTP as the published examples do:
create on each standard dataset, monitor until completed, compare and rank models, analyse the
metrics and check them against the per-row verdicts of the result file."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.documented._api import DEFAULT_JUDGE_MODEL, DOCUMENTED_ONLY_FIELDS
from together_eval_emulator.engine import _builtin_datasets as builtin_datasets
from together_eval_emulator.faces._server import EmulatorServer

from tests.support import CoreClient, classify_params, jsonl, qa_rows

AUTH = {"Authorization": "Bearer docs-reader"}
MODEL = "meta-llama/Llama-3.2-3B-Instruct-Turbo"
MODELS = [
    "meta-llama/Llama-3.2-3B-Instruct-Turbo",
    "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    "Qwen/Qwen3.5-9B",
    "openai/gpt-oss-120b",
    "deepseek-ai/DeepSeek-V3.1",
]
REAL_JOB_KEYS = {
    "workflow_id",
    "type",
    "owner_id",
    "status",
    "status_updates",
    "parameters",
    "created_at",
    "updated_at",
    "results",
}
DOCUMENTED_JOB_KEYS = [
    "id",
    "object",
    "model",
    "evaluation_type",
    "dataset",
    "score",
    "metrics",
    "completed_at",
    "error",
]


class Docs:
    """The calls a user of the published docs makes, over HTTP, with the clock in the test's hands."""

    def __init__(self, emulator: Emulator, http: httpx.Client) -> None:
        self.emulator, self.http = emulator, http

    def create(self, **body: Any) -> httpx.Response:
        return self.http.post("/v1/evaluation", json=body, headers=AUTH)

    def retrieve(self, job_id: str) -> dict[str, Any]:
        return self.http.get(f"/v1/evaluation/{job_id}", headers=AUTH).json()

    def status(self, job_id: str) -> dict[str, Any]:
        return self.http.get(f"/v1/evaluation/{job_id}/status", headers=AUTH).json()

    def wait(self, job_id: str, step: float = 1.0) -> list[dict[str, Any]]:
        """Poll the status until the job is finished, advancing the clock instead of sleeping."""
        seen = [self.status(job_id)]
        while seen[-1]["status"] not in ("completed", "error", "user_error"):
            self.emulator.advance(step)
            seen.append(self.status(job_id))
            assert len(seen) < 100
        return seen

    def completed(self, evaluation_type: str, dataset: str, baseline_model: str) -> dict[str, Any]:
        """Create a documented job of MODEL (against `baseline_model` for compare), run it to the end,
        and return the retrieved job."""
        extra = {"parameters": {"baseline_model": baseline_model}} if evaluation_type == "compare" else {}
        job_id = self.create(model=MODEL, evaluation_type=evaluation_type, dataset=dataset, **extra).json()["id"]
        self.wait(job_id)
        return self.retrieve(job_id)

    def result_rows(self, job: dict[str, Any]) -> list[dict[str, Any]]:
        content = self.http.get(f"/v1/files/{job['results']['result_file_id']}/content", headers=AUTH).content
        return [json.loads(line) for line in content.splitlines()]


@pytest.fixture
def docs() -> Iterator[Docs]:
    emulator = Emulator(clock="manual")
    server = EmulatorServer(emulator).start()
    try:
        with httpx.Client(base_url=server.url) as http:
            yield Docs(emulator, http)
    finally:
        server.stop()


# ---------------------------------------------------------------- the documented examples


@pytest.mark.parametrize("dataset", builtin_datasets.names())
def test_create_and_monitor_on_each_standard_dataset(docs: Docs, dataset: str) -> None:
    created = docs.create(model=MODEL, evaluation_type="classify", dataset=dataset)
    assert created.status_code == 200
    body = created.json()
    assert list(body) == ["workflow_id", "status", "id", "object", "model", "evaluation_type", "dataset", "created_at"]
    assert body["status"] == "pending" and body["id"] == body["workflow_id"] and body["object"] == "evaluation"
    assert (body["model"], body["evaluation_type"], body["dataset"]) == (MODEL, "classify", dataset)

    seen = docs.wait(body["id"])
    progress = [s["progress"] for s in seen]
    assert progress == sorted(progress) and progress[0] == 0 and progress[-1] == 100
    assert all(0 < p < 100 for s, p in zip(seen, progress, strict=False) if s["status"] == "running")
    assert len({s["estimated_completion"] for s in seen}) == 1

    job = docs.retrieve(body["id"])
    assert job["status"] == "completed" and job["created_at"] == body["created_at"]
    assert REAL_JOB_KEYS <= set(job) and list(job)[len(REAL_JOB_KEYS) :] == DOCUMENTED_JOB_KEYS
    assert job["completed_at"] == job["updated_at"] == seen[-1]["estimated_completion"] == seen[-1]["completed_at"]
    assert job["error"] is None and 0 <= job["score"] <= 1
    metrics = job["metrics"]
    assert list(metrics) == ["accuracy", "precision", "recall", "f1_score", "categories"]
    assert all(0 <= metrics[k] <= 1 for k in ("accuracy", "precision", "recall", "f1_score"))
    catalog = builtin_datasets.get(dataset)
    assert catalog is not None
    assert {name: c["count"] for name, c in metrics["categories"].items()} == catalog.categories
    assert list(metrics["categories"]) == sorted(metrics["categories"])
    # The documented job is also a real job: the mapping is visible in its real parameters.
    params = job["parameters"]
    assert params["input_data_file_path"] == dataset and params["model_to_evaluate"]["model"] == MODEL
    assert params["judge"]["model"] == DEFAULT_JUDGE_MODEL and params["labels"] == ["correct", "incorrect"]


def test_status_before_completion_has_no_score(docs: Docs) -> None:
    job_id = docs.create(model=MODEL, evaluation_type="score", dataset="qa-benchmark-v1").json()["id"]
    status = docs.status(job_id)
    assert list(status) == ["status", "results", *DOCUMENTED_JOB_KEYS, "progress", "estimated_completion"]
    assert status["status"] == "pending" and status["results"] is None
    assert (status["score"], status["metrics"], status["completed_at"], status["error"]) == (None, None, None, None)
    assert status["progress"] == 0


@pytest.mark.parametrize("evaluation_type", ["classify", "score", "compare"])
def test_metrics_agree_with_the_per_row_verdicts_of_the_result_file(docs: Docs, evaluation_type: str) -> None:
    job = docs.completed(evaluation_type, "standard-benchmark-v1", baseline_model="openai/gpt-oss-20b")
    rows = docs.result_rows(job)
    assert len(rows) == 120

    for row in rows:  # the benchmark columns follow from the real verdict columns
        if evaluation_type == "classify":
            assert row["judged_correct"] == (row["label"] == "correct")
        elif evaluation_type == "score":
            assert row["judged_correct"] == (row["score"] >= 7)
        else:
            assert row["judged_correct"] == (row["final_decision"] in ("A", "Tie"))
        assert row["reference_match"] == (row["model_answer"] == row["reference_answer"])
        assert row["model_answer"] in row["options"]

    tp = sum(r["judged_correct"] and r["reference_match"] for r in rows)
    fp = sum(r["judged_correct"] and not r["reference_match"] for r in rows)
    fn = sum(not r["judged_correct"] and r["reference_match"] for r in rows)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    metrics = job["metrics"]
    assert metrics["accuracy"] == pytest.approx((tp + fp) / len(rows), abs=1e-4)
    assert metrics["precision"] == pytest.approx(precision, abs=1e-4)
    assert metrics["recall"] == pytest.approx(recall, abs=1e-4)
    assert metrics["f1_score"] == pytest.approx(2 * precision * recall / (precision + recall), abs=1e-4)
    assert 0 < fp + fn < len(rows) // 4  # the judge errs, but rarely

    by_category: dict[str, list[bool]] = defaultdict(list)
    for row in rows:
        by_category[row["category"]].append(row["judged_correct"])
    assert metrics["categories"] == {
        name: {"accuracy": pytest.approx(sum(flags) / len(flags), abs=1e-4), "count": len(flags)}
        for name, flags in by_category.items()
    }


@pytest.mark.parametrize("evaluation_type", ["classify", "score", "compare"])
def test_score_per_type_agrees_with_the_real_results(docs: Docs, evaluation_type: str) -> None:
    job = docs.completed(evaluation_type, "math-benchmark-v1", baseline_model="Qwen/Qwen3.5-9B")
    results, n = job["results"], builtin_datasets.get("math-benchmark-v1").rows  # type: ignore[union-attr]
    if evaluation_type == "classify":
        expected = results["pass_percentage"] / 100
        assert job["metrics"]["accuracy"] == pytest.approx(expected, abs=1e-4)
    elif evaluation_type == "score":  # mean score normalised from the 1..10 range
        expected = (results["aggregated_scores"]["mean_score"] - 1) / 9
        assert job["metrics"]["accuracy"] == pytest.approx(
            results["aggregated_scores"]["pass_percentage"] / 100, abs=1e-4
        )
    else:  # win rate of the model (A) over the baseline (B), ties counting half
        expected = (results["A_wins"] + results["Ties"] / 2) / n
        assert job["parameters"]["model_a"]["model"] == MODEL
        assert job["parameters"]["model_b"]["model"] == "Qwen/Qwen3.5-9B"
    assert job["score"] == pytest.approx(expected, abs=1e-4)


def rank(docs: Docs, models: list[str], dataset: str = "reasoning-benchmark-v1") -> list[tuple[str, float]]:
    ids = {
        model: docs.create(model=model, evaluation_type="classify", dataset=dataset).json()["id"] for model in models
    }
    docs.emulator.advance(3600)
    scores = {model: docs.retrieve(job_id)["score"] for model, job_id in ids.items()}
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def test_compare_several_models_and_rank_them_by_score(docs: Docs) -> None:
    ranking = rank(docs, MODELS)
    scores = [score for _, score in ranking]
    assert len(set(scores)) == len(scores)  # the models really differ
    assert scores[0] - scores[-1] > 0.05

    # Stable under the seed, whatever the order of creation and whatever else ran before.
    again = Emulator(clock="manual")
    server = EmulatorServer(again).start()
    try:
        with httpx.Client(base_url=server.url) as http:
            other = Docs(again, http)
            other.create(model="warm-up", evaluation_type="classify", dataset="qa-benchmark-v1")
            assert rank(other, list(reversed(MODELS))) == ranking
    finally:
        server.stop()

    reseeded = CoreClient(Emulator(clock="manual", seed=7), key="docs-reader")
    ids = {
        m: reseeded.request(
            "POST",
            "/v1/evaluation",
            json_body={"model": m, "evaluation_type": "classify", "dataset": "reasoning-benchmark-v1"},
        ).json()["id"]
        for m in MODELS
    }
    reseeded.emulator.advance(3600)
    assert {m: reseeded.job(i)["score"] for m, i in ids.items()} != dict(ranking)  # another seed, other results


def test_the_same_model_scores_the_same_on_every_read_and_differs_by_dataset(docs: Docs) -> None:
    first = docs.create(model=MODEL, evaluation_type="classify", dataset="qa-benchmark-v1").json()["id"]
    second = docs.create(model=MODEL, evaluation_type="classify", dataset="qa-benchmark-v1").json()["id"]
    other = docs.create(model=MODEL, evaluation_type="classify", dataset="code-benchmark-v1").json()["id"]
    docs.emulator.advance(3600)
    a, b, c = docs.retrieve(first), docs.retrieve(second), docs.retrieve(other)
    assert (a["score"], a["metrics"]) == (b["score"], b["metrics"]) and a["id"] != b["id"]
    assert docs.result_rows(a) == docs.result_rows(b)
    assert a["metrics"]["categories"].keys() != c["metrics"]["categories"].keys()


def test_parameters_override_the_judge_and_the_generation(docs: Docs) -> None:
    job_id = docs.create(
        model=MODEL,
        evaluation_type="classify",
        dataset="qa-benchmark-v1",
        parameters={
            "judge_model": "deepseek-ai/DeepSeek-V3.1",
            "judge": {"temperature": 0.2, "max_tokens": 512},
            "temperature": 0.7,
            "max_tokens": 256,
            "some_future_option": True,
        },
    ).json()["id"]
    params = docs.retrieve(job_id)["parameters"]
    assert params["judge"]["model"] == "deepseek-ai/DeepSeek-V3.1"
    assert (params["judge"]["temperature"], params["judge"]["max_tokens"]) == (0.2, 512)
    assert (params["model_to_evaluate"]["temperature"], params["model_to_evaluate"]["max_tokens"]) == (0.7, 256)
    assert "some_future_option" not in json.dumps(params)


# ---------------------------------------------------------------- the real contract stays real


def test_real_contract_responses_never_carry_documented_fields() -> None:
    client = CoreClient(Emulator(clock="manual"))
    file_id = client.upload(jsonl(qa_rows(4)))
    real = client.create("classify", classify_params(file_id))
    assert set(real.json()) == {"workflow_id", "status"}
    documented = client.request(
        "POST",
        "/v1/evaluation",
        json_body={"model": MODEL, "evaluation_type": "classify", "dataset": "qa-benchmark-v1"},
    ).json()
    real_id = real.json()["workflow_id"]
    for _ in range(2):
        assert set(client.job(real_id)) == REAL_JOB_KEYS
        assert set(client.request("GET", f"/v1/evaluation/{real_id}/status").json()) == {"status", "results"}
        listed = {job["workflow_id"]: job for job in client.request("GET", "/v1/evaluation").json()}
        assert set(listed[real_id]) == REAL_JOB_KEYS
        assert set(listed[documented["id"]]) == REAL_JOB_KEYS | DOCUMENTED_ONLY_FIELDS - {
            "progress",
            "estimated_completion",
        }
        assert set(client.request("GET", "/v1/evaluations").json()[1]) == REAL_JOB_KEYS
        client.emulator.advance(3600)
    rows = client.request("GET", f"/v1/files/{client.job(real_id)['results']['result_file_id']}/content").body
    assert b"judged_correct" not in rows and b"model_answer" not in rows


def test_a_body_with_type_is_always_the_real_contract() -> None:
    client = CoreClient(Emulator(clock="manual"))
    reply = client.request(
        "POST",
        "/v1/evaluation",
        json_body={"type": "classify", "model": MODEL, "evaluation_type": "classify", "dataset": "qa-benchmark-v1"},
    )
    assert reply.status == 400 and reply.json()["error"]["param"] == "parameters"


@pytest.mark.parametrize(
    "body,param,words",
    [
        ({"evaluation_type": "classify", "dataset": "qa-benchmark-v1"}, "model", ["Missing required field 'model'"]),
        ({"model": " ", "evaluation_type": "classify", "dataset": "qa-benchmark-v1"}, "model", ["non-empty string"]),
        ({"model": 3, "evaluation_type": "classify", "dataset": "qa-benchmark-v1"}, "model", ["got number"]),
        (
            {"model": MODEL, "evaluation_type": "rank", "dataset": "qa-benchmark-v1"},
            "evaluation_type",
            ["'rank'", "'classify', 'score', 'compare'"],
        ),
        (
            {"model": MODEL, "evaluation_type": None, "dataset": "qa-benchmark-v1"},
            "evaluation_type",
            ["Missing required field 'evaluation_type'", "'classify', 'score', 'compare'"],
        ),
        (
            {"model": MODEL, "evaluation_type": "classify"},
            "dataset",
            ["Missing required field 'dataset'", "qa-benchmark-v1"],
        ),
        (
            {"model": MODEL, "evaluation_type": "classify", "dataset": "mmlu"},
            "dataset",
            ["Unknown dataset 'mmlu'", *builtin_datasets.names()],
        ),
        (
            {"model": MODEL, "evaluation_type": "compare", "dataset": "qa-benchmark-v1"},
            "parameters.baseline_model",
            ["compare evaluation needs 'parameters.baseline_model'"],
        ),
        (
            {
                "model": MODEL,
                "evaluation_type": "score",
                "dataset": "qa-benchmark-v1",
                "parameters": {"baseline_model": "x"},
            },
            "parameters.baseline_model",
            ["only used by compare"],
        ),
        (
            {"model": MODEL, "evaluation_type": "classify", "dataset": "qa-benchmark-v1", "parameters": []},
            "parameters",
            ["must be an object"],
        ),
        (
            {
                "model": MODEL,
                "evaluation_type": "classify",
                "dataset": "qa-benchmark-v1",
                "parameters": {"max_tokens": 0},
            },
            "parameters.max_tokens",
            ["greater than or equal to 1"],
        ),
        (
            {
                "model": MODEL,
                "evaluation_type": "classify",
                "dataset": "qa-benchmark-v1",
                "parameters": {"model_source": "local"},
            },
            "parameters.model_source",
            ["serverless"],
        ),
        (
            {
                "model": MODEL,
                "evaluation_type": "classify",
                "dataset": "qa-benchmark-v1",
                "parameters": {"judge": {"model_source": "external"}},
            },
            "parameters.judge.external_api_token",
            ["external"],
        ),
    ],
)
def test_invalid_documented_bodies_are_400_naming_the_field(body: dict, param: str, words: list[str]) -> None:
    client = CoreClient(Emulator(clock="manual"))
    reply = client.request("POST", "/v1/evaluation", json_body=body)
    assert reply.status == 400
    error = reply.json()["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error"
    assert all(word in error["message"] for word in words), error["message"]
    assert client.request("GET", "/v1/evaluation").json() == []


def test_a_failed_documented_job_reports_its_error() -> None:
    client = CoreClient(Emulator(clock="manual"))
    job_id = client.request(
        "POST",
        "/v1/evaluation",
        json_body={"model": MODEL, "evaluation_type": "classify", "dataset": "safety-benchmark-v1"},
    ).json()["id"]
    client.emulator.advance(2)
    client.request("POST", f"/v1/evaluation/{job_id}/update", json_body={"status": "error", "error": "judge down"})
    job = client.job(job_id)
    assert (job["status"], job["error"], job["score"], job["metrics"]) == ("error", "judge down", None, None)
    assert job["completed_at"] == job["updated_at"]
    status = client.request("GET", f"/v1/evaluation/{job_id}/status").json()
    assert (status["progress"], status["error"]) == (100, "judge down")


def test_documented_jobs_belong_to_their_tenant() -> None:
    client = CoreClient(Emulator(clock="manual"))
    job_id = client.request(
        "POST",
        "/v1/evaluation",
        json_body={"model": MODEL, "evaluation_type": "classify", "dataset": "qa-benchmark-v1"},
    ).json()["id"]
    assert client.request("GET", f"/v1/evaluation/{job_id}", key="key-b").status == 404
    assert client.request("GET", f"/v1/evaluation/{job_id}").status == 200


@pytest.mark.parametrize("evaluation_type", ["classify", "score", "compare"])
def test_a_replaying_job_scores_the_verdicts_its_result_file_shows(docs: Docs, evaluation_type: str) -> None:
    """A documented job that replays a recording (without a result file of its own) ends with the
    recorded results and a file made from its rows that adds up to them: score and metrics come from
    that file's verdicts, like any documented job's. A recording that carries its file is served as
    recorded, and no number is derived from it: score and metrics stay null."""
    recorded = docs.completed(evaluation_type, "qa-benchmark-v1", baseline_model="openai/gpt-oss-20b")
    content = docs.http.get(f"/v1/files/{recorded['results']['result_file_id']}/content", headers=AUTH).text
    job = {"type": evaluation_type, "status_updates": recorded["status_updates"], "results": recorded["results"]}
    for name, extra in (("rows", {}), ("file", {"result_file": content})):
        recording = {"name": f"{evaluation_type}-{name}", "job": job, **extra}
        assert docs.http.post("/_emulator/recordings", json=recording).status_code == 201
        rule = {"match": {"type": evaluation_type}, "recording": f"{evaluation_type}-{name}", "times": 1}
        assert docs.http.post("/_emulator/scenarios", json=rule).status_code == 201
        replay = docs.completed(evaluation_type, "qa-benchmark-v1", baseline_model="Qwen/Qwen3.5-9B")
        results = {k: v for k, v in replay["results"].items() if k != "result_file_id"}
        assert results == {k: v for k, v in recorded["results"].items() if k != "result_file_id"}
        rows = docs.result_rows(replay)
        if name == "file":
            assert (replay["score"], replay["metrics"]) == (None, None)
            continue
        accuracy = sum(row["judged_correct"] for row in rows) / len(rows)
        assert replay["metrics"]["accuracy"] == pytest.approx(accuracy, abs=1e-4)
        if evaluation_type == "classify":
            assert replay["score"] == pytest.approx(results["pass_percentage"] / 100, abs=1e-4)
        elif evaluation_type == "compare":
            wins = (
                sum(row["final_decision"] == "A" for row in rows)
                + sum(row["final_decision"] == "Tie" for row in rows) / 2
            )
            assert replay["score"] == pytest.approx(wins / len(rows), abs=1e-4)
