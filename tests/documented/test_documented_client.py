"""The documented client (`together_eval_emulator.documented.Together` / `AsyncTogether`): the
documented types and field types, the status mapping, construction, errors, and both faces."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from together_eval_emulator.documented import (
    APIConnectionError,
    APIStatusError,
    AsyncTogether,
    DocumentedClientError,
    EvaluationCreateResponse,
    EvaluationJob,
    EvaluationStatus,
    EvaluationStatusResponse,
    EvaluationType,
    NotADocumentedJob,
    Together,
)
from together_eval_emulator.documented._client import DEFAULT_BASE_URL
from together_eval_emulator.faces._controller import EmulatorController

from tests.support import classify_params

MODEL = "meta-llama/Llama-3.2-3B-Instruct-Turbo"
DATASET = "qa-benchmark-v1"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def epoch(stamp: str) -> int:
    return int(datetime.fromisoformat(stamp).timestamp())


def update(emulator: EmulatorController, job_id: str, **body: Any) -> None:
    """The update hook, as a test moves a job to any real status."""
    reply = httpx.post(
        f"{emulator.url}/v1/evaluation/{job_id}/update",
        json=body,
        headers={"Authorization": f"Bearer {emulator.api_key}"},
    )
    assert reply.status_code == 200, reply.text


# ---------------------------------------------------------------- types and field types


def test_create_retrieve_status_and_list_return_the_documented_types(together_emulator: EmulatorController) -> None:
    client = Together()
    created = client.evaluation.create(MODEL, EvaluationType.CLASSIFY, DATASET)
    assert type(created) is EvaluationCreateResponse
    assert (created.model, created.evaluation_type, created.dataset, created.object) == (
        MODEL,
        "classify",
        DATASET,
        "evaluation",
    )
    assert created.status == EvaluationStatus.PENDING == "pending" and created.api_status == "pending"
    assert type(created.created_at) is int
    real = together_emulator.job(created.id)
    assert created.created_at == epoch(real.created_at)

    status = client.evaluation.status(created.id)
    assert type(status) is EvaluationStatusResponse
    assert (status.id, status.status, status.progress) == (created.id, "pending", 0.0)
    assert type(status.progress) is float and type(status.estimated_completion) is int

    together_emulator.run_until_complete(created.id)
    job = client.evaluation.retrieve(created.id)
    assert type(job) is EvaluationJob
    assert (job.status, job.api_status, job.error) == ("completed", "completed", None)
    assert type(job.created_at) is int and type(job.completed_at) is int and type(job.score) is float
    assert job.completed_at == epoch(together_emulator.job(created.id).updated_at) == status.estimated_completion
    assert isinstance(job.metrics, dict) and set(job.metrics) == {
        "accuracy",
        "precision",
        "recall",
        "f1_score",
        "categories",
    }
    assert job.results is not None and job.results["result_file_id"].startswith("file-")
    done = client.evaluation.status(created.id)
    assert (done.status, done.progress) == ("completed", 100.0)

    listed = client.evaluation.list()
    assert listed == [job]


def test_list_is_newest_first_and_leaves_real_contract_jobs_out(together_emulator: EmulatorController) -> None:
    client = Together()
    first = client.evaluation.create(MODEL, "classify", DATASET).id
    real = httpx.post(
        f"{together_emulator.url}/v1/evaluation",
        json={"type": "classify", "parameters": classify_params(DATASET)},
        headers={"Authorization": f"Bearer {together_emulator.api_key}"},
    ).json()["workflow_id"]
    second = client.evaluation.create(MODEL, "score", DATASET).id
    assert [job.id for job in client.evaluation.list()] == [second, first]
    assert [job.id for job in client.evaluation.list(limit=2)] == [second]  # the real job takes a place
    with pytest.raises(NotADocumentedJob, match=real):
        client.evaluation.retrieve(real)
    with pytest.raises(NotADocumentedJob, match="real together SDK"):
        client.evaluation.status(real)


# ---------------------------------------------------------------- statuses


@pytest.mark.parametrize(
    "api_status,documented",
    [
        ("pending", "pending"),
        ("queued", "pending"),
        ("running", "running"),
        ("completed", "completed"),
        ("error", "failed"),
        ("user_error", "failed"),
    ],
)
def test_each_real_status_reads_as_a_documented_one(
    together_emulator: EmulatorController, api_status: str, documented: str
) -> None:
    client = Together()
    job_id = client.evaluation.create(MODEL, "classify", DATASET).id
    update(together_emulator, job_id, status=api_status, **({"error": "boom"} if documented == "failed" else {}))
    job, status = client.evaluation.retrieve(job_id), client.evaluation.status(job_id)
    assert (job.status, job.api_status) == (documented, api_status)
    assert (status.status, status.api_status) == (documented, api_status)
    assert documented in set(EvaluationStatus) - {EvaluationStatus.CANCELLED}


def test_a_failed_job_reads_failed_with_its_error(together_emulator: EmulatorController) -> None:
    client = Together()
    job_id = client.evaluation.create(MODEL, "classify", DATASET).id
    update(together_emulator, job_id, status="user_error", error="the dataset is unreadable")
    job = client.evaluation.retrieve(job_id)
    assert (job.status, job.api_status, job.error) == ("failed", "user_error", "the dataset is unreadable")
    assert (job.score, job.metrics) == (None, None) and type(job.completed_at) is int
    assert client.evaluation.status(job_id).progress == 100.0


# ---------------------------------------------------------------- async


@pytest.mark.anyio
async def test_the_async_client_has_the_same_four_methods(together_emulator: EmulatorController) -> None:
    async with AsyncTogether() as client:
        created = await client.evaluation.create(MODEL, "compare", DATASET, baseline_model="Qwen/Qwen3.5-9B")
        assert (created.status, type(created.created_at)) == ("pending", int)
        assert (await client.evaluation.status(created.id)).progress == 0.0
        together_emulator.complete_all()
        job = await client.evaluation.retrieve(created.id)
        assert job.status == "completed" and job.score is not None and 0 <= job.score <= 1
        assert await client.evaluation.list() == [job]
        update(together_emulator, created.id, status="error", error="judge down")
        failed = await client.evaluation.retrieve(created.id)
        assert (failed.status, failed.api_status, failed.error) == ("failed", "error", "judge down")
        with pytest.raises(APIStatusError) as raised:
            await client.evaluation.retrieve("eval-0000-0")
        assert raised.value.status_code == 404


@pytest.mark.anyio
async def test_the_async_client_against_the_live_server(together_emulator_server: EmulatorController) -> None:
    async with AsyncTogether() as client:
        created = await client.evaluation.create(MODEL, "score", DATASET, threshold=6)
        together_emulator_server.complete_all()
        job = await client.evaluation.retrieve(created.id)
        assert job.status == "completed" and job.results is not None
        assert together_emulator_server.job(created.id).parameters["pass_threshold"] == 6


def test_the_sync_client_against_the_live_server(together_emulator_server: EmulatorController) -> None:
    with Together() as client:
        created = client.evaluation.create(MODEL, "classify", DATASET)
        together_emulator_server.complete_all()
        assert client.evaluation.retrieve(created.id).status == "completed"
        assert [job.id for job in client.evaluation.list()] == [created.id]


# ---------------------------------------------------------------- construction


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/"])
def test_base_url_with_or_without_v1(together_emulator: EmulatorController, suffix: str) -> None:
    client = Together(api_key="someone", base_url=together_emulator.url + suffix)
    assert client.base_url == together_emulator.url
    assert client.evaluation.create(MODEL, "classify", DATASET).status == "pending"
    assert together_emulator.jobs(tenant="someone")


def test_key_and_base_url_come_from_the_environment(
    together_emulator: EmulatorController, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = Together()
    assert (client.api_key, client.base_url) == (together_emulator.api_key, together_emulator.url)
    monkeypatch.setenv("TOGETHER_BASE_URL", together_emulator.url + "/v1")
    assert Together().base_url == together_emulator.url
    monkeypatch.delenv("TOGETHER_BASE_URL")
    assert Together().base_url == DEFAULT_BASE_URL == "http://127.0.0.1:8000"


def test_a_missing_api_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    with pytest.raises(DocumentedClientError, match="TOGETHER_API_KEY"):
        Together()
    with pytest.raises(DocumentedClientError, match="api_key"):
        AsyncTogether(api_key="")


def test_a_given_http_client_is_used_and_left_open(together_emulator: EmulatorController) -> None:
    seen: list[str] = []
    with httpx.Client(event_hooks={"request": [lambda request: seen.append(request.url.path)]}) as http:
        client = Together(http_client=http)
        client.evaluation.create(MODEL, "classify", DATASET)
        client.close()
        assert not http.is_closed and seen == ["/v1/evaluation"]


# ---------------------------------------------------------------- errors


def test_an_http_error_carries_the_status_code_and_the_error_body(together_emulator: EmulatorController) -> None:
    client = Together()
    with pytest.raises(APIStatusError) as raised:
        client.evaluation.create(MODEL, "rank", DATASET)
    error = raised.value
    assert error.status_code == 400 and error.response.status_code == 400
    assert error.body == {
        "error": {"message": error.message, "type": "invalid_request_error", "param": "evaluation_type", "code": None}
    }
    assert (error.type, error.param, error.code) == ("invalid_request_error", "evaluation_type", None)
    assert str(error) == f"Error code: 400 - {error.message}" and "'rank'" in error.message

    with pytest.raises(APIStatusError) as missing:
        client.evaluation.retrieve("eval-0000-0")
    assert missing.value.status_code == 404 and missing.value.param is None

    job_id = client.evaluation.create(MODEL, "classify", DATASET).id
    with pytest.raises(APIStatusError) as other_tenant:
        Together(api_key="another-key").evaluation.retrieve(job_id)
    assert other_tenant.value.status_code == 404


def test_an_error_body_that_is_not_json_is_kept_as_text() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(502, text="Bad Gateway from a proxy"))
    client = Together(api_key="k", base_url="http://proxy.test", http_client=httpx.Client(transport=transport))
    with pytest.raises(APIStatusError) as raised:
        client.evaluation.list()
    assert (raised.value.status_code, raised.value.body) == (502, "Bad Gateway from a proxy")
    assert raised.value.message == "Bad Gateway from a proxy" and raised.value.param is None


def test_no_answer_is_a_connection_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = Together(
        api_key="k", base_url="http://down.test", http_client=httpx.Client(transport=httpx.MockTransport(refuse))
    )
    with pytest.raises(APIConnectionError, match="POST /v1/evaluation") as raised:
        client.evaluation.create(MODEL, "classify", DATASET)
    assert isinstance(raised.value.__cause__, httpx.ConnectError)
    with pytest.raises(DocumentedClientError, match="non-empty job id"):
        client.evaluation.retrieve("")


@pytest.fixture
def closed_port() -> Iterator[str]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    yield f"http://127.0.0.1:{port}"


@pytest.mark.anyio
async def test_no_answer_is_a_connection_error_for_the_async_client_too(closed_port: str) -> None:
    async with AsyncTogether(api_key="k", base_url=closed_port) as client:
        with pytest.raises(APIConnectionError):
            await client.evaluation.list()
