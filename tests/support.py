"""A small client over either face of the emulator, for tests: `CoreFace` calls `Emulator.handle`
directly (no sockets); `ServerFace` goes through the Starlette app with Starlette's TestClient.
Both return `Reply`, so a test runs unchanged on each face. `CoreClient` is the in-process one."""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import urlencode

import pytest

with warnings.catch_warnings():  # Starlette 1.x would rather use httpx2; httpx is what we have
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from together_eval_emulator import Emulator
from together_eval_emulator.faces._asgi import create_app
from together_eval_emulator.faces._server import EmulatorServer
from together_eval_emulator.http._transport import ApiRequest

BASE = "http://emulator.test"
KEY = "key-a"
JUDGE = {"model": "judge-model", "model_source": "serverless", "system_template": "Judge {{prompt}}"}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class CoreFace:
    name = "core"

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def send(self, method: str, path: str, headers: dict[str, str], body: bytes, query: str) -> Reply:
        response = self.emulator.handle(
            ApiRequest(method=method, path=path, base_url=BASE, query_string=query, headers=headers, body=body)
        )
        return Reply(response.status_code, response.all_headers(), response.body)


class ServerFace:
    name = "server"

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.client = TestClient(create_app(emulator), base_url=BASE)

    def send(self, method: str, path: str, headers: dict[str, str], body: bytes, query: str) -> Reply:
        url = path + (f"?{query}" if query else "")
        response = self.client.request(method, url, headers=headers, content=body, follow_redirects=False)
        return Reply(response.status_code, dict(response.headers), response.content)


class Api:
    """The Together API and the control plane, through one face."""

    def __init__(self, face: CoreFace | ServerFace, key: str = KEY) -> None:
        self.face = face
        self.emulator = face.emulator
        self.key = key

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        query: dict[str, Any] | None = None,
        key: str | None = "default",
    ) -> Reply:
        key = self.key if key == "default" else key
        all_headers = {"authorization": f"Bearer {key}"} if key else {}
        if json_body is not None:
            body = json.dumps(json_body).encode()
            all_headers["content-type"] = "application/json"
        all_headers.update({k.lower(): v for k, v in (headers or {}).items()})
        return self.face.send(method, path, all_headers, body, urlencode(query or {}))

    # ------------------------------------------------------------ API

    def upload(self, content: bytes | str, filename: str = "data.jsonl", key: str | None = "default") -> str:
        data = content.encode() if isinstance(content, str) else content
        step1 = self.request(
            "POST",
            "/v1/files",
            key=key,
            headers={"content-type": "application/x-www-form-urlencoded"},
            body=urlencode(
                {"purpose": "eval", "file_name": filename, "file_type": filename.rsplit(".", 1)[-1]}
            ).encode(),
        )
        assert step1.status == 302, step1.body
        path = step1.headers["location"].removeprefix(BASE)
        assert self.request("PUT", path, body=data, key=None).status == 200
        file_id = step1.headers["x-together-file-id"]
        assert self.request("POST", f"/v1/files/{file_id}/preprocess", key=key).status == 200
        return file_id

    def create(self, eval_type: str, parameters: dict[str, Any], key: str | None = "default") -> Reply:
        return self.request("POST", "/v1/evaluation", json_body={"type": eval_type, "parameters": parameters}, key=key)

    def create_id(self, eval_type: str, parameters: dict[str, Any], key: str | None = "default") -> str:
        reply = self.create(eval_type, parameters, key=key)
        assert reply.status == 200, reply.body
        return reply.json()["workflow_id"]

    def job(self, workflow_id: str, key: str | None = "default") -> dict[str, Any]:
        reply = self.request("GET", f"/v1/evaluation/{workflow_id}", key=key)
        assert reply.status == 200, reply.body
        return reply.json()

    def status(self, workflow_id: str, key: str | None = "default") -> dict[str, Any]:
        reply = self.request("GET", f"/v1/evaluation/{workflow_id}/status", key=key)
        assert reply.status == 200, reply.body
        return reply.json()

    def own_files(self, key: str | None = "default") -> list[dict[str, Any]]:
        """The tenant's files, without the built-in datasets every tenant sees."""
        reply = self.request("GET", "/v1/files", key=key)
        assert reply.status == 200, reply.body
        return [file for file in reply.json()["data"] if file["id"].startswith("file-")]

    def content(self, file_id: str) -> list[dict[str, Any]]:
        reply = self.request("GET", f"/v1/files/{file_id}/content")
        assert reply.status == 200, reply.body
        return [json.loads(line) for line in reply.body.decode().splitlines() if line.strip()]

    # ------------------------------------------------------------ control plane

    def control(self, method: str, path: str, body: Any = None, expect: int | tuple[int, ...] = (200, 201)) -> Any:
        reply = self.request(method, "/_emulator/" + path.lstrip("/"), json_body=body, key=None)
        expected = expect if isinstance(expect, tuple) else (expect,)
        assert reply.status in expected, (reply.status, reply.body)
        return reply.json()

    def advance(self, seconds: float) -> Any:
        return self.control("POST", "clock/advance", {"seconds": seconds})


def make_face(name: str, emulator: Emulator | None = None) -> Api:
    emulator = emulator or Emulator(clock="manual")
    return Api(CoreFace(emulator) if name == "core" else ServerFace(emulator))


class CoreClient(Api):
    """The API over the in-process face: `CoreClient(Emulator(...))`."""

    def __init__(self, emulator: Emulator | None = None, key: str = KEY) -> None:
        super().__init__(CoreFace(emulator or Emulator(clock="manual")), key)


def jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


def qa_rows(n: int) -> list[dict[str, Any]]:
    return [{"prompt": f"Question {i}?", "response": f"Answer {i}."} for i in range(n)]


def classify_params(file_id: str, judge: dict[str, Any] = JUDGE, **extra: Any) -> dict[str, Any]:
    return {
        "input_data_file_path": file_id,
        "judge": judge,
        "labels": ["good", "bad"],
        "pass_labels": ["good"],
        "model_to_evaluate": "response",
        **extra,
    }


# An upload token (`<nonce>.<signature>`); where the journal shows it, its fingerprint and the digest
# of the body it was masked in.
UPLOAD_TOKEN = re.compile(r'[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}|secret-…[0-9a-f]{8}|"body_sha256":"[0-9a-f]{64}"')


def without_tokens(text: str) -> str:
    return UPLOAD_TOKEN.sub("<token>", text)


def in_ci() -> bool:
    """True when the environment says this is a CI run (CI=true, as CI services set it)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(suite: str, reason: str) -> NoReturn:
    """A test needs a program or package this machine lacks: skipped with `reason` (which says how to
    install it), except in CI, which must run the `suite`: there it fails."""
    if in_ci():
        pytest.fail(f"CI is set, so the {suite} must run: {reason}", pytrace=False)
    pytest.skip(reason)


# ---------------------------------------------------------------- samples of the settings

# A value unlike the default for every engine setting that the server and the pytest plugin both take
# as a string (an option, a variable, an ini line): (as given, as parsed). Each face's settings test
# adds its own settings, and the engine settings whose defaults differ by face (clock, progression).
ENGINE_SETTING_SAMPLES: dict[str, tuple[str, Any]] = {
    "seed": ("7", 7),
    "time_scale": ("60", 60.0),
    "start_time": ("2030-05-01T00:00:00Z", "2030-05-01T00:00:00Z"),
    "pending_seconds": ("0.5", 0.5),
    "queued_seconds": ("4", 4.0),
    "running_seconds": ("9", 9.0),
    "running_seconds_per_row": ("0", 0.0),
    "failure_delay_seconds": ("2", 2.0),
    "max_running_per_tenant": ("5", 5),
    "max_running": ("20", 20),
    "capacity_priority": ("team-a, key-b", ["team-a", "key-b"]),
    "column_use_rule": ("off", False),
    "strict_models": ("on", True),
    "journal_limit": ("5", 5),
    "journal_byte_limit": ("1048576", 1048576),
    "journal_body_limit": ("1024", 1024),
    "upload_url_seconds": ("600", 600.0),
    "model_allowlist": ("org/a, org/b", ["org/a", "org/b"]),
    "polls_per_phase": ("3", 3),
    "polling_min_interval_seconds": ("2.5", 2.5),
    "polling_reads_after_terminal": ("1", 1),
    "polling_honours_retry_after": ("off", False),
    "polling_list_watches": ("2", 2),
    "admin_token": ("secret", "secret"),
    "auth": ("known", "known"),
    "max_body_bytes": ("2048", 2048),
    "max_upload_bytes": ("4096", 4096),
    "max_json_depth": ("10", 10),
    "max_list_items": ("20", 20),
    "max_string_chars": ("30", 30),
}
# A value of every table setting (a mapping or a list of rules), as a config file or a marker gives it.
TABLE_SAMPLES: dict[str, Any] = {
    "model_lists": {"dedicated": ["ep_abc123"]},
    "max_running_per_type": {"compare": 1},
    "defaults": {"outcome": {"kind": "completed", "pass_percentage": 90}},
    "types": {"score": {"progression": {"mode": "immediate"}}},
    "scenarios": [{"times": 1, "outcome": {"kind": "error", "at": "queued", "message": "boom"}}],
    "faults": [{"match": {"route": "evaluation.status"}, "action": {"kind": "error", "status": 429}}],
    "tenants": [{"key": "team-a-key", "name": "team-a"}],
    "files": [{"tenant": "team-a-key", "rows": [{"prompt": "p"}]}],
    "recordings": [
        {
            "name": "failed-late",
            "job": {
                "type": "score",
                "status_updates": [
                    {"status": "pending", "timestamp": "2025-06-30T12:50:40.722334754Z"},
                    {"status": "error", "timestamp": "2025-06-30T13:50:40Z"},
                ],
            },
        }
    ],
}


@contextmanager
def running(emulator: Emulator) -> Iterator[EmulatorServer]:
    """`emulator` served on a free loopback port from a thread of this process, stopped afterwards."""
    server = EmulatorServer(emulator).start()
    try:
        yield server
    finally:
        server.stop()
