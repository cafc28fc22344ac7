"""Every scenario and fault feature driven over HTTP only, as a non-Python user would: the server
runs as `python -m together_eval_emulator serve --config FILE --admin-token T`, and this module never imports
the emulator (only httpx and the standard library)."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TOKEN = "admin-secret"
KEY = "team-a-key"
DATASET_ID = "file-00000000-0000-4000-8000-00000000000a"
CONFIG = f"""
seed = 11
clock = "manual"
progression = "durations"

[types.score.progression]
mode = "immediate"

[[faults]]
name = "whoami flaps once"
match = {{ route = "whoami" }}
times = 1
action = {{ kind = "error", status = 503, retry_after = 0.5 }}

[[tenants]]
key = "{KEY}"
name = "team-a"

[[files]]
tenant = "{KEY}"
id = "{DATASET_ID}"
path = "qa.jsonl"
"""
ROWS = [{"prompt": f"Question {i}?", "response": f"Answer {i}."} for i in range(20)]
JUDGE = {"model": "judge-model", "model_source": "serverless", "system_template": "Judge {{prompt}} {{response}}"}


def classify(judge: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "classify",
        "parameters": {
            "input_data_file_path": DATASET_ID,
            "judge": judge or JUDGE,
            "labels": ["good", "bad"],
            "pass_labels": ["good"],
            "model_to_evaluate": "response",
        },
    }


class Emulator:
    """An HTTP client for the API (as tenant `KEY`) and the control plane (with the token)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.api = httpx.Client(
            base_url=url, headers={"authorization": f"Bearer {KEY}"}, timeout=10, follow_redirects=False
        )
        self.admin = httpx.Client(base_url=url + "/_emulator", headers={"x-emulator-token": TOKEN}, timeout=10)

    def control(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = self.admin.request(method, path, json=body)
        assert response.status_code == status, (method, path, response.status_code, response.text)
        return response.json()

    def create(self, body: dict[str, Any]) -> str:
        response = self.api.post("/v1/evaluation", json=body)
        assert response.status_code == 200, response.text
        return response.json()["workflow_id"]

    def status(self, workflow_id: str) -> str:
        return self.api.get(f"/v1/evaluation/{workflow_id}/status").json()["status"]

    def job(self, workflow_id: str) -> dict[str, Any]:
        return self.api.get(f"/v1/evaluation/{workflow_id}").json()


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    folder = tmp_path_factory.mktemp("http-only")
    (folder / "qa.jsonl").write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    (folder / "emulator.toml").write_text(CONFIG)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOGETHER_EMULATOR_")}
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "together_eval_emulator",
            "serve",
            "--port",
            "0",
            "--config",
            str(folder / "emulator.toml"),
            "--admin-token",
            TOKEN,
        ],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout or []], daemon=True).start()
    try:
        match = re.match(r"listening on (\S+)", lines.get(timeout=20))
        assert match, "the server did not say where it listens"
        yield Emulator(match.group(1))
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(autouse=True)
def fresh(emu: Emulator) -> None:
    emu.control("POST", "/reset")


def test_admin_token_guards_the_control_plane(emu: Emulator) -> None:
    bare = httpx.get(emu.url + "/_emulator/clock")
    assert bare.status_code == 401 and bare.json()["error"]["code"] == "invalid_admin_token"
    assert httpx.get(emu.url + "/_emulator/clock", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert httpx.get(emu.url + "/_emulator/health").status_code == 200


def test_config_file_loaded_tenants_files_scenarios_faults(emu: Emulator) -> None:
    files = [f for f in emu.api.get("/v1/files").json()["data"] if f["id"].startswith("file-")]
    assert [(f["id"], f["filename"]) for f in files] == [(DATASET_ID, "qa.jsonl")]
    whoami = emu.api.get("/v3/whoami")
    assert whoami.status_code == 503 and whoami.headers["retry-after-ms"] == "500"
    assert emu.api.get("/v3/whoami").status_code == 200  # times = 1
    score = {
        "type": "score",
        "parameters": {
            "input_data_file_path": DATASET_ID,
            "judge": JUDGE,
            "min_score": 1,
            "max_score": 10,
            "pass_threshold": 5,
            "model_to_evaluate": "response",
        },
    }
    assert emu.job(emu.create(score))["status"] == "completed"  # [types.score]: immediate
    assert emu.status(emu.create(classify())) == "pending"  # the settings' durations
    assert emu.control("GET", "/seed") == {"seed": 11}


def test_clock(emu: Emulator) -> None:
    assert emu.control("GET", "/clock")["now"] == "2026-01-01T00:00:00.000000Z"
    assert emu.control("POST", "/clock/advance", {"seconds": 60})["now"] == "2026-01-01T00:01:00.000000Z"
    assert emu.control("POST", "/clock/set", {"now": "2026-06-01T00:00:00Z"})["epoch"] == 1780272000
    assert emu.control("POST", "/clock/run", {"time_scale": 100})["mode"] == "real"
    assert emu.control("POST", "/clock/scale", {"time_scale": 10})["time_scale"] == 10
    assert emu.control("POST", "/clock/freeze")["mode"] == "manual"


def test_progressions_and_attachment_levels(emu: Emulator) -> None:
    emu.control("PUT", "/scenarios/default", {"progression": {"mode": "after_polls", "polls": 1}})
    polled = emu.create(classify())
    assert [emu.status(polled) for _ in range(4)] == ["pending", "queued", "running", "completed"]

    emu.control("PUT", "/scenarios/types/classify", {"progression": {"mode": "immediate"}})
    assert emu.status(emu.create(classify())) == "completed"
    emu.control("DELETE", "/scenarios/types/classify")

    emu.control("POST", "/scenarios", {"times": 1, "progression": {"mode": "durations", "pending": 5}}, status=201)
    timed = emu.create(classify())
    assert emu.status(timed) == "pending"
    emu.control("POST", "/clock/advance", {"seconds": 5})
    assert emu.status(timed) == "queued"

    rule = emu.control(
        "POST", "/scenarios", {"match": {"judge_model": "special-*"}, "progression": {"mode": "manual"}}, status=201
    )
    manual = emu.create(classify(dict(JUDGE, model="special-judge")))
    assert [emu.status(manual) for _ in range(3)] == ["pending"] * 3
    assert emu.control("POST", f"/jobs/{manual}/advance", {"steps": 3})["status"] == "completed"
    assert [e["id"] for e in emu.control("GET", "/scenarios")["entries"]] == [rule["id"]]
    emu.control("DELETE", f"/scenarios/{rule['id']}")

    emu.control("PUT", "/scenarios/default", {"progression": {"mode": "manual"}})
    one = emu.create(classify())
    emu.control("PUT", f"/jobs/{one}/scenario", {"progression": {"mode": "immediate"}})
    assert emu.status(one) == "completed"


def test_outcomes(emu: Emulator) -> None:
    emu.control("PUT", "/scenarios/default", {"progression": {"mode": "immediate"}})
    emu.control(
        "POST",
        "/scenarios",
        {"times": 1, "outcome": {"kind": "error", "at": "queued", "message": "GPU lost"}},
        status=201,
    )
    failed = emu.job(emu.create(classify()))
    assert [u["status"] for u in failed["status_updates"]] == ["pending", "queued", "error"]
    assert failed["results"] == {"error": "GPU lost"}

    emu.control(
        "POST", "/scenarios", {"times": 1, "outcome": {"pass_percentage": 100, "judge_fail_rate": 0.2}}, status=201
    )
    done = emu.job(emu.create(classify()))
    results = done["results"]
    content = emu.api.get(f"/v1/files/{results['result_file_id']}/content").text
    rows = [json.loads(line) for line in content.splitlines()]
    assert results["judge_fail_count"] == sum(not row["evaluation_successful"] for row in rows)
    assert results["label_counts"]["good"] == sum(row["evaluation_successful"] for row in rows)

    emu.control("POST", "/scenarios", {"times": 1, "outcome": {"judge_fail_rate": 0.9}}, status=201)
    assert "more than 30%" in emu.job(emu.create(classify()))["results"]["error"]

    emu.control("POST", "/scenarios", {"times": 1, "outcome": {"kind": "stall", "at": "running"}}, status=201)
    stalled = emu.create(classify())
    emu.control("POST", "/clock/advance", {"seconds": 86400})
    assert emu.status(stalled) == "running"
    forced = emu.control("POST", f"/jobs/{stalled}/status", {"status": "user_error", "message": "bad data"})
    assert forced["status"] == "user_error" and emu.job(stalled)["results"] == {"error": "bad data"}


def test_magic_inputs(emu: Emulator) -> None:
    magic = emu.create(classify(dict(JUDGE, model="emulator/user_error@queued+immediate")))
    job = emu.job(magic)
    assert job["status"] == "user_error" and "emulator/user_error@queued" in job["results"]["error"]
    polled = emu.create(classify(dict(JUDGE, model="emulator/polls-2+pass-100")))
    assert [emu.status(polled) for _ in range(7)][-1] == "completed"
    assert emu.job(polled)["results"]["label_counts"] == {"bad": 0, "good": 20}
    bad = emu.api.post("/v1/evaluation", json=classify(dict(JUDGE, model="emulator/explode")))
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "parameters.judge.model"


def test_faults(emu: Emulator) -> None:
    workflow_id = emu.create(classify())
    rule = emu.control(
        "POST",
        "/faults",
        {
            "match": {"route": "evaluation.status", "job_id": workflow_id},
            "after": 2,
            "times": 1,
            "action": {"kind": "error", "status": 429, "retry_after": 2, "should_retry": True},
        },
        status=201,
    )
    codes = [emu.api.get(f"/v1/evaluation/{workflow_id}/status") for _ in range(4)]
    assert [c.status_code for c in codes] == [200, 200, 429, 200]
    assert codes[2].headers["retry-after"] == "2" and codes[2].headers["x-should-retry"] == "true"
    assert codes[2].json()["error"]["type"] == "rate_limit_exceeded"
    emu.control("POST", "/faults", {"match": {"route": "files.list"}, "action": {"kind": "drop"}}, status=201)
    with pytest.raises(httpx.RemoteProtocolError):
        emu.api.get("/v1/files")
    emu.control("POST", "/faults", {"match": {"route": "files.retrieve"}, "action": {"kind": "hang"}}, status=201)
    with pytest.raises(httpx.ReadTimeout):
        emu.api.get(f"/v1/files/{DATASET_ID}", timeout=0.2)
    listed = emu.control("GET", "/faults")["rules"]
    assert [(r["name"], r["fired"]) for r in listed] == [("whoami flaps once", 0), (None, 1), (None, 1), (None, 1)]
    emu.control("DELETE", f"/faults/{rule['id']}")
    emu.control("DELETE", "/faults")
    assert emu.api.get("/v1/files").status_code == 200


def test_upload_and_state_export_import(emu: Emulator) -> None:
    step1 = emu.api.post("/v1/files", data={"purpose": "eval", "file_name": "mine.jsonl", "file_type": "jsonl"})
    assert step1.status_code == 302
    assert httpx.put(step1.headers["location"], content=b'{"prompt": "p", "response": "r"}\n').status_code == 200
    file_id = step1.headers["x-together-file-id"]
    assert emu.api.post(f"/v1/files/{file_id}/preprocess").status_code == 200
    emu.control("PUT", "/scenarios/default", {"progression": {"mode": "after_polls", "polls": 1}})
    workflow_id = emu.create(classify())
    assert emu.status(workflow_id) == "pending"
    snapshot = emu.control("GET", "/state")
    assert [emu.status(workflow_id) for _ in range(3)] == ["queued", "running", "completed"]
    emu.control("POST", "/reset")
    assert emu.api.get(f"/v1/evaluation/{workflow_id}").status_code == 404
    assert emu.control("PUT", "/state", snapshot) == {"imported": True, "tenants": 1, "jobs": 1}
    assert [emu.status(workflow_id) for _ in range(3)] == ["queued", "running", "completed"]
    assert emu.control("GET", f"/jobs/{workflow_id}")["reads"] == 4
    bad = emu.admin.put("/state", json={"seed": 1})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "clock"
