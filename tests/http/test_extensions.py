"""The extension point: an emulator without any add-on is the real contract alone, and an add-on
plugs in its create bodies, routes, view fields, result-file fields, verdicts and snapshot data
without the engine or the HTTP layer naming it."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import replace
from typing import Any

import pytest
from pydantic import BaseModel
from together_eval_emulator import Emulator
from together_eval_emulator.engine._engine import Engine
from together_eval_emulator.engine._errors import InvalidRequest
from together_eval_emulator.engine._parameters import ClassifyParameters, CompareParameters, ScoreParameters
from together_eval_emulator.engine._results import Outcome, RowVerdict
from together_eval_emulator.engine._store import Job, Tenant
from together_eval_emulator.http._extension import ApiExtension, ViewKind
from together_eval_emulator.http._routing import Call, Reply, Route, json_response
from together_eval_emulator.http._transport import ApiResponse
from together_eval_emulator.http._wire import (
    EvaluationCreateResponse,
    EvaluationJob,
    EvaluationStatusResponse,
)

from tests.docs.docs_support import runnable_blocks
from tests.support import Api, CoreClient, classify_params, jsonl, qa_rows

DOCUMENTED_BODY = {
    "model": "meta-llama/Llama-3.2-3B-Instruct-Turbo",
    "evaluation_type": "classify",
    "dataset": "qa-benchmark-v1",
}
MISSING_TYPE = "Missing required field 'type': use one of 'classify', 'score', 'compare'."


def real_flow(api: Api) -> list[tuple[int, bytes]]:
    """A real-contract session: upload, create, poll, list, files, result file, delete."""
    answers = []
    file_id = api.upload(jsonl(qa_rows(12)))
    job_id = api.create_id("classify", classify_params(file_id))
    for seconds in (0, 2, 600):
        api.advance(seconds)
        for path in (f"/v1/evaluation/{job_id}", f"/v1/evaluation/{job_id}/status", "/v1/evaluation", "/v1/files"):
            reply = api.request("GET", path)
            answers.append((reply.status, reply.body))
    result_file = api.job(job_id)["results"]["result_file_id"]
    for method, path in (("GET", f"/v1/files/{result_file}/content"), ("DELETE", f"/v1/files/{result_file}")):
        reply = api.request(method, path)
        answers.append((reply.status, reply.body))
    return answers


# ---------------------------------------------------------------- no add-on


def test_without_add_ons_the_real_contract_answers_as_with_them() -> None:
    bare = CoreClient(Emulator(clock="manual", extensions=[]))
    full = CoreClient(Emulator(clock="manual"))
    assert bare.emulator.extensions == () and len(full.emulator.extensions) == 1
    assert real_flow(bare) == real_flow(full)


def test_without_the_documented_add_on_a_documented_body_is_a_real_400() -> None:
    bare = CoreClient(Emulator(clock="manual", extensions=[]))
    reply = bare.request("POST", "/v1/evaluation", json_body=DOCUMENTED_BODY)
    assert reply.status == 400
    assert reply.json()["error"] == {
        "message": MISSING_TYPE,
        "type": "invalid_request_error",
        "param": "type",
        "code": None,
    }
    assert bare.control("GET", "jobs") == []
    # With the add-on (the default) the same body is a documented job.
    assert (
        CoreClient(Emulator(clock="manual")).request("POST", "/v1/evaluation", json_body=DOCUMENTED_BODY).status == 200
    )


def test_without_the_documented_add_on_the_openapi_document_has_none_of_its_models() -> None:
    bare = CoreClient(Emulator(clock="manual", extensions=[])).request("GET", "/openapi.json", key=None).json()
    full = CoreClient(Emulator(clock="manual")).request("GET", "/openapi.json", key=None).json()
    assert not [name for name in bare["components"]["schemas"] if name.startswith("Documented")]
    assert {"DocumentedCreateRequest", "DocumentedEvaluationJob", "DocumentedStatusResponse"} <= set(
        full["components"]["schemas"]
    )
    assert bare["paths"].keys() == full["paths"].keys()  # the documented API shares the real paths


def test_a_snapshot_with_documented_jobs_needs_the_documented_add_on() -> None:
    full = CoreClient(Emulator(clock="manual"))
    assert full.request("POST", "/v1/evaluation", json_body=DOCUMENTED_BODY).status == 200
    snapshot = full.control("GET", "state")
    bare = CoreClient(Emulator(clock="manual", extensions=[]))
    reply = bare.request("PUT", "/_emulator/state", json_body=snapshot, key=None)
    assert reply.status == 400
    error = reply.json()["error"]
    assert error["param"] == "tenants.0.jobs.0.extensions.documented"
    assert "no extension 'documented'" in error["message"]
    assert bare.control("GET", "jobs") == []  # nothing changed


def test_documented_data_in_a_snapshot_is_checked_like_a_create_body() -> None:
    api = CoreClient(Emulator(clock="manual"))
    assert api.request("POST", "/v1/evaluation", json_body=DOCUMENTED_BODY).status == 200
    snapshot = api.control("GET", "state")
    data = snapshot["tenants"][0]["jobs"][0]["extensions"]["documented"]
    assert data == {**DOCUMENTED_BODY, "parameters": {}}
    data["dataset"] = "no-such-dataset"
    reply = api.request("PUT", "/_emulator/state", json_body=snapshot, key=None)
    assert reply.status == 400
    assert reply.json()["error"]["param"] == "tenants.0.jobs.0.extensions.documented.dataset"
    assert "Unknown dataset 'no-such-dataset'" in reply.json()["error"]["message"]


# ---------------------------------------------------------------- an add-on of a test's own


class TaggedCreated(EvaluationCreateResponse):
    tag: str


class TaggedJob(EvaluationJob):
    tag: str


class TaggedStatus(EvaluationStatusResponse):
    tag: str
    clock_seconds: int


class TagList(BaseModel):
    tags: list[str]


class Tagged(ApiExtension):
    """Claims `{"tag", "real": <a real create body>}`; every row of its jobs passes."""

    name = "tagged"
    alternatives = {
        EvaluationCreateResponse: TaggedCreated,
        EvaluationJob: TaggedJob,
        EvaluationStatusResponse: TaggedStatus,
    }

    def routes(self) -> Sequence[Route]:
        return [Route("GET", "/v1/tags", self.list_tags, "tags.list", ok={200: Reply("The tags.", TagList)})]

    def list_tags(self, call: Call) -> ApiResponse:
        jobs = call.engine.store.jobs(call.tenant.key)
        return json_response(
            TagList(tags=[job.extensions[self.name]["tag"] for job in jobs if self.name in job.extensions])
        )

    def claims(self, body: Any) -> bool:
        return isinstance(body, dict) and "tag" in body and "type" not in body

    def create(self, engine: Engine, tenant: Tenant, body: Any) -> BaseModel:
        job = engine.jobs.create(tenant, body["real"], extensions={self.name: {"tag": body["tag"]}})
        return TaggedCreated(workflow_id=job.workflow_id, tag=body["tag"])

    def verdict_weights(
        self,
        eval_type: str,
        params: ClassifyParameters | ScoreParameters | CompareParameters,
        seed: int,
        data: Any,
        weights: Outcome,
    ) -> Outcome:
        return replace(weights, pass_share=1.0)

    def result_fields(self, job: Job, data: Any, verdicts: Sequence[RowVerdict]) -> list[dict[str, Any]]:
        return [{"tag": data["tag"]} for _ in verdicts]

    def job_view(self, engine: Engine, job: Job, data: Any, view: EvaluationJob) -> EvaluationJob:
        return TaggedJob(**dict(view), tag=data["tag"])

    def status_view(
        self, engine: Engine, job: Job, data: Any, view: EvaluationStatusResponse
    ) -> EvaluationStatusResponse:
        return TaggedStatus(**dict(view), tag=data["tag"], clock_seconds=self._seconds(engine))

    def view_key(self, engine: Engine, job: Job, data: Any, kind: ViewKind) -> Hashable:
        return self._seconds(engine) if kind == "status" else None

    @staticmethod
    def _seconds(engine: Engine) -> int:
        return engine.clock.now_ns() // 1_000_000_000

    def import_data(self, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("tag"), str):
            raise InvalidRequest("must be {'tag': <string>}.")
        return data


@pytest.fixture
def tagged() -> Api:
    return CoreClient(Emulator(clock="manual", extensions=[Tagged()]))


def _tagged_job(api: Api, tag: str = "nightly") -> str:
    file_id = api.upload(jsonl(qa_rows(10)))
    real = {"type": "classify", "parameters": classify_params(file_id)}
    reply = api.request("POST", "/v1/evaluation", json_body={"tag": tag, "real": real})
    assert reply.status == 200, reply.body
    assert reply.json()["tag"] == tag
    return str(reply.json()["workflow_id"])


def test_an_add_on_creates_its_jobs_and_adds_its_fields(tagged: Api) -> None:
    job_id = _tagged_job(tagged)
    assert tagged.status(job_id)["tag"] == "nightly"
    tagged.advance(600)
    job = tagged.job(job_id)
    assert job["tag"] == "nightly" and list(job)[-1] == "tag"  # after the real fields
    assert job["results"]["pass_percentage"] == 100  # its verdict hook ran while the job was created
    rows = tagged.content(job["results"]["result_file_id"])
    assert {row["tag"] for row in rows} == {"nightly"} and {row["label"] for row in rows} == {"good"}
    assert list(rows[0])[-1] == "tag"
    # Real-contract jobs of the same emulator stay real.
    real_id = tagged.create_id("classify", classify_params(tagged.upload(jsonl(qa_rows(3)))))
    assert "tag" not in tagged.job(real_id) and "tag" not in tagged.status(real_id)


def test_an_add_on_serves_its_own_routes_and_declares_its_models(tagged: Api) -> None:
    _tagged_job(tagged, "a")
    _tagged_job(tagged, "b")
    reply = tagged.request("GET", "/v1/tags")
    assert reply.status == 200 and reply.json() == {"tags": ["a", "b"]}
    document = tagged.request("GET", "/openapi.json", key=None).json()
    assert "/v1/tags" in document["paths"]
    assert {"TaggedJob", "TaggedStatus", "TaggedCreated", "TagList"} <= set(document["components"]["schemas"])
    listing = document["paths"]["/v1/evaluation"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert {item["$ref"] for item in listing["items"]["anyOf"]} == {
        "#/components/schemas/EvaluationJob",
        "#/components/schemas/TaggedJob",
    }


def test_a_view_is_cached_under_the_add_on_view_key(tagged: Api) -> None:
    tagged.control("POST", "scenarios", {"times": 1, "progression": {"mode": "manual"}})
    job_id = _tagged_job(tagged)  # stays pending: the same record and phases on every read
    start = tagged.status(job_id)["clock_seconds"]
    tagged.advance(5)
    status = tagged.status(job_id)
    assert (status["status"], status["clock_seconds"]) == ("pending", start + 5)  # not the view cached before
    assert tagged.status(job_id) == status


def test_an_add_on_s_job_data_goes_through_a_snapshot(tagged: Api) -> None:
    job_id = _tagged_job(tagged)
    tagged.advance(600)
    snapshot = tagged.control("GET", "state")
    assert snapshot["tenants"][0]["jobs"][0]["extensions"] == {"tagged": {"tag": "nightly"}}
    fresh = CoreClient(Emulator(clock="manual", extensions=[Tagged()]))
    fresh.control("PUT", "state", snapshot)
    assert fresh.job(job_id) == tagged.job(job_id)
    result_file = tagged.job(job_id)["results"]["result_file_id"]
    assert fresh.content(result_file) == tagged.content(result_file)

    snapshot["tenants"][0]["jobs"][0]["extensions"]["tagged"] = {"tag": 5}
    reply = fresh.request("PUT", "/_emulator/state", json_body=snapshot, key=None)
    assert reply.status == 400
    assert reply.json()["error"]["param"] == "tenants.0.jobs.0.extensions.tagged"


def test_add_ons_work_side_by_side() -> None:
    both = CoreClient(Emulator(clock="manual", extensions=[*Emulator().extensions, Tagged()]))
    documented = both.request("POST", "/v1/evaluation", json_body=DOCUMENTED_BODY).json()["id"]
    tagged = _tagged_job(both)
    both.advance(600)
    assert "score" in both.job(documented) and "tag" not in both.job(documented)
    assert "tag" in both.job(tagged) and "score" not in both.job(tagged)


def test_extension_names_are_unique() -> None:
    with pytest.raises(ValueError, match="its own non-empty name"):
        Emulator(extensions=[Tagged(), Tagged()])


def test_a_job_can_only_carry_data_of_a_registered_add_on() -> None:
    emulator = Emulator(clock="manual", extensions=[])
    with pytest.raises(ValueError, match="no extension named"):
        emulator.jobs.create(Tenant("key-a"), {}, extensions={"tagged": {}})


def test_the_add_on_of_the_architecture_page_runs() -> None:
    (block,) = runnable_blocks("docs/contributing/architecture.md")
    namespace: dict[str, Any] = {}
    exec(compile(block.source, block.where, "exec"), namespace)
    api = CoreClient(namespace["emulator"])
    real = {"type": "classify", "parameters": classify_params(api.upload(jsonl(qa_rows(4))))}
    job_id = api.request("POST", "/v1/evaluation", json_body={"label": "nightly", "job": real}).json()["workflow_id"]
    assert api.job(job_id)["label"] == "nightly"
    assert [job.get("label") for job in api.request("GET", "/v1/evaluation").json()] == ["nightly"]
    assert "label" not in api.status(job_id)  # it adds no status field
    assert api.request("POST", "/v1/evaluation", json_body=DOCUMENTED_BODY).status == 200  # the defaults stay
