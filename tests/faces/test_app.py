"""The Starlette face: same answers as the core, plus /openapi.json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from together_eval_emulator import Emulator
from together_eval_emulator.faces._server import EmulatorServer

from tests.support import JUDGE, jsonl, qa_rows

AUTH = {"Authorization": "Bearer key-a"}


@contextmanager
def served(emulator: Emulator) -> Iterator[httpx.Client]:
    server = EmulatorServer(emulator).start()
    try:
        with httpx.Client(base_url=server.url) as client:
            yield client
    finally:
        server.stop()


def test_full_flow_over_http_with_content_length_on_downloads() -> None:
    emulator = Emulator(clock="manual")
    with served(emulator) as http:
        flow(emulator, http)


def flow(emulator: Emulator, http: httpx.Client) -> None:
    step1 = http.post(
        "/v1/files",
        data={"purpose": "eval", "file_name": "d.jsonl", "file_type": "jsonl"},
        headers=AUTH,
        follow_redirects=False,
    )
    assert step1.status_code == 302
    assert step1.headers["location"].startswith(str(http.base_url).rstrip("/") + "/_emulator/uploads/")
    content = jsonl(qa_rows(5)).encode()
    assert http.put(step1.headers["location"], content=content).status_code == 200
    file_id = step1.headers["x-together-file-id"]
    assert http.post(f"/v1/files/{file_id}/preprocess", headers=AUTH).json()["bytes"] == len(content)
    created = http.post(
        "/v1/evaluation",
        headers=AUTH,
        json={
            "type": "classify",
            "parameters": {
                "input_data_file_path": file_id,
                "judge": JUDGE,
                "labels": ["good", "bad"],
                "pass_labels": ["good"],
                "model_to_evaluate": "response",
            },
        },
    )
    assert created.status_code == 200 and created.headers["content-type"] == "application/json"
    emulator.advance(60)
    status = http.get(f"/v1/evaluation/{created.json()['workflow_id']}/status", headers=AUTH).json()
    download = http.get(f"/v1/files/{status['results']['result_file_id']}/content", headers=AUTH)
    assert download.headers["content-length"] == str(len(download.content))
    assert len(download.content.splitlines()) == 5


def test_errors_are_json_never_html() -> None:
    with served(Emulator(clock="manual")) as http:
        for response in (
            http.get("/nope"),
            http.get("/v1/evaluation"),
            http.post("/v1/evaluation", headers=AUTH, content=b"\xff"),
        ):
            assert response.headers["content-type"] == "application/json"
            assert set(response.json()["error"]) == {"message", "type", "param", "code"}


def test_openapi_document_lists_every_route_and_schema() -> None:
    emulator = Emulator(clock="manual")
    with served(emulator) as http:
        document = http.get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    for route in [route for route in emulator.routes if route.openapi]:  # not the dashboard's HTML pages
        path = route.path.replace(":int}", "}")
        assert route.method.lower() in document["paths"][path], path
    schemas = document["components"]["schemas"]
    for name in (
        "EvaluationJob",
        "EvaluationCreateRequest",
        "FileObject",
        "ErrorBody",
        "ClassifyParameters",
        "FaultRule",
        "ScenarioEntry",
        "Snapshot",
    ):
        assert name in schemas
    add_fault = document["paths"]["/_emulator/faults"]["post"]["requestBody"]["content"]["application/json"]
    assert add_fault["schema"] == {"$ref": "#/components/schemas/FaultRule"}
    replace = document["paths"]["/_emulator/faults"]["put"]["requestBody"]["content"]["application/json"]
    assert replace["schema"] == {"type": "array", "items": {"$ref": "#/components/schemas/FaultRule"}}
    json.dumps(document)
