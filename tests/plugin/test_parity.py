"""One scripted session through the respx router and through the live server: every response,
ids and timestamps included, must be byte-identical (same seed, same frozen clock), but for the
upload URLs' tokens, which are random by design."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
from plugin_support import EVAL_CASES
from together_eval_emulator.faces._controller import EmulatorController
from together_eval_emulator.faces._mock import EmulatorMock
from together_eval_emulator.http._routing import Route

from tests.support import without_tokens

KEY = {"authorization": "Bearer parity-key"}
IGNORED_HEADERS = {"date", "server"}  # added by uvicorn, not by the emulator


def dataset(eval_type: str) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in EVAL_CASES[eval_type][0]).encode()


def scripted_session(client: httpx.Client, routes: list[Route]) -> Iterator[httpx.Response]:
    """Every route of the table, on the happy path and on the error paths."""
    get, post = client.get, client.post
    yield get("/_emulator/health")
    yield get("/openapi.json")
    yield get("/v3/whoami", headers=KEY)
    yield get("/v1/evaluation")  # 401
    file_ids = {}
    for eval_type in EVAL_CASES:
        step1 = post(
            "/v1/files", headers=KEY, data={"purpose": "eval", "file_name": f"{eval_type}.jsonl", "file_type": "jsonl"}
        )
        yield step1
        yield client.put(step1.headers["location"], content=dataset(eval_type))
        file_ids[eval_type] = step1.headers["x-together-file-id"]
        yield post(f"/v1/files/{file_ids[eval_type]}/preprocess", headers=KEY)
    fixed_boundary = {**KEY, "content-type": "multipart/form-data; boundary=parity"}  # the journal shows bodies
    yield post(
        "/v1/files/upload",
        headers=fixed_boundary,
        data={"purpose": "eval"},
        files={"file": ("direct.jsonl", dataset("score"), "application/jsonl")},
    )
    for finish in ("complete", "abort"):
        initiated = post(
            "/v1/files/multipart/initiate",
            headers=KEY,
            json={"file_name": "big.jsonl", "file_size": len(dataset("classify")), "num_parts": 2, "purpose": "eval"},
        )
        yield initiated
        body = initiated.json()
        etags = []
        for part, chunk in zip(body["parts"], (dataset("classify")[:50], dataset("classify")[50:]), strict=False):
            put = client.put(part["URL"], content=chunk)
            etags.append({"part_number": part["PartNumber"], "etag": put.headers["etag"]})
            yield put
        yield post(
            f"/v1/files/multipart/{finish}",
            headers=KEY,
            json={"upload_id": body["upload_id"], "file_id": body["file_id"], "parts": etags},
        )
    job_ids = []
    for eval_type, (_, params) in EVAL_CASES.items():
        created = post(
            "/v1/evaluation",
            headers=KEY,
            json={"type": eval_type, "parameters": {**params, "input_data_file_path": file_ids[eval_type]}},
        )
        yield created
        job_ids.append(created.json()["workflow_id"])
    yield post("/v1/evaluation", headers=KEY, json={"type": "classify", "parameters": {}})  # 400
    yield get(f"/v1/evaluation/{job_ids[0]}", headers=KEY)
    yield get(f"/v1/evaluation/{job_ids[0]}/status", headers=KEY)
    yield get("/v1/evaluation", headers=KEY, params={"limit": 2})
    yield get("/v1/evaluations", headers=KEY, params={"status": "pending"})
    yield get("/v1/evaluation/model-list", headers=KEY)
    yield get("/v1/evaluations/model-list", headers=KEY, params={"model_source": "dedicated"})
    yield post("/_emulator/clock/advance", json={"seconds": 100})
    yield get("/_emulator/clock")
    for job_id in job_ids:
        yield get(f"/v1/evaluation/{job_id}", headers=KEY)
        status = get(f"/v1/evaluation/{job_id}/status", headers=KEY)
        yield status
        yield get(f"/v1/files/{status.json()['results']['result_file_id']}/content", headers=KEY)
    yield post(f"/v1/evaluation/{job_ids[0]}/update", headers=KEY, json={"status": "error", "error": "boom"})
    yield get("/v1/files", headers=KEY)
    yield get(f"/v1/files/{file_ids['score']}", headers=KEY)
    yield get(f"/v1/files/{file_ids['score']}/content", headers=KEY)
    yield client.delete(f"/v1/files/{file_ids['score']}", headers=KEY)
    yield get(f"/v1/files/{file_ids['score']}", headers={"authorization": "Bearer someone-else"})  # 404
    yield get("/v1/v1/evaluation", headers=KEY)  # base-URL hints
    yield get("/evaluations", headers=KEY)
    yield get("/v1/not-a-route", headers=KEY)
    yield client.delete("/v1/evaluation", headers=KEY)  # 405
    yield client.head("/v1/evaluation", headers=KEY)  # 405, no body
    # Every other route of the table (control routes added later included), generically.
    for route in routes:
        path = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: {"id": job_ids[1], "part": "1"}.get(m[1], "unknown"), route.path)
        if route.path.startswith("/_emulator/reset"):
            continue  # done last
        body: object = {} if route.method in ("POST", "PUT") else None
        if route.path == "/_emulator/clock/run":
            body = {"time_scale": 0}  # its 400: running the clock on wall time would make the two runs differ
        yield client.request(route.method, path, headers=KEY, json=body)
    yield get("/_emulator/requests", params={"route": "evaluation.status"})
    yield post("/_emulator/seed", json={"seed": 7})
    yield post("/_emulator/reset/journal")
    yield post("/_emulator/reset")
    yield get("/v1/files", headers=KEY)


def transcript(client: httpx.Client, routes: list[Route]) -> list[tuple[object, ...]]:
    return [
        (
            r.request.method,
            without_tokens(r.request.url.path),
            r.status_code,
            sorted((k, without_tokens(v)) for k, v in r.headers.items() if k not in IGNORED_HEADERS),
            without_tokens(r.content.decode("utf-8", errors="surrogateescape")),
        )
        for r in scripted_session(client, routes)
    ]


def test_respx_router_and_live_server_answer_identically(together_emulator_server: EmulatorController) -> None:
    server = together_emulator_server
    routes = server.emulator.routes
    in_process = EmulatorMock(config=server.emulator.config, base_url=server.url)
    # Same config, fresh state on both sides; the router intercepts the server's own URL.
    with in_process, httpx.Client(base_url=server.url) as client:
        mocked = transcript(client, routes)
    assert in_process.emulator.journal.entries, "the respx router did not serve the session"
    with httpx.Client(base_url=server.url) as client:
        live = transcript(client, routes)

    assert len(mocked) == len(live)
    for number, (ours, theirs) in enumerate(zip(mocked, live, strict=False), start=1):
        assert ours == theirs, f"step {number} differs:\nrespx:  {str(ours)[:1500]}\nserver: {str(theirs)[:1500]}"
    served = {(method, path) for method, path, *_ in live}
    unhit = [
        f"{r.method} {r.path}" for r in routes if not any(m == r.method and r.regex.match(str(p)) for m, p in served)
    ]
    assert not unhit, f"the parity session misses routes: {unhit}"
