"""Evaluation routes: list, retrieve, status, model list, auth and unknown paths (docs/reference/evaluations.md)."""

from __future__ import annotations

import pytest
from together_eval_emulator import Emulator
from together_eval_emulator.engine._config import SERVERLESS_ALLOWLIST

from tests.support import CoreClient, classify_params, jsonl, qa_rows

INVALID_KEY = {
    "error": {
        "message": "Invalid API key provided. You can find your API key at https://api.together.xyz/settings/api-keys.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
}


@pytest.fixture
def client() -> CoreClient:
    return CoreClient(Emulator(clock="manual"))


def make_jobs(client: CoreClient, count: int, key: str = "key-a") -> list[str]:
    file_id = client.upload(jsonl(qa_rows(4)), key=key)
    ids = []
    for _ in range(count):
        ids.append(client.create("classify", classify_params(file_id), key=key).json()["workflow_id"])
        client.emulator.advance(1)
    return ids


@pytest.mark.parametrize("path", ["/v1/evaluation", "/v1/evaluations"])
def test_list_is_a_bare_array_newest_first(client: CoreClient, path: str) -> None:
    ids = make_jobs(client, 3)
    reply = client.request("GET", path)
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert [job["workflow_id"] for job in reply.json()] == ids[::-1]


def test_list_limit_defaults_to_10_and_caps_at_100(client: CoreClient) -> None:
    make_jobs(client, 12)
    assert len(client.request("GET", "/v1/evaluation").json()) == 10
    assert len(client.request("GET", "/v1/evaluation", query={"limit": 2}).json()) == 2
    assert len(client.request("GET", "/v1/evaluation", query={"limit": 1000}).json()) == 12


@pytest.mark.parametrize("limit", ["0", "-1", "ten", "1.5"])
def test_a_bad_limit_is_a_400_naming_limit(client: CoreClient, limit: str) -> None:
    reply = client.request("GET", "/v1/evaluation", query={"limit": limit})
    assert reply.status == 400
    assert reply.json()["error"]["param"] == "limit"


def test_list_filters_on_the_exact_status(client: CoreClient) -> None:
    ids = make_jobs(client, 3)  # created at t=0, 1, 2; now t=3
    client.emulator.advance(3.5)  # t=6.5: the first job (done at 6.04) completed, the others not yet
    completed = client.request("GET", "/v1/evaluation", query={"status": "completed"}).json()
    assert [job["workflow_id"] for job in completed] == ids[:1]
    assert client.request("GET", "/v1/evaluation", query={"status": "failed"}).json() == []
    assert {job["status"] for job in client.request("GET", "/v1/evaluation").json()} == {"completed", "running"}


def test_retrieve_and_status_of_an_unknown_job_are_404(client: CoreClient) -> None:
    for path in ("/v1/evaluation/eval-0000-1", "/v1/evaluation/eval-0000-1/status"):
        reply = client.request("GET", path)
        assert reply.status == 404
        assert set(reply.json()["error"]) == {"message", "type", "param", "code"}
        assert "eval-0000-1" in reply.json()["error"]["message"]


def test_another_tenant_sees_nothing(client: CoreClient) -> None:
    ids = make_jobs(client, 1, key="key-a")
    assert client.request("GET", f"/v1/evaluation/{ids[0]}", key="key-b").status == 404
    assert client.request("GET", f"/v1/evaluation/{ids[0]}/status", key="key-b").status == 404
    assert client.request("GET", "/v1/evaluation", key="key-b").json() == []
    # Only the built-in datasets (ids without the file- prefix), which every tenant sees.
    assert [
        f for f in client.request("GET", "/v1/files", key="key-b").json()["data"] if f["id"].startswith("file-")
    ] == []
    assert client.request("GET", f"/v1/evaluation/{ids[0]}", key="key-a").status == 200


@pytest.mark.parametrize("headers", [{}, {"authorization": "Bearer "}, {"authorization": "Basic abc"}])
@pytest.mark.parametrize(
    "method,path", [("GET", "/v1/evaluation"), ("POST", "/v1/evaluation"), ("GET", "/v1/files"), ("GET", "/v3/whoami")]
)
def test_missing_or_empty_key_is_the_real_401(client: CoreClient, headers: dict, method: str, path: str) -> None:
    reply = client.request(method, path, key=None, headers=headers)
    assert reply.status == 401
    assert reply.json() == INVALID_KEY


@pytest.mark.parametrize("path", ["/v1/evaluation/model-list", "/v1/evaluations/model-list"])
def test_model_list(client: CoreClient, path: str) -> None:
    assert client.request("GET", path).json() == {"model_list": SERVERLESS_ALLOWLIST}
    assert (
        client.request("GET", path, query={"model_source": "serverless"}).json()["model_list"] == SERVERLESS_ALLOWLIST
    )
    assert client.request("GET", path, query={"model_source": "dedicated"}).json() == {"model_list": []}


@pytest.mark.parametrize(
    "path,hint",
    [
        ("/v1/v1/evaluation", "ends in /v1"),
        ("/v1/v3/whoami", "ends in /v1"),
        ("/evaluations", "lacks the /v1"),
        ("/evaluation/eval-1234-5/status", "lacks the /v1"),
        ("/files/file-1/content", "lacks the /v1"),
    ],
)
def test_base_url_mistakes_get_a_404_naming_both_base_urls(client: CoreClient, path: str, hint: str) -> None:
    reply = client.request("GET", path)
    assert reply.status == 404
    message = reply.json()["error"]["message"]
    assert hint in message
    assert "together 3.x: use base_url='http://emulator.test'" in message
    assert "together 1.x/2.x: use base_url='http://emulator.test/v1'" in message
    assert "together-ai (TypeScript): use baseURL='http://emulator.test/v1'" in message


def test_unknown_paths_and_methods_answer_the_error_shape(client: CoreClient) -> None:
    unknown = client.request("GET", "/v1/fine-tunes")
    assert unknown.status == 404 and "not emulated" in unknown.json()["error"]["message"]
    wrong_method = client.request("DELETE", "/v1/evaluation")
    assert wrong_method.status == 405
    assert set(wrong_method.json()["error"]) == {"message", "type", "param", "code"}


def test_whoami_is_stable_per_key(client: CoreClient) -> None:
    first = client.request("GET", "/v3/whoami").json()
    assert first["type"] == "project_api_key"
    assert set(first) == {"type", "api_key", "organization", "project"}
    assert client.request("GET", "/v3/whoami").json() == first
    assert client.request("GET", "/v3/whoami", key="key-b").json() != first


def test_parameters_are_echoed_as_submitted(client: CoreClient) -> None:
    file_id = client.upload(jsonl(qa_rows(2)))
    params = classify_params(file_id, model_to_evaluate="response")
    params["judge"] = {**params["judge"], "external_api_token": None, "max_tokens": 10}
    job_id = client.create("classify", params).json()["workflow_id"]
    assert client.job(job_id)["parameters"] == params


def test_model_lists_for_other_sources_are_configurable() -> None:
    client = CoreClient(Emulator(clock="manual", model_lists={"dedicated": ["ep_abc123"]}))
    for path in ("/v1/evaluation/model-list", "/v1/evaluations/model-list"):
        assert client.request("GET", path, query={"model_source": "dedicated"}).json() == {"model_list": ["ep_abc123"]}
        assert client.request("GET", path, query={"model_source": "external"}).json() == {"model_list": []}
