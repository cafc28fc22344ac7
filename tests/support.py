"""A tiny in-process client over `Emulator.handle`, for unit tests of the core (no sockets)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from emulator import Emulator
from emulator.transport import ApiRequest, ApiResponse

BASE = "http://emulator.test"
JUDGE = {"model": "judge-model", "model_source": "serverless", "system_template": "Judge {{prompt}}"}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class CoreClient:
    def __init__(self, emulator: Emulator | None = None, key: str | None = "key-a") -> None:
        self.emulator = emulator or Emulator(clock="manual")
        self.key = key

    def request(self, method: str, path: str, *, json_body: Any = None, body: bytes = b"",
                headers: dict[str, str] | None = None, query: dict[str, Any] | None = None,
                key: str | None = "default") -> Reply:
        key = self.key if key == "default" else key
        all_headers = {"authorization": f"Bearer {key}"} if key else {}
        if json_body is not None:
            body = json.dumps(json_body).encode()
            all_headers["content-type"] = "application/json"
        all_headers.update({k.lower(): v for k, v in (headers or {}).items()})
        response: ApiResponse = self.emulator.handle(ApiRequest(
            method=method, path=path, base_url=BASE, query_string=urlencode(query or {}),
            headers=all_headers, body=body))
        return Reply(response.status_code, response.all_headers(), response.body)

    def upload(self, content: bytes | str, filename: str = "data.jsonl", key: str | None = "default") -> str:
        """The three-step upload both SDKs make; returns the file id."""
        data = content.encode() if isinstance(content, str) else content
        file_type = filename.rsplit(".", 1)[-1]
        step1 = self.request("POST", "/v1/files", key=key, headers={
            "content-type": "application/x-www-form-urlencoded"},
            body=urlencode({"purpose": "eval", "file_name": filename, "file_type": file_type}).encode())
        assert step1.status == 302, step1.body
        path = step1.headers["location"].removeprefix(BASE)
        assert self.request("PUT", path, body=data, key=None).status == 200
        file_id = step1.headers["x-together-file-id"]
        assert self.request("POST", f"/v1/files/{file_id}/preprocess", key=key).status == 200
        return file_id

    def create(self, eval_type: str, parameters: dict[str, Any], key: str | None = "default") -> Reply:
        return self.request("POST", "/v1/evaluation", json_body={"type": eval_type, "parameters": parameters},
                            key=key)

    def job(self, workflow_id: str, key: str | None = "default") -> dict[str, Any]:
        reply = self.request("GET", f"/v1/evaluation/{workflow_id}", key=key)
        assert reply.status == 200, reply.body
        return reply.json()


def jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


def qa_rows(n: int) -> list[dict[str, Any]]:
    return [{"prompt": f"Question {i}?", "response": f"Answer {i}."} for i in range(n)]


def classify_params(file_id: str, **extra: Any) -> dict[str, Any]:
    return {"input_data_file_path": file_id, "judge": JUDGE, "labels": ["good", "bad"],
            "pass_labels": ["good"], "model_to_evaluate": "response", **extra}
