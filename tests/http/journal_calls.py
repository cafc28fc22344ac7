"""Requests to an Emulator through `handle`, with no transport (shared by the journal and controller tests)."""

from __future__ import annotations

import json

from together_eval_emulator.http._core import Emulator
from together_eval_emulator.http._transport import ApiRequest

BASE = "http://emulator.test"
AUTH = {"authorization": "Bearer key-a"}
DATA = b'{"prompt": "p1", "response": "r1"}\n{"prompt": "p2", "response": "r2"}\n'
PARAMS = {
    "judge": {"model": "m", "model_source": "serverless", "system_template": "Judge {{prompt}}"},
    "labels": ["good", "bad"],
    "pass_labels": ["good"],
    "model_to_evaluate": "response",
}


def call(
    emu: Emulator, method: str, path: str, body: object = None, headers: dict[str, str] | None = None, query: str = ""
) -> tuple[int, bytes, dict[str, str]]:
    raw = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else b"")
    response = emu.handle(ApiRequest(method, path, BASE, query, {**AUTH, **(headers or {})}, raw))
    return response.status_code, response.body, response.headers


def create_job(emu: Emulator) -> tuple[str, str]:
    form = {"content-type": "application/x-www-form-urlencoded"}
    _, _, headers = call(emu, "POST", "/v1/files", b"purpose=eval&file_name=d.jsonl&file_type=jsonl", form)
    call(emu, "PUT", headers["location"].removeprefix(BASE), DATA, {"authorization": ""})
    file_id = headers["x-together-file-id"]
    call(emu, "POST", f"/v1/files/{file_id}/preprocess")
    _, body, _ = call(
        emu, "POST", "/v1/evaluation", {"type": "classify", "parameters": {**PARAMS, "input_data_file_path": file_id}}
    )
    return json.loads(body)["workflow_id"], file_id
