"""The benchmarks' shared workload: one API call into the core, a dataset, and a classify job on it."""

from __future__ import annotations

import json

from together_eval_emulator import Emulator
from together_eval_emulator.http._transport import ApiRequest

from .live import classify

AUTH = {"authorization": "Bearer bench"}


def call(emulator: Emulator, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> bytes:
    """One request through `Emulator.handle`: the body of a 200, the new file id of a 302."""
    response = emulator.handle(ApiRequest(method, path, "http://bench", "", {**AUTH, **(headers or {})}, body))
    if response.status_code not in (200, 302):
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.body[:200]!r}")
    return response.body if response.status_code == 200 else response.headers["x-together-file-id"].encode()


def dataset(rows: int) -> bytes:
    return "".join(
        json.dumps({"prompt": f"Question {i}: what is {i} times 3?", "response": f"It is {3 * i}."}) + "\n"
        for i in range(rows)
    ).encode()


def upload(emulator: Emulator, rows: int) -> str:
    """The three-step upload of a `rows`-row dataset; its file id."""
    file_id = call(
        emulator,
        "POST",
        "/v1/files",
        b"purpose=eval&file_name=d.jsonl&file_type=jsonl",
        {"content-type": "application/x-www-form-urlencoded"},
    ).decode()
    token, _ = emulator.store.uploads()[-1]
    call(emulator, "PUT", f"/_emulator/uploads/{token}", dataset(rows))
    call(emulator, "POST", f"/v1/files/{file_id}/preprocess")
    return file_id


def completed_job(emulator: Emulator, file_id: str) -> str:
    """Create a classify job on `file_id` and move the clock past its end; its workflow id."""
    workflow_id = json.loads(call(emulator, "POST", "/v1/evaluation", classify(file_id)))["workflow_id"]
    emulator.advance(86_400)  # a day: past the end of any benchmark job
    return workflow_id
