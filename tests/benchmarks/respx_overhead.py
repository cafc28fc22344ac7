"""Per-call time of `client.evals.status(id)` (together 3.x) through the emulator's respx router,
against the same SDK call answered by a bare respx route returning the same bytes."""

from __future__ import annotations

import json

import httpx
import respx

from emulator import Emulator
from emulator.mock import respx_router

from .big_datasets import call, dataset
from .timing import Figure, interleaved, per_call

URL = "http://together-emulator.test"


def completed_job(emulator: Emulator) -> str:
    file_id = call(emulator, "POST", "/v1/files", b"purpose=eval&file_name=d.jsonl&file_type=jsonl",
                   {"content-type": "application/x-www-form-urlencoded"}).decode()
    call(emulator, "PUT", f"/_emulator/uploads/{next(iter(emulator.state.uploads))}", dataset(100))
    call(emulator, "POST", f"/v1/files/{file_id}/preprocess")
    body = json.dumps({"type": "classify", "parameters": {
        "input_data_file_path": file_id, "labels": ["good", "bad"], "pass_labels": ["good"],
        "model_to_evaluate": "response",
        "judge": {"model": "judge", "model_source": "serverless", "system_template": "Rate {{prompt}}"}}}).encode()
    workflow_id = json.loads(call(emulator, "POST", "/v1/evaluation", body))["workflow_id"]
    emulator.advance(3600)
    return workflow_id


def measure(calls: int = 500, repetitions: int = 9) -> list[Figure]:
    from together import Together

    emulator = Emulator(clock="manual")
    workflow_id = completed_job(emulator)
    path = f"/v1/evaluation/{workflow_id}/status"
    body = call(emulator, "GET", path)
    ours = respx_router(emulator, base_url=URL)
    bare = respx.mock(assert_all_called=False, base_url=URL)
    bare.get(path).mock(return_value=httpx.Response(200, content=body, headers={"content-type": "application/json"}))
    client = Together(api_key="bench", base_url=URL, max_retries=0)
    with ours:
        assert client.evals.with_raw_response.status(workflow_id).http_response.content == body

    def timed(router: respx.MockRouter) -> float:
        with router:
            return per_call(lambda: client.evals.status(workflow_id), calls)

    medians = interleaved({"emulator": lambda: timed(ours), "bare": lambda: timed(bare)}, repetitions)
    ratio = medians["emulator"] / medians["bare"]
    return [Figure("respx face: together 3.x `client.evals.status(id)`", f"{medians['emulator'] * 1e6:.0f} µs/call",
                   f"{medians['bare'] * 1e6:.0f} µs/call (bare respx route)", f"{ratio:.2f}", "≤ 1.3",
                   ratio <= 1.3)]
