"""Contract: together==1.5.35 (the legacy SDK) against a live emulator.

together 1.5.35 cannot be imported next to 3.1.1, so the SDK calls run in scripts under
tests/contract/sdk15/ in a separate interpreter (fixture ``together15_python``); each prints what
the SDK returned or raised as JSON, and the assertions live here.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from contract_checks import (
    CASES,
    FILE_ID_RE,
    QA_ROWS,
    assert_keys_sorted,
    check_created,
    check_params_echo,
    check_results_and_file,
    is_user_file,
    parse_jsonl,
)
from together import Together

SCRIPTS = Path(__file__).resolve().parent / "sdk15"
MARKER = "@@RESULT@@"
KEY = "sdk15-key"
OTHER_KEY = "sdk15-other-key"
D10_401 = {
    "message": "Invalid API key provided. You can find your API key at https://api.together.xyz/settings/api-keys.",
    "type": "invalid_request_error",
    "param": None,
    "code": "invalid_api_key",
}


def sdk15_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOGETHER_")}
    env["TOGETHER_NO_BANNER"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def run15(python: Path, script: str, cfg: dict[str, Any], *, allow_failed_step: bool = False) -> dict[str, Any]:
    proc = subprocess.run(
        [str(python), str(SCRIPTS / script), json.dumps(cfg)],
        capture_output=True,
        text=True,
        timeout=180,
        env=sdk15_env(),
        cwd=SCRIPTS,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARKER)]
    assert proc.returncode == 0 and lines, (
        f"{script} exited {proc.returncode}\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-5000:]}"
    )
    out = json.loads(lines[-1][len(MARKER) :])
    if not allow_failed_step:
        assert out["failed_step"] is None, (
            f"{script}: step {out['failed_step']!r} raised {json.dumps(out.get('failure'), indent=2)}"
        )
    return out


def assert_api_error(rec: dict[str, Any], cls: str, status: int, param: Any = None) -> dict[str, Any]:
    assert rec.get("exception") == f"together.error.{cls}", rec
    assert rec["http_status"] == status, rec
    err = rec["api_response"]
    assert isinstance(err, dict) and isinstance(err.get("message"), str) and err["message"], rec
    if param is not None:
        allowed = [param] if isinstance(param, str) else list(param)
        assert err["param"] in allowed, rec
        assert err["param"] in err["message"], rec
    return err


@pytest.mark.parametrize("case_name", list(CASES))
def test_sdk15_flow(emu: Any, together15_python: Path, tmp_path: Path, case_name: str) -> None:
    case = CASES[case_name]
    dataset = case.write_jsonl(tmp_path / f"{case.name}.jsonl")
    out = run15(
        together15_python,
        "flow.py",
        {
            "base_url": emu.v1_url,
            "control_url": emu.url,
            "key": KEY,
            "type": case.type,
            "parameters": case.parameters,
            "dataset": str(dataset),
            "output": str(tmp_path / "results.jsonl"),
        },
    )

    up = out["upload"]
    assert FILE_ID_RE.match(up["id"]), up
    assert (up["object"], up["purpose"], up["filename"], up["bytes"]) == (
        "file",
        "eval",
        dataset.name,
        dataset.stat().st_size,
    ), up
    assert up["processed"] is True and isinstance(up["line_count"], int), (
        f"FileResponse should carry Processed / LineCount: {up}"
    )
    assert out["file_retrieve"] == up
    assert [x["id"] for x in out["files_list_before"]["data"] if is_user_file(x["id"])] == [up["id"]]
    assert out["files_list_before"]["object"] in (None, "list")

    wid = check_created(out["create"])
    assert out["status_pending"] == {"status": "pending", "results": None}
    job = out["retrieve_pending"]
    assert (job["workflow_id"], job["type"], job["status"], job["results"]) == (wid, case.type, "pending", None)
    check_params_echo(job["parameters"], case.params_for(up["id"]))
    assert job["created_at"] is not None and job["updated_at"] is not None
    assert [j["workflow_id"] for j in out["list_pending"]] == [wid]

    done = out["status_done"]
    assert done["status"] == "completed", done
    results = done["results"]
    assert_keys_sorted(results)  # 1.5.35 keeps the server's key order
    rows = parse_jsonl(out["result_text"])
    check_results_and_file(case, results, rows)
    assert out["retrieve_done"]["status"] == "completed"
    assert out["retrieve_done"]["results"] == results
    assert [j["workflow_id"] for j in out["list_completed"]] == [wid]
    assert out["list_pending_after"] == []
    assert [j["workflow_id"] for j in out["list_all"]] == [wid]

    rid = results["result_file_id"]
    size = len(out["result_text"].encode("utf-8"))
    assert out["download"] == {"object": "local", "id": rid, "filename": str(tmp_path / "results.jsonl"), "size": size}
    rf = out["result_file"]
    assert (rf["id"], rf["object"], rf["purpose"], rf["bytes"]) == (rid, "file", "eval-output", size), rf
    listed = {x["id"]: x["purpose"] for x in out["files_list_after"]["data"] if is_user_file(x["id"])}
    assert listed == {up["id"]: "eval", rid: "eval-output"}

    assert out["delete"] == {"id": up["id"], "object": "file", "deleted": True}
    assert_api_error(out["retrieve_deleted"], "InvalidRequestError", 404)


@pytest.mark.parametrize("case_name", ["classify-generate", "compare-columns"])
def test_sdk15_async_client(emu: Any, together15_python: Path, tmp_path: Path, case_name: str) -> None:
    case = CASES[case_name]
    # AsyncTogether 1.5.35 cannot upload (NotImplementedError); upload with 3.1.1 under the same key
    fid = (
        Together(api_key=KEY, base_url=emu.url, max_retries=0)
        .files.upload(file=case.write_jsonl(tmp_path / "data.jsonl"), purpose="eval", check=False)
        .id
    )
    out = run15(
        together15_python,
        "async_flow.py",
        {
            "base_url": emu.v1_url,
            "control_url": emu.url,
            "key": KEY,
            "type": case.type,
            "parameters": case.params_for(fid),
        },
    )
    wid = check_created(out["create"])
    assert (out["retrieve_pending"]["workflow_id"], out["retrieve_pending"]["status"]) == (wid, "pending")
    assert out["status_pending"] == {"status": "pending", "results": None}
    assert [j["workflow_id"] for j in out["list_pending"]] == [wid]
    assert out["status_done"]["status"] == "completed"
    assert out["retrieve_done"]["results"] == out["status_done"]["results"]
    assert [j["workflow_id"] for j in out["list_completed"]] == [wid]
    assert_api_error(out["retrieve_unknown"], "InvalidRequestError", 404)
    results = out["status_done"]["results"]
    data = Together(api_key=KEY, base_url=emu.url, max_retries=0).files.content(results["result_file_id"]).read()
    check_results_and_file(case, results, parse_jsonl(data))


def test_sdk15_errors(emu: Any, together15_python: Path, tmp_path: Path) -> None:
    dataset = tmp_path / "qa.jsonl"
    dataset.write_text("".join(json.dumps(r) + "\n" for r in QA_ROWS))
    out = run15(
        together15_python,
        "errors.py",
        {
            "base_url": emu.v1_url,
            "root_url": emu.url,
            "control_url": emu.url,
            "key": KEY,
            "other_key": OTHER_KEY,
            "dataset": str(dataset),
        },
    )
    check_created(out["create"])

    for name in (
        "retrieve_unknown",
        "status_unknown",
        "file_unknown",
        "other_tenant_retrieve",
        "other_tenant_status",
        "other_tenant_file",
    ):
        assert_api_error(out[name], "InvalidRequestError", 404)
    assert out["other_tenant_list"] == []

    score_param = ("parameters.min_score", "parameters.max_score")
    assert_api_error(out["score_min_above_max"], "InvalidRequestError", 400, score_param)
    assert_api_error(out["score_min_equals_max"], "InvalidRequestError", 400, score_param)
    assert_api_error(out["score_threshold_outside"], "InvalidRequestError", 400, "parameters.pass_threshold")
    assert_api_error(out["classify_one_label"], "InvalidRequestError", 400, "parameters.labels")
    assert_api_error(out["classify_pass_not_subset"], "InvalidRequestError", 400, "parameters.pass_labels")
    assert_api_error(out["model_temperature"], "InvalidRequestError", 400, "parameters.model_to_evaluate.temperature")

    assert assert_api_error(out["no_authorization_header"], "AuthenticationError", 401) == D10_401
    assert assert_api_error(out["blank_key_list"], "AuthenticationError", 401) == D10_401
    # files.upload step 1 maps any 401 to its own AuthenticationError message
    assert out["blank_key_upload"]["exception"] == "together.error.AuthenticationError", out["blank_key_upload"]

    err = assert_api_error(out["base_url_without_v1"], "InvalidRequestError", 404)
    assert f"base_url='{emu.url}/v1'" in err["message"], err  # names the 1.x base URL
