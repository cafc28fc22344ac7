"""Contract: the TypeScript SDK `together-ai` (0.52.0, from npm) against a live emulator.

The SDK runs in Node.js: tests/contract/typescript/flow.mjs makes the calls and prints what each one
returned or threw as JSON; the assertions live here. The example of the TypeScript section of
docs/reference/sdks.md runs as written. Node.js and the SDK come from typescript_support (installed
when missing; a skip outside CI when that is impossible, a failure in CI).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from contract_checks import (
    CASES,
    FILE_ID_RE,
    assert_keys_sorted,
    check_created,
    check_error_body,
    check_params_echo,
    check_results_and_file,
    is_user_file,
    parse_jsonl,
)
from together_eval_emulator import key_fingerprint
from typescript_support import NODE_DIR, node_or_skip

REPO = Path(__file__).resolve().parents[2]
FLOW = NODE_DIR / "flow.mjs"
SDK_DOCS = REPO / "docs" / "reference" / "sdks.md"
MARKER = "@@RESULT@@"
KEY = "typescript-key"
UNKNOWN_FILE = "file-00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def node() -> Path:
    return node_or_skip()


def node_env(**extra: str) -> dict[str, str]:
    """The caller's environment without TOGETHER_* (a shell's key or base URL must not leak in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOGETHER_")}
    env.update(extra)
    return env


def run_flow(node: Path, emu: Any, steps: str, **cfg: Any) -> dict[str, Any]:
    config = {"base_url": emu.v1_url, "control_url": emu.url, "key": KEY, "steps": steps, **cfg}
    proc = subprocess.run(
        [str(node), str(FLOW), json.dumps(config)],
        cwd=NODE_DIR,
        env=node_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith(MARKER)]
    assert proc.returncode == 0 and lines, (
        f"flow.mjs exited {proc.returncode}\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-5000:]}\n"
        f"--- server log ---\n{emu.log_tail()}"
    )
    out: dict[str, Any] = json.loads(lines[-1][len(MARKER) :])
    return out


def assert_flow_ok(out: dict[str, Any]) -> None:
    assert out["failed_step"] is None, f"step {out['failed_step']!r} threw {json.dumps(out['failure'], indent=2)}"


def api_error(seen: dict[str, Any], cls: str, status: int, param: str | None = None) -> dict[str, Any]:
    """What the SDK threw: its error class, `status`, and `error` = the whole response body, which
    must be the real error shape; the SDK's message is the status and that body as compact JSON."""
    assert (seen.get("name"), seen.get("status")) == (cls, status), seen
    err = check_error_body(seen["error"], param=param)
    assert seen["message"] == f"{status} {json.dumps(seen['error'], separators=(',', ':'), ensure_ascii=False)}"
    return err


def journal(emu: Any, **query: str) -> list[dict[str, Any]]:
    reply = emu.http.get("/_emulator/requests", params=query)
    assert reply.status_code == 200, reply.text
    entries: list[dict[str, Any]] = reply.json()["data"]
    return entries


def user_files(emu: Any) -> list[str]:
    reply = emu.api("GET", "/v1/files", key=KEY)
    assert reply.status_code == 200, reply.text
    return [f["id"] for f in reply.json()["data"] if is_user_file(f["id"])]


# ------------------------------------------------------------------------------------- the flow


@pytest.mark.parametrize("case_name", list(CASES))
def test_typescript_flow(emu: Any, node: Path, tmp_path: Path, case_name: str) -> None:
    case = CASES[case_name]
    dataset = case.write_jsonl(tmp_path / f"{case.name}.jsonl")
    out = run_flow(node, emu, "flow", type=case.type, parameters=case.parameters, dataset=str(dataset))
    assert_flow_ok(out)

    up = out["upload"]
    assert FILE_ID_RE.match(up["id"]), up
    assert (up["object"], up["purpose"], up["bytes"], up["FileType"], up["Processed"]) == (
        "file",
        "eval",
        dataset.stat().st_size,
        "jsonl",
        True,
    ), up
    assert up["filename"] == str(dataset), "the SDK sends the path it was given as file_name"
    assert out["file_retrieve"] == up

    wid = check_created(out["create"])
    assert out["status_pending"] == {"status": "pending", "results": None}
    job = out["retrieve_pending"]
    assert (job["workflow_id"], job["type"], job["status"], job["results"]) == (wid, case.type, "pending", None)
    check_params_echo(job["parameters"], case.params_for(up["id"]))
    assert [j["workflow_id"] for j in out["list_pending"]] == [wid]

    # one second of emulator time per poll: the SDK sees every status on the way
    assert out["poll"] == ["pending", "queued", "running", "completed"]
    done = out["status_done"]
    assert done["status"] == "completed", done
    results = done["results"]
    assert_keys_sorted(results)
    assert out["content"]["content_type"] == "application/octet-stream"
    rows = parse_jsonl(out["content"]["text"])
    check_results_and_file(case, results, rows)
    assert (out["retrieve_done"]["status"], out["retrieve_done"]["results"]) == ("completed", results)
    for listing in ("list_completed", "list_all", "list_limit_1"):
        assert [j["workflow_id"] for j in out[listing]] == [wid], listing

    rid = results["result_file_id"]
    rf = out["result_file"]
    size = len(out["content"]["text"].encode("utf-8"))
    assert (rf["id"], rf["object"], rf["purpose"], rf["bytes"]) == (rid, "file", "eval-output", size), rf
    listed = {f["id"]: f["purpose"] for f in out["files_list"]["data"] if is_user_file(f["id"])}
    assert listed == {up["id"]: "eval", rid: "eval-output"}
    assert out["delete"] == {"id": up["id"], "object": "file", "deleted": True}
    api_error(out["retrieve_deleted"], "NotFoundError", 404)


def test_typescript_upload_makes_three_requests_without_preprocess(emu: Any, node: Path, tmp_path: Path) -> None:
    case = CASES["classify-column"]
    dataset = case.write_jsonl(tmp_path / "data.jsonl")
    out = run_flow(node, emu, "flow", type=case.type, parameters=case.parameters, dataset=str(dataset))
    assert_flow_ok(out)
    file_id = out["upload"]["id"]
    upload = [e for e in journal(emu) if e["route"] in ("files.upload", "upload.put", "files.retrieve")][:3]
    assert [(e["method"], e["route"], e["status_code"]) for e in upload] == [
        ("POST", "files.upload", 302),
        ("PUT", "upload.put", 200),
        ("GET", "files.retrieve", 200),
    ], upload
    fields = {"file_name": str(dataset), "file_type": "jsonl", "purpose": "eval"}
    assert upload[0]["query"] == fields, "step 1 carries the fields in the query string"
    assert dict(re.findall(r"([^&=]+)=([^&]*)", upload[0]["body"])).keys() == fields.keys(), "and in the body"
    assert upload[0]["file_id"] == upload[2]["file_id"] == file_id
    assert journal(emu, route="files.preprocess") == []


# ------------------------------------------------------------------------------------- errors


def test_typescript_errors(emu: Any, node: Path) -> None:
    out = run_flow(node, emu, "errors")
    assert_flow_ok(out)
    for name in ("retrieve_unknown", "status_unknown"):
        assert "eval-ffff-1767225600" in api_error(out[name], "NotFoundError", 404)["message"]
    for name in ("file_unknown", "content_unknown", "delete_unknown"):
        assert UNKNOWN_FILE in api_error(out[name], "NotFoundError", 404)["message"]
    api_error(out["score_min_above_max"], "BadRequestError", 400, "parameters.min_score")
    api_error(out["classify_one_label"], "BadRequestError", 400, "parameters.labels")
    api_error(out["unknown_type"], "BadRequestError", 400, "type")
    api_error(out["list_bad_limit"], "BadRequestError", 400, "limit")

    hint = api_error(out["base_url_without_v1"], "NotFoundError", 404)["message"]
    assert "No route for '/evaluation'" in hint, hint
    assert f"together-ai (TypeScript): use baseURL='{emu.url}/v1'" in hint, hint


def test_typescript_retries(emu: Any, node: Path) -> None:
    """Retries 429 and 501+ but not 500; `x-should-retry: false` wins (a short `retry-after` keeps it fast)."""
    rules = [
        {
            "match": {"route": "evaluation.list"},
            "times": 1,
            "action": {"kind": "error", "status": 503, "retry_after": 0.01},
        },
        {"match": {"route": "files.list"}, "times": 1, "action": {"kind": "error", "status": 500, "retry_after": 0.01}},
        {
            "match": {"route": "evaluation.retrieve"},
            "times": 1,
            "action": {"kind": "error", "status": 429, "retry_after": 0.01, "should_retry": False},
        },
    ]
    assert emu.http.put("/_emulator/faults", json=rules).status_code == 200
    out = run_flow(node, emu, "retries")
    assert_flow_ok(out)
    assert out["list_after_503"] == []
    api_error(out["files_list_after_500"], "InternalServerError", 500)
    api_error(out["retrieve_after_429"], "RateLimitError", 429)
    attempts = {
        route: len(journal(emu, route=route)) for route in ("evaluation.list", "files.list", "evaluation.retrieve")
    }
    assert attempts == {"evaluation.list": 2, "files.list": 1, "evaluation.retrieve": 1}


def test_typescript_upload_needs_the_duplex_fix_on_node(emu: Any, node: Path, tmp_path: Path) -> None:
    """The SDK PUTs a file stream through Node's fetch without `duplex: "half"`: Node refuses it
    before sending (an SDK bug). flow.mjs and the documented example add it; without it, no upload."""
    dataset = CASES["classify-column"].write_jsonl(tmp_path / "data.jsonl")
    out = run_flow(node, emu, "flow", type="classify", parameters={}, dataset=str(dataset), duplex_fix=False)
    assert out["failed_step"] == "upload"
    assert out["upload"] == {
        "name": "TypeError",
        "message": "RequestInit: duplex option is required when sending a body.",
    }
    assert [e["route"] for e in journal(emu, route="upload.put")] == []
    assert user_files(emu) == []


def test_typescript_es_module_build_cannot_upload(emu: Any, node: Path, tmp_path: Path) -> None:
    """`import Together from "together-ai"` loads the ES-module build, whose file helpers are
    undefined (they call `require`): files.upload fails before any request. flow.mjs and the
    documented example load the CommonJS build."""
    dataset = CASES["classify-column"].write_jsonl(tmp_path / "data.jsonl")
    out = run_flow(node, emu, "flow", type="classify", parameters={}, dataset=str(dataset), loader="import")
    assert out["upload"] == {"name": "Error", "message": "File does not exists"}
    assert out["unhandled_rejection"] == {"name": "TypeError", "message": "extname is not a function"}
    assert journal(emu, route="files.upload") == []


def test_typescript_upload_base_url_without_v1(emu: Any, node: Path, tmp_path: Path) -> None:
    """TOGETHER_API_BASE_URL without /v1: the emulator answers the hint's 404, which the SDK's upload
    replaces with its own rejection value (not an Error)."""
    dataset = CASES["classify-column"].write_jsonl(tmp_path / "data.jsonl")
    out = run_flow(node, emu, "flow", type="classify", parameters={}, dataset=str(dataset), upload_base_url=emu.url)
    assert out["upload"] == {"rejected": {"message": "failed to upload file"}}
    (entry,) = journal(emu, status_code="404")
    assert (entry["method"], entry["path"], entry["tenant"]) == ("POST", "/files", key_fingerprint(KEY))
    assert user_files(emu) == []


# ---------------------------------------------------------------------------------- the docs


def docs_example() -> str:
    """The ```js blocks of the TypeScript section, in order, as one script: the example and its
    error handling, appended to it."""
    text = SDK_DOCS.read_text()
    section = text.split("\n## TypeScript: together-ai\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```js\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2, f"expected two ```js blocks in the TypeScript section, found {len(blocks)}"
    return "\n".join(blocks)


def test_the_documented_typescript_example_runs(emu: Any, node: Path, tmp_path: Path) -> None:
    (tmp_path / "example.mjs").write_text(docs_example())
    (tmp_path / "node_modules").symlink_to(NODE_DIR / "node_modules", target_is_directory=True)
    proc = subprocess.run(
        [str(node), "example.mjs"],
        cwd=tmp_path,
        env=node_env(EMULATOR_URL=emu.url),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-5000:]}"
    done, error = proc.stdout.splitlines()
    assert error == "NotFoundError 404 Evaluation job 'eval-ffff-1767225600' not found."
    status, pass_percentage = done.split(" ")
    assert status == "completed", proc.stdout
    rows = parse_jsonl((tmp_path / "results.jsonl").read_text())
    inputs = parse_jsonl((tmp_path / "data.jsonl").read_text())
    assert [{k: row[k] for k in inputs[0]} for row in rows] == inputs
    passed = sum(row["label"] == "correct" for row in rows)
    assert float(pass_percentage) == pytest.approx(100 * passed / len(rows))
    (upload,) = journal(emu, route="files.upload")
    assert upload["query"]["file_name"] == "data.jsonl"
