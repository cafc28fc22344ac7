"""/openapi.json: a valid OpenAPI 3.1 document written from the route table alone, served alike by
every face, and truthful: every route answers only with statuses its operation declares, in bodies
its schemas accept, and every status declared is one a request below actually gets."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from together_eval_emulator import Emulator
from together_eval_emulator.faces._mock import EmulatorMock
from together_eval_emulator.http._routing import Route, resolve
from together_eval_emulator.http._transport import ApiRequest

from tests.support import BASE, KEY, Api, CoreClient, CoreFace, Reply, ServerFace, classify_params, jsonl, qa_rows

ADMIN = "s3cret"
DATASET = "qa-benchmark-v1"  # a built-in dataset
BINARY_MEDIA = "application/octet-stream"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    reply = CoreClient().request("GET", "/openapi.json", key=None)
    assert reply.status == 200 and reply.headers["content-type"] == "application/json"
    return reply.json()  # type: ignore[no-any-return]


# The routes the document describes; the dashboard's HTML pages (`openapi=False`) are checked by
# tests/dashboard/test_dashboard_routes.py.
ROUTES = {route.name: route for route in Emulator(clock="manual").routes if route.openapi}


def operation(document: dict[str, Any], route: Route) -> dict[str, Any]:
    return document["paths"][route.template][route.method.lower()]  # type: ignore[no-any-return]


def validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A JSON Schema validator for `schema`, whose `#/components/...` refs resolve in the document."""
    return Draft202012Validator({**schema, "components": document["components"]})


# ---------------------------------------------------------------- the document itself


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    validate_spec(document)


def test_document_covers_exactly_the_route_table(document: dict[str, Any]) -> None:
    routes = [route for route in Emulator(clock="manual").routes if route.openapi]
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert documented == {(route.method, route.template) for route in routes}
    operation_ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert sorted(operation_ids) == sorted(route.name for route in routes)
    hidden = [route for route in Emulator(clock="manual").routes if not route.openapi]
    assert hidden and all(route.path.startswith("/_emulator/ui") for route in hidden)  # the dashboard only


def test_every_path_parameter_is_declared(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        in_path = set(re.findall(r"\{(\w+)\}", path))
        for method, op in item.items():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == in_path, f"{method} {path}"
            assert all(p["required"] for p in op.get("parameters", []) if p["in"] == "path")


def test_every_operation_has_responses_summary_and_security(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        for method, op in item.items():
            assert op["responses"] and op["summary"], f"{method} {path}"
            assert "security" in op, f"{method} {path}"
            for status, response in op["responses"].items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, f"{method} {path} {status}"


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_ref_resolves(document: dict[str, Any]) -> None:
    refs = set(_refs(document))
    assert refs
    for ref in refs:
        node: Any = document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        assert isinstance(node, dict), ref


def test_run_time_limits_and_statuses_are_declared(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["MultipartInitiateRequest"]["properties"]["num_parts"]["maximum"] == 10_000
    assert schemas["JobAdvanceRequest"]["properties"]["steps"] == {
        "default": 1,
        "maximum": 100,
        "minimum": 1,
        "title": "Steps",
        "type": "integer",
    }
    assert schemas["ClockAdvanceRequest"]["additionalProperties"] is False
    assert set(schemas["DocumentedCreateRequest"]["properties"]["dataset"]["enum"]) >= {DATASET}
    listing = operation(document, ROUTES["evaluation.list"])
    limit = next(p for p in listing["parameters"] if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1}
    part = next(p for p in operation(document, ROUTES["upload.put_part"])["parameters"] if p["name"] == "part")
    assert part["schema"]["type"] == "integer"
    kind = operation(document, ROUTES["control.scenarios.type"])["parameters"][0]
    assert kind["schema"]["enum"] == ["classify", "score", "compare"]
    assert set(operation(document, ROUTES["control.faults.add"])["responses"]) == {"201", "400", "401", "413"}
    assert set(operation(document, ROUTES["files.upload"])["responses"]) == {"200", "302", "400", "401", "413"}
    assert operation(document, ROUTES["control.health"])["security"] == []


def test_same_bytes_through_every_face() -> None:
    emulator = Emulator(clock="manual")
    core = CoreClient(emulator).request("GET", "/openapi.json", key=None)
    server = ServerFace(emulator).send("GET", "/openapi.json", {}, b"", "")
    with EmulatorMock(emulator=emulator) as mock, httpx.Client(base_url=mock.base_url) as client:
        mocked = client.get("/openapi.json")
    assert core.body == server.body == mocked.content
    assert core.status == server.status == mocked.status_code == 200
    assert server.headers["content-type"] == mocked.headers["content-type"] == "application/json"


def test_document_is_served_through_the_dispatcher() -> None:
    emulator = Emulator(clock="manual")
    CoreClient(emulator).request("GET", "/openapi.json", key=None)
    assert emulator.journal.entries[-1].route == "openapi"
    wrong_method = CoreClient(emulator).request("POST", "/openapi.json", key=None)
    assert wrong_method.status == 405


def test_a_route_must_declare_the_parameters_of_its_path() -> None:
    with pytest.raises(ValueError, match="path parameters"):
        Route("GET", "/v1/things/{id}", lambda call: None, "things.get")  # type: ignore[arg-type,return-value]


# ---------------------------------------------------------------- every route, answered as declared


class RecordingFace(CoreFace):
    """The core face, keeping the last request it sent."""

    last: ApiRequest

    def send(self, method: str, path: str, headers: dict[str, str], body: bytes, query: str) -> Reply:
        self.last = ApiRequest(method=method, path=path, base_url=BASE, query_string=query, headers=headers, body=body)
        return super().send(method, path, headers, body, query)


class World:
    """A fresh emulator and what a case needs in it, made on demand."""

    def __init__(self, **config: Any) -> None:
        self.emulator = Emulator(clock="manual", **config)
        self.face = RecordingFace(self.emulator)
        self.api = Api(self.face)

    def call(self, method: str, path: str, **kwargs: Any) -> Reply:
        return self.api.request(method, path, **kwargs)

    def control(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.api.request(method, "/_emulator/" + path, json_body=body, key=None, **kwargs)

    def file(self) -> str:
        return self.api.upload(jsonl(qa_rows(3)))

    def job(self) -> str:
        return self.api.create_id("classify", classify_params(self.file()))

    def finished_job(self) -> str:
        job_id = self.job()
        self.api.advance(3600)
        assert self.api.status(job_id)["status"] == "completed"
        return job_id

    def queued_job(self) -> str:
        """A job waiting in `queued` for the one slot (`max_running=1`) the job before it holds."""
        self.job()
        second = self.job()
        self.api.advance(5)
        assert self.api.status(second)["status"] == "queued"
        return second

    def replayed_job(self) -> str:
        """A job replaying a recording added just now, through a scenario rule."""
        assert self.control("POST", "recordings", RECORDING).status == 201
        assert self.control("POST", "scenarios", {"recording": RECORDING["name"]}).status == 201
        return self.api.create_id("classify", classify_params(self.file()))

    def polled_job(self) -> str:
        """A finished job read too often and after its end: a report with findings."""
        job_id = self.job()
        self.api.status(job_id)
        self.api.advance(3600)
        self.api.status(job_id)
        self.api.status(job_id)
        return job_id

    def documented_job(self) -> str:
        reply = self.call(
            "POST", "/v1/evaluation", json_body={"model": "m", "evaluation_type": "classify", "dataset": DATASET}
        )
        assert reply.status == 200, reply.body
        return reply.json()["workflow_id"]  # type: ignore[no-any-return]

    def upload_url(self) -> str:
        """The path of a fresh two-step upload URL."""
        reply = self.form("/v1/files", {"purpose": "eval", "file_name": "d.jsonl"})
        return reply.headers["location"].removeprefix(BASE)

    def used_upload_url(self) -> str:
        """The path of an upload URL whose file was uploaded and preprocessed."""
        reply = self.form("/v1/files", {"purpose": "eval", "file_name": "d.jsonl"})
        url = reply.headers["location"].removeprefix(BASE)
        assert self.call("PUT", url, body=b'{"a": 1}\n', key=None).status == 200
        assert self.call("POST", f"/v1/files/{reply.headers['x-together-file-id']}/preprocess").status == 200
        return url

    def pending_file(self) -> str:
        """A file whose upload URL was handed out and never used."""
        return self.form("/v1/files", {"purpose": "eval", "file_name": "d.jsonl"}).headers["x-together-file-id"]

    def form(self, path: str, fields: dict[str, str]) -> Reply:
        return self.call(
            "POST",
            path,
            headers={"content-type": "application/x-www-form-urlencoded"},
            body="&".join(f"{k}={v}" for k, v in fields.items()).encode(),
        )

    def multipart(self, path: str, fields: dict[str, str], content: bytes | None) -> Reply:
        files = {"file": ("d.jsonl", content, "application/jsonl")} if content is not None else None
        request = httpx.Request("POST", BASE + path, data=fields, files=files or {"": ("", b"")})
        if content is None:  # a multipart form with text fields only
            request = httpx.Request("POST", BASE + path, data=fields, files={"note": (None, b"-")})
        request.read()
        return self.call("POST", path, headers={"content-type": request.headers["content-type"]}, body=request.content)

    def initiated(self) -> dict[str, Any]:
        body = {"file_name": "big.jsonl", "file_size": 10, "num_parts": 2, "purpose": "eval"}
        reply = self.call("POST", "/v1/files/multipart/initiate", json_body=body)
        assert reply.status == 200, reply.body
        return reply.json()  # type: ignore[no-any-return]

    def parts_sent(self) -> dict[str, Any]:
        upload = self.initiated()
        etags = []
        for part, chunk in zip(upload["parts"], (b'{"prompt": "a"}\n', b'{"prompt": "b"}\n'), strict=True):
            put = self.call("PUT", part["URL"].removeprefix(BASE), body=chunk, key=None)
            etags.append({"part_number": part["PartNumber"], "etag": put.headers["etag"]})
        return {"upload_id": upload["upload_id"], "file_id": upload["file_id"], "parts": etags}

    def expired_parts(self) -> dict[str, Any]:
        """A multipart upload's complete body, once its upload has expired."""
        sent = self.parts_sent()
        self.api.advance(86_400)  # a day: past any upload URL's lifetime
        return sent

    def scenario_rule(self) -> str:
        return self.control("POST", "scenarios", {"times": 1}).json()["id"]  # type: ignore[no-any-return]

    def fault_rule(self) -> str:
        rule = {"match": {"route": "whoami"}, "action": {"kind": "error", "status": 503}}
        return self.control("POST", "faults", rule).json()["id"]  # type: ignore[no-any-return]


@dataclass
class Case:
    route: str
    status: int
    send: Callable[[World], Reply]
    config: dict[str, Any] = field(default_factory=dict)
    name: str = ""


def case(route: str, status: int, send: Callable[[World], Reply], name: str = "", **config: Any) -> Case:
    return Case(route, status, send, config, name)


def admin_only(route: str, method: str, path: str, body: Any = None) -> Case:
    """The 401 of a control route on an emulator with an admin token, asked without it."""
    return case(route, 401, lambda w: w.control(method, path, body), "no-admin-token", admin_token=ADMIN)


def no_key(route: str, method: str, path: str, body: Any = None) -> Case:
    return case(route, 401, lambda w: w.call(method, path, json_body=body, key=None), "no-api-key")


CLASSIFY = {"type": "classify", "parameters": {}}
RECORDING = {
    "name": "failed-later",
    "job": {
        "type": "classify",
        "status_updates": [
            {
                "status": "pending",
                "message": "Job created and pending for processing",
                "timestamp": "2026-01-01T00:00:00Z",
            },
            {"status": "user_error", "message": "Job status updated", "timestamp": "2026-01-01T00:00:09.5Z"},
        ],
        "results": {"error": "Column answer is empty"},
    },
}
MISSING = "eval-0000-0"


def too_large(route: Route) -> Case:
    """The 413 every route declares: a body one byte over its limit (set small here)."""
    path = re.sub(r"\{(\w+)(:int)?\}", lambda m: "1" if m.group(2) else "x", route.path)
    return case(
        route.name,
        413,
        lambda w: w.call(route.method, path, body=b"x" * 65),
        "body-too-large",
        max_body_bytes=64,
        max_upload_bytes=64,
    )


CASES: list[Case] = [
    # evaluations
    case("evaluation.create", 200, lambda w: w.api.create("classify", classify_params(w.file())), "real"),
    case(
        "evaluation.create",
        200,
        lambda w: w.call(
            "POST",
            "/v1/evaluation",
            json_body={
                "model": "m",
                "evaluation_type": "compare",
                "dataset": DATASET,
                "parameters": {"baseline_model": "b", "temperature": 0.5},
            },
        ),
        "documented",
    ),
    case("evaluation.create", 400, lambda w: w.call("POST", "/v1/evaluation", json_body=CLASSIFY), "no-params"),
    case(
        "evaluation.create",
        400,
        lambda w: w.call(
            "POST", "/v1/evaluation", json_body={"model": "m", "evaluation_type": "classify", "dataset": "nope"}
        ),
        "documented-unknown-dataset",
    ),
    no_key("evaluation.create", "POST", "/v1/evaluation", CLASSIFY),
    *[
        item
        for path, route in (("/v1/evaluation", "evaluation.list"), ("/v1/evaluations", "evaluations.list"))
        for item in (
            case(route, 200, lambda w, p=path: (w.job(), w.documented_job(), w.call("GET", p))[-1], "jobs"),
            case(route, 200, lambda w, p=path: w.call("GET", p, query={"limit": 1, "status": "pending"}), "filters"),
            case(route, 400, lambda w, p=path: w.call("GET", p, query={"limit": 0}), "limit-zero"),
            case(route, 400, lambda w, p=path: w.call("GET", p, query={"limit": "ten"}), "limit-text"),
            no_key(route, "GET", path),
        )
    ],
    *[
        item
        for path, route in (
            ("/v1/evaluation/model-list", "evaluation.model_list"),
            ("/v1/evaluations/model-list", "evaluations.model_list"),
        )
        for item in (
            case(route, 200, lambda w, p=path: w.call("GET", p), "all"),
            case(route, 200, lambda w, p=path: w.call("GET", p, query={"model_source": "dedicated"}), "dedicated"),
            no_key(route, "GET", path),
        )
    ],
    case("evaluation.retrieve", 200, lambda w: w.call("GET", f"/v1/evaluation/{w.job()}"), "real"),
    case("evaluation.retrieve", 200, lambda w: w.call("GET", f"/v1/evaluation/{w.finished_job()}"), "completed"),
    case("evaluation.retrieve", 200, lambda w: w.call("GET", f"/v1/evaluation/{w.documented_job()}"), "documented"),
    case("evaluation.retrieve", 404, lambda w: w.call("GET", f"/v1/evaluation/{MISSING}")),
    no_key("evaluation.retrieve", "GET", f"/v1/evaluation/{MISSING}"),
    case("evaluation.status", 200, lambda w: w.call("GET", f"/v1/evaluation/{w.finished_job()}/status"), "real"),
    case(
        "evaluation.status",
        200,
        lambda w: w.call("GET", f"/v1/evaluation/{w.documented_job()}/status"),
        "documented",
    ),
    case("evaluation.status", 404, lambda w: w.call("GET", f"/v1/evaluation/{MISSING}/status")),
    no_key("evaluation.status", "GET", f"/v1/evaluation/{MISSING}/status"),
    case(
        "evaluation.update",
        200,
        lambda w: w.call("POST", f"/v1/evaluation/{w.job()}/update", json_body={"status": "running"}),
    ),
    case(
        "evaluation.update",
        400,
        lambda w: w.call("POST", f"/v1/evaluation/{w.job()}/update", json_body={"status": "failed"}),
        "unknown-status",
    ),
    case(
        "evaluation.update",
        404,
        lambda w: w.call("POST", f"/v1/evaluation/{MISSING}/update", json_body={"status": "running"}),
    ),
    no_key("evaluation.update", "POST", f"/v1/evaluation/{MISSING}/update", {"status": "running"}),
    # files
    case("files.upload", 302, lambda w: w.form("/v1/files", {"purpose": "eval", "file_name": "d.jsonl"}), "form"),
    case(
        "files.upload",
        302,
        lambda w: w.multipart("/v1/files", {"purpose": "eval", "file_name": "d.jsonl"}, None),
        "multipart-fields",
    ),
    case(
        "files.upload",
        200,
        lambda w: w.multipart("/v1/files", {"purpose": "eval", "file_name": "d.jsonl"}, b'{"a": 1}\n'),
        "multipart-with-bytes",
    ),
    case("files.upload", 400, lambda w: w.form("/v1/files", {"file_name": "d.jsonl"}), "no-purpose"),
    no_key("files.upload", "POST", "/v1/files"),
    case("files.direct_upload", 200, lambda w: w.multipart("/v1/files/upload", {"purpose": "eval"}, b'{"a": 1}\n')),
    case("files.direct_upload", 400, lambda w: w.multipart("/v1/files/upload", {"purpose": "eval"}, None), "no-file"),
    no_key("files.direct_upload", "POST", "/v1/files/upload"),
    case(
        "files.multipart.initiate",
        200,
        lambda w: w.call(
            "POST",
            "/v1/files/multipart/initiate",
            json_body={"file_name": "big.jsonl", "file_size": 10, "num_parts": 3, "purpose": "eval"},
        ),
    ),
    case(
        "files.multipart.initiate",
        400,
        lambda w: w.call(
            "POST",
            "/v1/files/multipart/initiate",
            json_body={"file_name": "big.jsonl", "file_size": 10, "num_parts": 0, "purpose": "eval"},
        ),
        "no-parts",
    ),
    no_key("files.multipart.initiate", "POST", "/v1/files/multipart/initiate", {}),
    case(
        "files.multipart.complete",
        200,
        lambda w: w.call("POST", "/v1/files/multipart/complete", json_body=w.parts_sent()),
    ),
    case(
        "files.multipart.complete",
        400,
        lambda w: w.call(
            "POST",
            "/v1/files/multipart/complete",
            json_body={**(s := w.parts_sent()), "parts": [*s["parts"], {"part_number": 9, "etag": "x"}]},
        ),
        "part-never-sent",
    ),
    case(
        "files.multipart.complete",
        403,
        lambda w: w.call("POST", "/v1/files/multipart/complete", json_body=w.expired_parts()),
        "expired",
    ),
    case(
        "files.multipart.complete",
        404,
        lambda w: w.call(
            "POST", "/v1/files/multipart/complete", json_body={"upload_id": "u", "file_id": "f", "parts": []}
        ),
    ),
    no_key("files.multipart.complete", "POST", "/v1/files/multipart/complete", {}),
    case(
        "files.multipart.abort",
        200,
        lambda w: w.call(
            "POST",
            "/v1/files/multipart/abort",
            json_body={"upload_id": (u := w.initiated())["upload_id"], "file_id": u["file_id"]},
        ),
    ),
    case("files.multipart.abort", 400, lambda w: w.call("POST", "/v1/files/multipart/abort"), "empty-body"),
    case(
        "files.multipart.abort",
        404,
        lambda w: w.call("POST", "/v1/files/multipart/abort", json_body={"upload_id": "u", "file_id": "f"}),
    ),
    no_key("files.multipart.abort", "POST", "/v1/files/multipart/abort", {}),
    case("files.list", 200, lambda w: (w.file(), w.call("GET", "/v1/files"))[1]),
    no_key("files.list", "GET", "/v1/files"),
    case("files.retrieve", 200, lambda w: w.call("GET", f"/v1/files/{w.file()}"), "own"),
    case("files.retrieve", 200, lambda w: w.call("GET", f"/v1/files/{DATASET}"), "built-in"),
    case("files.retrieve", 404, lambda w: w.call("GET", "/v1/files/file-missing")),
    no_key("files.retrieve", "GET", "/v1/files/file-missing"),
    case("files.delete", 200, lambda w: w.call("DELETE", f"/v1/files/{w.file()}")),
    case("files.delete", 403, lambda w: w.call("DELETE", f"/v1/files/{DATASET}"), "built-in"),
    case("files.delete", 404, lambda w: w.call("DELETE", "/v1/files/file-missing")),
    no_key("files.delete", "DELETE", "/v1/files/file-missing"),
    case("files.content", 200, lambda w: w.call("GET", f"/v1/files/{w.file()}/content"), "own"),
    case(
        "files.content",
        200,
        lambda w: w.call("GET", f"/v1/files/{w.api.status(w.finished_job())['results']['result_file_id']}/content"),
        "result-file",
    ),
    case("files.content", 404, lambda w: w.call("GET", "/v1/files/file-missing/content")),
    no_key("files.content", "GET", "/v1/files/file-missing/content"),
    case("files.preprocess", 200, lambda w: w.call("POST", f"/v1/files/{w.file()}/preprocess")),
    case("files.preprocess", 400, lambda w: w.call("POST", f"/v1/files/{w.pending_file()}/preprocess"), "no-bytes"),
    case("files.preprocess", 404, lambda w: w.call("POST", "/v1/files/file-missing/preprocess")),
    no_key("files.preprocess", "POST", "/v1/files/file-missing/preprocess"),
    case("whoami", 200, lambda w: w.call("GET", "/v3/whoami")),
    no_key("whoami", "GET", "/v3/whoami"),
    # upload URLs
    case("upload.put", 200, lambda w: w.call("PUT", w.upload_url(), body=b'{"a": 1}\n', key=None)),
    case("upload.put", 403, lambda w: w.call("PUT", w.used_upload_url(), body=b"x", key=None), "used"),
    case("upload.put", 404, lambda w: w.call("PUT", "/_emulator/uploads/nope", body=b"x", key=None)),
    case(
        "upload.put_part",
        200,
        lambda w: w.call("PUT", w.initiated()["parts"][0]["URL"].removeprefix(BASE), body=b"x", key=None),
    ),
    case(
        "upload.put_part",
        403,
        lambda w: w.call("PUT", w.initiated()["parts"][0]["URL"].removeprefix(BASE), body=b"x", key="key-b"),
        "other-key",
    ),
    case("upload.put_part", 404, lambda w: w.call("PUT", "/_emulator/uploads/nope/parts/1", body=b"x", key=None)),
    # control plane
    case("control.health", 200, lambda w: w.control("GET", "health"), admin_token=ADMIN),
    case("control.reset", 200, lambda w: w.control("POST", "reset")),
    case(
        "control.reset",
        200,
        lambda w: w.control("POST", "reset", headers={"x-emulator-token": ADMIN}),
        "admin-token",
        admin_token=ADMIN,
    ),
    admin_only("control.reset", "POST", "reset"),
    case("control.reset.journal", 200, lambda w: w.control("POST", "reset/journal")),
    admin_only("control.reset.journal", "POST", "reset/journal"),
    case("control.requests", 200, lambda w: (w.job(), w.control("GET", "requests"))[1], "all"),
    case(
        "control.requests",
        200,
        lambda w: (w.job(), w.control("GET", "requests", query={"route": "evaluation.create", "status_code": 200}))[1],
        "filtered",
    ),
    case("control.requests", 400, lambda w: w.control("GET", "requests", query={"route": "nope"})),
    admin_only("control.requests", "GET", "requests"),
    case("control.seed.get", 200, lambda w: w.control("GET", "seed")),
    admin_only("control.seed.get", "GET", "seed"),
    case("control.seed", 200, lambda w: w.control("POST", "seed", {"seed": 7})),
    case("control.seed", 400, lambda w: w.control("POST", "seed", {"seed": "7"})),
    admin_only("control.seed", "POST", "seed", {"seed": 7}),
    case("control.clock", 200, lambda w: w.control("GET", "clock")),
    admin_only("control.clock", "GET", "clock"),
    case("control.clock.advance", 200, lambda w: w.control("POST", "clock/advance", {"seconds": 5})),
    case("control.clock.advance", 400, lambda w: w.control("POST", "clock/advance", {"seconds": -5})),
    admin_only("control.clock.advance", "POST", "clock/advance", {"seconds": 5}),
    case("control.clock.set", 200, lambda w: w.control("POST", "clock/set", {"now": "2030-01-01T00:00:00Z"})),
    case("control.clock.set", 400, lambda w: w.control("POST", "clock/set", {"now": "yesterday"})),
    admin_only("control.clock.set", "POST", "clock/set", {"now": 0}),
    case("control.clock.freeze", 200, lambda w: w.control("POST", "clock/freeze")),
    admin_only("control.clock.freeze", "POST", "clock/freeze"),
    case("control.clock.run", 200, lambda w: w.control("POST", "clock/run"), "no-body"),
    case("control.clock.run", 200, lambda w: w.control("POST", "clock/run", {"time_scale": 2}), "scaled"),
    case("control.clock.run", 400, lambda w: w.control("POST", "clock/run", {"time_scale": 0})),
    admin_only("control.clock.run", "POST", "clock/run"),
    case("control.clock.scale", 200, lambda w: w.control("POST", "clock/scale", {"time_scale": 10})),
    case("control.clock.scale", 400, lambda w: w.control("POST", "clock/scale", {})),
    admin_only("control.clock.scale", "POST", "clock/scale", {"time_scale": 10}),
    case("control.scenarios", 200, lambda w: (w.scenario_rule(), w.control("GET", "scenarios"))[1]),
    admin_only("control.scenarios", "GET", "scenarios"),
    case(
        "control.scenarios.add",
        201,
        lambda w: w.control(
            "POST", "scenarios", {"match": {"type": "score"}, "outcome": {"kind": "error", "at": "queued"}}
        ),
    ),
    case("control.scenarios.add", 400, lambda w: w.control("POST", "scenarios", {"times": 0})),
    admin_only("control.scenarios.add", "POST", "scenarios", {}),
    case("control.scenarios.clear", 200, lambda w: (w.scenario_rule(), w.control("DELETE", "scenarios"))[1]),
    admin_only("control.scenarios.clear", "DELETE", "scenarios"),
    case(
        "control.scenarios.default",
        200,
        lambda w: w.control("PUT", "scenarios/default", {"progression": {"mode": "immediate"}}),
    ),
    case("control.scenarios.default", 400, lambda w: w.control("PUT", "scenarios/default", {"bogus": 1})),
    admin_only("control.scenarios.default", "PUT", "scenarios/default", {}),
    case("control.scenarios.default.clear", 200, lambda w: w.control("DELETE", "scenarios/default")),
    admin_only("control.scenarios.default.clear", "DELETE", "scenarios/default"),
    case(
        "control.scenarios.type",
        200,
        lambda w: w.control("PUT", "scenarios/types/score", {"outcome": {"score_mean": 3}}),
    ),
    case("control.scenarios.type", 400, lambda w: w.control("PUT", "scenarios/types/rank", {}), "unknown-type"),
    admin_only("control.scenarios.type", "PUT", "scenarios/types/score", {}),
    case("control.scenarios.type.clear", 200, lambda w: w.control("DELETE", "scenarios/types/classify")),
    case("control.scenarios.type.clear", 400, lambda w: w.control("DELETE", "scenarios/types/rank")),
    admin_only("control.scenarios.type.clear", "DELETE", "scenarios/types/classify"),
    case("control.scenarios.remove", 200, lambda w: w.control("DELETE", f"scenarios/{w.scenario_rule()}")),
    case("control.scenarios.remove", 404, lambda w: w.control("DELETE", "scenarios/scn-99")),
    admin_only("control.scenarios.remove", "DELETE", "scenarios/scn-1"),
    case("control.faults", 200, lambda w: (w.fault_rule(), w.control("GET", "faults"))[1]),
    admin_only("control.faults", "GET", "faults"),
    case(
        "control.faults.add",
        201,
        lambda w: w.control(
            "POST", "faults", {"match": {"route": "files.*"}, "action": {"kind": "latency", "seconds": 1}}
        ),
    ),
    case("control.faults.add", 400, lambda w: w.control("POST", "faults", {"action": {"kind": "error"}})),
    admin_only("control.faults.add", "POST", "faults", {}),
    case(
        "control.faults.replace",
        200,
        lambda w: w.control("PUT", "faults", [{"match": {"route": "whoami"}, "times": 2}]),
    ),
    case("control.faults.replace", 400, lambda w: w.control("PUT", "faults", {"rules": []}), "not-an-array"),
    admin_only("control.faults.replace", "PUT", "faults", []),
    case("control.faults.clear", 200, lambda w: (w.fault_rule(), w.control("DELETE", "faults"))[1]),
    admin_only("control.faults.clear", "DELETE", "faults"),
    case("control.faults.remove", 200, lambda w: w.control("DELETE", f"faults/{w.fault_rule()}")),
    case("control.faults.remove", 404, lambda w: w.control("DELETE", "faults/fault-99")),
    admin_only("control.faults.remove", "DELETE", "faults/fault-1"),
    case("control.jobs", 200, lambda w: (w.job(), w.documented_job(), w.control("GET", "jobs"))[-1]),
    admin_only("control.jobs", "GET", "jobs"),
    case("control.jobs.get", 200, lambda w: w.control("GET", f"jobs/{w.finished_job()}")),
    case("control.jobs.get", 404, lambda w: w.control("GET", f"jobs/{MISSING}")),
    admin_only("control.jobs.get", "GET", f"jobs/{MISSING}"),
    case("control.jobs.advance", 200, lambda w: w.control("POST", f"jobs/{w.job()}/advance"), "no-body"),
    case("control.jobs.advance", 200, lambda w: w.control("POST", f"jobs/{w.job()}/advance", {"steps": 2}), "steps"),
    case("control.jobs.advance", 400, lambda w: w.control("POST", f"jobs/{w.job()}/advance", {"steps": 0})),
    case("control.jobs.advance", 404, lambda w: w.control("POST", f"jobs/{MISSING}/advance")),
    case("control.jobs.advance", 409, lambda w: w.control("POST", f"jobs/{w.finished_job()}/advance")),
    admin_only("control.jobs.advance", "POST", f"jobs/{MISSING}/advance"),
    case(
        "control.jobs.status",
        200,
        lambda w: w.control("POST", f"jobs/{w.job()}/status", {"status": "error", "message": "boom"}),
    ),
    case(
        "control.jobs.status",
        400,
        lambda w: w.control("POST", f"jobs/{w.job()}/status", {"status": "completed", "message": "boom"}),
    ),
    case("control.jobs.status", 404, lambda w: w.control("POST", f"jobs/{MISSING}/status", {"status": "running"})),
    admin_only("control.jobs.status", "POST", f"jobs/{MISSING}/status", {"status": "running"}),
    case(
        "control.jobs.scenario",
        200,
        lambda w: w.control("PUT", f"jobs/{w.job()}/scenario", {"outcome": {"kind": "stall"}}),
    ),
    case("control.jobs.scenario", 400, lambda w: w.control("PUT", f"jobs/{w.job()}/scenario", {"outcome": 1})),
    case("control.jobs.scenario", 404, lambda w: w.control("PUT", f"jobs/{MISSING}/scenario", {})),
    case("control.jobs.scenario", 409, lambda w: w.control("PUT", f"jobs/{w.finished_job()}/scenario", {})),
    admin_only("control.jobs.scenario", "PUT", f"jobs/{MISSING}/scenario", {}),
    case("control.jobs.get", 200, lambda w: w.control("GET", f"jobs/{w.queued_job()}"), "queued", max_running=1),
    case("control.jobs.get", 200, lambda w: w.control("GET", f"jobs/{w.replayed_job()}"), "replayed"),
    case("control.queue.capacity", 200, lambda w: w.control("GET", "capacity"), max_running_per_tenant=2),
    admin_only("control.queue.capacity", "GET", "capacity"),
    case("control.queue.capacity.set", 200, lambda w: w.control("PUT", "capacity", {"per_tenant": 3, "total": None})),
    case("control.queue.capacity.set", 200, lambda w: w.control("PUT", "capacity", {}), "unlimited"),
    case("control.queue.capacity.set", 400, lambda w: w.control("PUT", "capacity", {"total": 0})),
    admin_only("control.queue.capacity.set", "PUT", "capacity", {}),
    case("control.queue", 200, lambda w: (w.queued_job(), w.control("GET", "queue"))[-1], max_running=1),
    case("control.queue", 200, lambda w: (w.job(), w.control("GET", "queue"))[-1], "unlimited"),
    admin_only("control.queue", "GET", "queue"),
    case(
        "control.recordings",
        200,
        lambda w: (w.control("POST", "recordings", RECORDING), w.control("GET", "recordings"))[1],
    ),
    admin_only("control.recordings", "GET", "recordings"),
    case("control.recordings.add", 201, lambda w: w.control("POST", "recordings", RECORDING)),
    case("control.recordings.add", 400, lambda w: w.control("POST", "recordings", {**RECORDING, "job": {"type": "x"}})),
    case(
        "control.recordings.add",
        409,
        lambda w: (w.control("POST", "recordings", RECORDING), w.control("POST", "recordings", RECORDING))[1],
    ),
    admin_only("control.recordings.add", "POST", "recordings", RECORDING),
    case("control.recordings.get", 200, lambda w: w.control("GET", "recordings/example-compare-docs")),
    case("control.recordings.get", 404, lambda w: w.control("GET", "recordings/nothing-here")),
    admin_only("control.recordings.get", "GET", "recordings/example-compare-docs"),
    case("control.jobs.polling", 200, lambda w: w.control("GET", f"jobs/{w.polled_job()}/polling"), "defaults"),
    case(
        "control.jobs.polling",
        200,
        lambda w: w.control(
            "GET",
            f"jobs/{w.polled_job()}/polling",
            query={"min_interval": 0.5, "stops_after_terminal": "false", "list_watches": 2, "wall_clock": "true"},
        ),
        "thresholds",
    ),
    case(
        "control.jobs.polling", 400, lambda w: w.control("GET", f"jobs/{w.job()}/polling", query={"min_interval": -1})
    ),
    case("control.jobs.polling", 404, lambda w: w.control("GET", f"jobs/{MISSING}/polling")),
    admin_only("control.jobs.polling", "GET", f"jobs/{MISSING}/polling"),
    case("control.polling", 200, lambda w: (w.polled_job(), w.documented_job(), w.control("GET", "polling"))[-1]),
    case(
        "control.polling",
        200,
        lambda w: (w.polled_job(), w.control("GET", "polling", query={"tenant": KEY, "verdict": "bad"}))[1],
        "filtered",
    ),
    case("control.polling", 400, lambda w: w.control("GET", "polling", query={"verdict": "great"})),
    admin_only("control.polling", "GET", "polling"),
    case("control.paths", 200, lambda w: w.control("GET", "paths"), "all"),
    case(
        "control.paths",
        200,
        lambda w: w.control(
            "GET",
            "paths",
            query={
                "terminal": "error,stall",
                "at": "queued",
                "max_preemptions": 1,
                "progression": "after_polls",
                "max_polls": 2,
                "type": "score",
            },
        ),
        "filtered",
    ),
    case("control.paths", 400, lambda w: w.control("GET", "paths", query={"max_preemptions": 9})),
    admin_only("control.paths", "GET", "paths"),
    case("control.paths.attach", 201, lambda w: w.control("PUT", "paths/pending.queued.error"), "no-body"),
    case(
        "control.paths.attach",
        201,
        lambda w: w.control("PUT", "paths/pending.queued.stall@2", {"type": "classify", "times": 2}),
        "type-and-times",
    ),
    case("control.paths.attach", 400, lambda w: w.control("PUT", "paths/pending.queued.error", {"times": 0})),
    case("control.paths.attach", 404, lambda w: w.control("PUT", "paths/pending.done")),
    admin_only("control.paths.attach", "PUT", "paths/pending.queued.error"),
    case("control.state", 200, lambda w: (w.finished_job(), w.documented_job(), w.control("GET", "state"))[-1]),
    case(
        "control.state",
        200,
        lambda w: (
            w.control("POST", f"jobs/{w.queued_job()}/status", {"status": "running"}),
            w.control("GET", "state"),
        )[-1],
        "capacity",
        max_running=1,
    ),
    admin_only("control.state", "GET", "state"),
    case(
        "control.state.import",
        200,
        lambda w: (w.finished_job(), w.control("PUT", "state", w.control("GET", "state").json()))[1],
    ),
    case("control.state.import", 400, lambda w: w.control("PUT", "state", {"seed": 1})),
    admin_only("control.state.import", "PUT", "state", {}),
    # the document
    case("openapi", 200, lambda w: w.call("GET", "/openapi.json", key=None), admin_token=ADMIN),
    *[too_large(route) for route in ROUTES.values()],
]


def case_id(item: Case) -> str:
    return "-".join(filter(None, [item.route, str(item.status), item.name]))


def _query_value(value: str, kind: str | None) -> Any:
    """A query parameter's text as the JSON value its schema describes."""
    if kind == "integer":
        return int(value)
    if kind == "number":
        return float(value)
    if kind == "boolean":
        return {"true": True, "false": False}.get(value, value)
    return value


def _request_schema_accepts(document: dict[str, Any], route: Route, request: ApiRequest) -> None:
    """A request the route answered with success is one the document allows: its JSON body and
    its query parameters validate against the declared schemas."""
    op = operation(document, route)
    content = op.get("requestBody", {}).get("content", {})
    if request.body.strip() and "application/json" in content:
        validator(document, content["application/json"]["schema"]).validate(json.loads(request.body))
    declared = {p["name"]: p["schema"] for p in op.get("parameters", []) if p["in"] == "query"}
    for name, value in request.query.items():
        assert name in declared, name
        schema = declared[name]
        validator(document, schema).validate(_query_value(value, schema.get("type")))


@pytest.mark.parametrize("item", CASES, ids=case_id)
def test_every_answer_is_declared_and_matches_its_schema(item: Case, document: dict[str, Any]) -> None:
    world = World(**item.config)
    reply = item.send(world)
    route = ROUTES[item.route]
    assert resolve(world.emulator.routes, world.face.last)[0] is route  # the request reached the route meant
    assert reply.status == item.status, reply.body
    responses = operation(document, route)["responses"]
    assert str(reply.status) in responses, f"{item.route} answered {reply.status}, not declared"
    declared = responses[str(reply.status)]
    for header in declared.get("headers", {}):
        assert header in reply.headers, header
    if "content" not in declared:
        assert reply.body == b"" and "content-type" not in reply.headers
        return
    [(media_type, body)] = declared["content"].items()
    assert reply.headers["content-type"] == media_type
    if media_type == "application/json":
        validator(document, body["schema"]).validate(reply.json())
    if reply.status < 400:
        _request_schema_accepts(document, route, world.face.last)


def test_every_declared_status_is_exercised(document: dict[str, Any]) -> None:
    """Nothing is declared that never happens: each (route, status) of the document has a case above."""
    exercised = {(item.route, item.status) for item in CASES}
    for route in ROUTES.values():
        declared = {(route.name, int(status)) for status in operation(document, route)["responses"]}
        assert declared == {pair for pair in exercised if pair[0] == route.name}, route.name


# ---------------------------------------------------------------- limits: the schema and the server agree

GENERATOR = {"model": "m", "model_source": "serverless", "system_template": "s", "input_template": "{{prompt}}"}


def create_body(world: World) -> dict[str, Any]:
    return {"type": "classify", "parameters": classify_params(world.file(), model_to_evaluate=dict(GENERATOR))}


def token_body(world: World) -> dict[str, Any]:
    body = create_body(world)
    body["parameters"]["judge"] = {**body["parameters"]["judge"], "external_api_token": "sk-test"}
    return body


def documented_body(world: World) -> dict[str, Any]:
    return {"model": "m", "evaluation_type": "score", "dataset": DATASET, "parameters": {}}


def initiate_body(world: World) -> dict[str, Any]:
    return {"file_name": "big.jsonl", "file_size": 10, "num_parts": 1, "purpose": "eval"}


def fault_body(world: World) -> dict[str, Any]:
    return {"action": {"kind": "error", "status": 503}}


@dataclass
class Limit:
    route: str
    base: Callable[[World], dict[str, Any]]
    path: str  # dotted path of the value to set in the base body
    value: Any
    accepted: bool


LIMITS = [
    *[
        Limit("evaluation.create", create_body, path, value, accepted)
        for path, value, accepted in [
            ("type", "rank", False),
            ("parameters.labels", ["good"], False),
            ("parameters.labels", ["good", "bad"], True),
            ("parameters.pass_labels", [], False),
            ("parameters.judge.temperature", -0.5, False),
            ("parameters.judge.temperature", 0, True),
            ("parameters.judge.temperature", 2, True),
            ("parameters.judge.temperature", 2.5, False),
            ("parameters.judge.temperature", True, False),
            ("parameters.judge.max_tokens", 0, False),
            ("parameters.judge.max_tokens", 1, True),
            ("parameters.judge.max_tokens", None, True),  # null means absent
            ("parameters.judge.num_workers", 0, False),
            ("parameters.judge.num_workers", 1, True),
            ("parameters.judge.model_source", "cloud", False),
            ("parameters.judge.model_source", "external", False),  # without an external_api_token
            ("parameters.model_to_evaluate.temperature", 3, False),
            ("parameters.model_to_evaluate.max_tokens", 0, False),
            ("parameters.model_to_evaluate.max_tokens", 5, True),
        ]
    ],
    Limit("evaluation.create", token_body, "parameters.judge.model_source", "external", True),
    *[
        Limit("evaluation.create", documented_body, path, value, accepted)
        for path, value, accepted in [
            ("evaluation_type", "custom", False),
            ("dataset", "my-dataset", False),
            ("model", " ", False),
            ("parameters.temperature", 2, True),
            ("parameters.temperature", 2.5, False),
            ("parameters.max_tokens", 0, False),
        ]
    ],
    *[
        Limit("files.multipart.initiate", initiate_body, "num_parts", value, accepted)
        for value, accepted in [(0, False), (1, True), (10_000, True), (10_001, False)]
    ],
    *[
        Limit("control.faults.add", fault_body, "action.status", value, accepted)
        for value, accepted in [(399, False), (400, True), (599, True), (600, False)]
    ],
]


def _set(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *parents, last = path.split(".")
    node = body
    for name in parents:
        node = node[name]
    node[last] = value
    return body


@pytest.mark.parametrize("limit", LIMITS, ids=lambda limit: f"{limit.route}-{limit.path}={limit.value!r}")
def test_schema_and_server_agree_on_limits(limit: Limit, document: dict[str, Any]) -> None:
    """A value the schema rejects is a 400, and a value it accepts is not (nor the other way round)."""
    world = World()
    body = _set(copy.deepcopy(limit.base(world)), limit.path, limit.value)  # the base may share dicts
    route = ROUTES[limit.route]
    path = route.path.replace("/_emulator/", "")
    reply = (
        world.control(route.method, path, body)
        if route.auth == "admin"
        else world.call(route.method, route.path, json_body=body)
    )
    schema = operation(document, route)["requestBody"]["content"]["application/json"]["schema"]
    assert (reply.status != 400) is limit.accepted, reply.body
    assert validator(document, schema).is_valid(body) is limit.accepted
