"""Contract: the together CLIs against a live emulator.

* 3.1.1: ``tg`` (cyclopts), configured by TOGETHER_API_KEY / TOGETHER_BASE_URL (no /v1). Without
  TOGETHER_PROJECT_ID it calls ``GET /v3/whoami`` before every command (docs/reference/sdks.md#the-clis).
* 1.5.35: ``together --api-key K --base-url URL/v1 …`` (click), run from the 1.5.35 environment.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import together
from contract_checks import (
    CASES,
    FILE_ID_RE,
    GEN_MODEL_A,
    JUDGE_MODEL,
    Case,
    assert_keys_sorted,
    check_created,
    check_results_and_file,
    is_user_file,
    parse_jsonl,
)
from together import Together

# The CLIs start a process per command (minutes in all) and reach the server through the SDKs, whose
# every call the other contract modules make against each store: the memory store is enough here.
pytestmark = pytest.mark.stores("memory")

KEY = "cli-key"
TIMEOUT = 120


def _tg_path() -> str:
    sibling = Path(sys.executable).parent / "tg"
    if sibling.exists():
        return str(sibling)
    found = shutil.which("tg")
    assert found, "the together 3.1.1 CLI `tg` is not installed"
    return found


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOGETHER_")}
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        NO_COLOR="1",
        COLUMNS="200",
        PYTHONIOENCODING="utf-8",
    )
    return env


def tg(
    emu: Any,
    cwd: Path,
    *args: str,
    project_id: str | None = None,
    json_mode: bool = True,
    key: str = KEY,
    base_url: str | None = None,
) -> subprocess.CompletedProcess[str]:
    env = _clean_env(cwd / "home")
    env.update(
        TOGETHER_API_KEY=key,
        TOGETHER_BASE_URL=base_url or emu.url,
        TOGETHER_TELEMETRY_DISABLED="1",
        TOGETHER_DISABLE_VERSION_CHECK="1",
    )
    if project_id is not None:
        env["TOGETHER_PROJECT_ID"] = project_id
    cmd = [_tg_path(), "--json" if json_mode else "--no-json", *args]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, (
        f"{proc.args} exited {proc.returncode}\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-5000:]}"
    )
    return proc.stdout


def json_out(proc: subprocess.CompletedProcess[str]) -> Any:
    """The JSON document a CLI printed (rich may print other lines around it)."""
    text = ok(proc)
    for i, line in enumerate(text.splitlines()):
        if line.startswith(("{", "[")):
            doc, _ = json.JSONDecoder().raw_decode("\n".join(text.splitlines()[i:]))
            return doc
    raise AssertionError(f"no JSON in the output of {proc.args}:\n{text}")


def sdk(emu: Any, key: str = KEY, strict: bool = False) -> Together:
    return Together(api_key=key, base_url=emu.url, max_retries=0, _strict_response_validation=strict)


def check_job_with_sdk(emu: Any, wid: str, case: Case, input_rows: list[dict[str, Any]] | None = None) -> None:
    raw = emu.api("GET", f"/v1/evaluation/{wid}/status", key=KEY).json()
    assert raw["status"] == "completed", raw
    data = sdk(emu).files.content(raw["results"]["result_file_id"]).read()
    check_results_and_file(case, raw["results"], parse_jsonl(data), input_rows)


def test_module_uses_together_3_1_1() -> None:
    assert together.__version__ == "3.1.1"


# --------------------------------------------------------------------------------- tg (3.1.1)


def test_tg_evals_flow_resolving_the_project_with_whoami(emu: Any, advance: Any, tmp_path: Path) -> None:
    case = CASES["classify-column"]
    case.write_jsonl(tmp_path / "local.jsonl")
    p = case.parameters
    created = json_out(
        tg(
            emu,
            tmp_path,
            "evals",
            "create",
            "--type",
            "classify",
            "--judge-model",
            JUDGE_MODEL,
            "--judge-model-source",
            "serverless",
            "--judge-system-template",
            p["judge"]["system_template"],
            "--input-data-file-path",
            "./local.jsonl",
            "--labels",
            ",".join(p["labels"]),
            "--pass-labels",
            ",".join(p["pass_labels"]),
            "--model-field",
            "response",
        )
    )
    wid = check_created(created)

    # the CLI uploaded ./local.jsonl with purpose eval before creating the job (docs/reference/sdks.md#the-clis)
    files = [x for x in sdk(emu).files.list().data if is_user_file(x.id)]
    assert len(files) == 1 and files[0].purpose == "eval" and files[0].filename == "local.jsonl"
    assert sdk(emu).files.content(files[0].id).read() == (tmp_path / "local.jsonl").read_bytes()

    listed = json_out(tg(emu, tmp_path, "evals", "list"))
    assert [j["workflow_id"] for j in listed] == [wid]
    assert json_out(tg(emu, tmp_path, "evals", "status", wid)) == {"status": "pending"}
    job = json_out(tg(emu, tmp_path, "evals", "retrieve", wid))
    assert (job["workflow_id"], job["status"], job["type"]) == (wid, "pending", "classify")
    assert job["parameters"]["input_data_file_path"] == files[0].id
    assert job["parameters"]["model_to_evaluate"] == "response"
    assert job["parameters"]["labels"] == p["labels"]

    advance(3600)
    assert json_out(tg(emu, tmp_path, "evals", "status", wid)) == {"status": "completed"}
    job = json_out(tg(emu, tmp_path, "evals", "get", wid))
    assert job["status"] == "completed" and job["results"]["result_file_id"]
    assert [
        j["workflow_id"] for j in json_out(tg(emu, tmp_path, "evals", "ls", "--status", "completed", "--limit", "5"))
    ] == [wid]
    assert json_out(tg(emu, tmp_path, "evals", "list", "--status", "pending")) == []
    check_job_with_sdk(emu, wid, case)


def test_tg_generation_score_and_compare(emu: Any, advance: Any, tmp_path: Path) -> None:
    gen = CASES["classify-generate"]
    gen.write_jsonl(tmp_path / "prompts.jsonl")
    created = json_out(
        tg(
            emu,
            tmp_path,
            "evals",
            "create",
            "--type",
            "classify",
            "--judge-model",
            JUDGE_MODEL,
            "--judge-model-source",
            "serverless",
            "--judge-system-template",
            gen.parameters["judge"]["system_template"],
            "--input-data-file-path",
            "prompts.jsonl",
            "--labels",
            "correct,incorrect",
            "--pass-labels",
            "correct",
            "--model-to-evaluate",
            GEN_MODEL_A,
            "--model-to-evaluate-source",
            "serverless",
            "--model-to-evaluate-system-template",
            "You are a helpful assistant.",
            "--model-to-evaluate-input-template",
            "{{prompt}}",
            project_id="proj-contract",
        )
    )
    # no --model-to-evaluate-temperature: the CLI sends temperature null and max_tokens 16000
    # (docs/reference/evaluations.md#what-each-client-sends)
    w_gen = check_created(created)

    score = CASES["score-column"]
    score.write_jsonl(tmp_path / "score.jsonl")
    w_score = check_created(
        json_out(
            tg(
                emu,
                tmp_path,
                "evals",
                "create",
                "--type",
                "score",
                "--judge-model",
                JUDGE_MODEL,
                "--judge-model-source",
                "serverless",
                "--judge-system-template",
                score.parameters["judge"]["system_template"],
                "--input-data-file-path",
                "score.jsonl",
                "--min-score",
                "1",
                "--max-score",
                "10",
                "--pass-threshold",
                "6",
                "--model-field",
                "answer",
                project_id="proj-contract",
            )
        )
    )

    cmp = CASES["compare-columns"]
    cmp.write_jsonl(tmp_path / "cmp.jsonl")
    w_cmp = check_created(
        json_out(
            tg(
                emu,
                tmp_path,
                "evals",
                "create",
                "--type",
                "compare",
                "--judge-model",
                JUDGE_MODEL,
                "--judge-model-source",
                "serverless",
                "--judge-system-template",
                cmp.parameters["judge"]["system_template"],
                "--input-data-file-path",
                "cmp.jsonl",
                "--model-a-field",
                "response_a",
                "--model-b-field",
                "response_b",
            )
        )
    )  # this one resolves the project through whoami

    job = json_out(tg(emu, tmp_path, "evals", "retrieve", w_gen, project_id="proj-contract"))
    mte = job["parameters"]["model_to_evaluate"]
    assert (mte["model"], mte["max_tokens"], mte["input_template"]) == (GEN_MODEL_A, 16000, "{{prompt}}")
    assert mte.get("temperature") is None
    assert (
        json_out(tg(emu, tmp_path, "evals", "retrieve", w_cmp))["parameters"]["disable_position_bias_correction"]
        is False
    )

    listed = json_out(tg(emu, tmp_path, "evals", "list", "--limit", "2"))
    assert [j["workflow_id"] for j in listed] == [w_cmp, w_score]

    advance(3600)
    for wid in (w_gen, w_score, w_cmp):
        assert json_out(tg(emu, tmp_path, "evals", "status", wid)) == {"status": "completed"}
    gen_case = Case(
        "cli-generate",
        "classify",
        gen.rows,
        {
            "judge": gen.parameters["judge"],
            "labels": ["correct", "incorrect"],
            "pass_labels": ["correct"],
            "model_to_evaluate": {"model": GEN_MODEL_A},
        },
    )
    check_job_with_sdk(emu, w_gen, gen_case)
    check_job_with_sdk(emu, w_score, score)
    check_job_with_sdk(emu, w_cmp, cmp)


def test_tg_text_output_and_whoami(emu: Any, tmp_path: Path) -> None:
    case = CASES["score-column"]
    fid = sdk(emu).files.upload(file=case.write_jsonl(tmp_path / "s.jsonl"), purpose="eval", check=False).id
    created = sdk(emu).evals.create(type="score", parameters=case.params_for(fid))  # type: ignore[arg-type]
    out = ok(tg(emu, tmp_path, "evals", "status", created.workflow_id or "", json_mode=False))
    assert out.strip() == "Status: pending"
    out = ok(
        tg(
            emu,
            tmp_path,
            "evals",
            "create",
            "--type",
            "score",
            "--judge-model",
            JUDGE_MODEL,
            "--judge-model-source",
            "serverless",
            "--judge-system-template",
            "Rate {{question}}",
            "--input-data-file-path",
            fid,
            "--min-score",
            "1",
            "--max-score",
            "10",
            "--pass-threshold",
            "6",
            "--model-field",
            "answer",
            json_mode=False,
        )
    )
    assert "Evaluation job created" in out and re.search(r"eval-[0-9a-f]{4}-\d+", out), out
    me = json_out(tg(emu, tmp_path, "whoami"))
    assert me["type"] == "project_api_key" and me["project"]["id"], me


def test_tg_reports_api_errors(emu: Any, tmp_path: Path) -> None:
    proc = tg(emu, tmp_path, "evals", "retrieve", "eval-abcd-1767225600")
    assert proc.returncode != 0, proc.stdout
    proc = tg(
        emu,
        tmp_path,
        "evals",
        "create",
        "--type",
        "classify",
        "--judge-model",
        JUDGE_MODEL,
        "--judge-model-source",
        "serverless",
        "--judge-system-template",
        "x",
        "--input-data-file-path",
        "file-00000000-0000-4000-8000-000000000000",
        "--labels",
        "only",
        "--pass-labels",
        "only",
        "--model-field",
        "response",
        project_id="proj-contract",
    )
    assert proc.returncode != 0, proc.stdout
    assert "parameters.labels" in proc.stdout + proc.stderr, proc.stdout + proc.stderr


def test_tg_with_a_v1_base_url_is_told_the_right_one(emu: Any, tmp_path: Path) -> None:
    """A /v1 base makes the 3.x CLI call /v1/v3/whoami; the 404 names the right base URL
    (docs/wire-contract.md#decision-base-url-hint)."""
    proc = tg(emu, tmp_path, "evals", "list", base_url=emu.url + "/v1")
    assert proc.returncode != 0
    assert f"base_url='{emu.url}'" in proc.stdout + proc.stderr, proc.stdout + proc.stderr[-2000:]


# ------------------------------------------------------------------------ together (1.5.35)


def together15(cli: Path, emu: Any, *args: str, key: str = KEY) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOGETHER_")}
    env.update(TOGETHER_NO_BANNER="1", PYTHONIOENCODING="utf-8", COLUMNS="200")
    return subprocess.run(
        [str(cli), "--api-key", key, "--base-url", emu.v1_url, "--max-retries", "0", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=env,
    )


def upload15(cli: Path, emu: Any, path: Path) -> str:
    f = json_out(together15(cli, emu, "files", "upload", str(path), "--purpose", "eval", "--no-check"))
    assert FILE_ID_RE.match(f["id"]) and f["purpose"] == "eval" and f["filename"] == path.name, f
    return f["id"]


def test_together15_cli_flow(emu: Any, advance: Any, together15_cli: Path, tmp_path: Path) -> None:
    case = CASES["classify-column"]
    fid = upload15(together15_cli, emu, case.write_jsonl(tmp_path / "qa.jsonl"))
    p = case.parameters
    created = json_out(
        together15(
            together15_cli,
            emu,
            "evaluation",
            "create",
            "--type",
            "classify",
            "--judge-model",
            JUDGE_MODEL,
            "--judge-model-source",
            "serverless",
            "--judge-system-template",
            p["judge"]["system_template"],
            "--input-data-file-path",
            fid,
            "--labels",
            ",".join(p["labels"]),
            "--pass-labels",
            ",".join(p["pass_labels"]),
            "--model-field",
            "response",
        )
    )
    wid = check_created(created)
    table = ok(together15(together15_cli, emu, "evaluation", "list", "--status", "pending", "--limit", "5"))
    assert re.findall(r"eval-[0-9a-f]{4}-\d+", table) == [wid], table
    assert json_out(together15(together15_cli, emu, "evaluation", "status", wid)) == {"status": "pending"}

    advance(3600)
    st = json_out(together15(together15_cli, emu, "evaluation", "status", wid))
    assert st["status"] == "completed", st
    assert_keys_sorted(st["results"])
    table = ok(together15(together15_cli, emu, "evaluation", "list"))
    assert re.findall(r"eval-[0-9a-f]{4}-\d+", table) == [wid], table
    assert ok(together15(together15_cli, emu, "evaluation", "list", "--status", "pending")).strip() == ""
    check_job_with_sdk(emu, wid, case)

    rid = st["results"]["result_file_id"]
    out_path = tmp_path / "downloaded.jsonl"
    got = json_out(together15(together15_cli, emu, "files", "retrieve-content", rid, "--output", str(out_path)))
    assert got == {"object": "local", "id": rid, "filename": str(out_path), "size": out_path.stat().st_size}
    check_results_and_file(case, st["results"], parse_jsonl(out_path.read_bytes()))
    meta = json_out(together15(together15_cli, emu, "files", "retrieve", rid))
    assert (meta["id"], meta["purpose"], meta["bytes"]) == (rid, "eval-output", out_path.stat().st_size)
    table = ok(together15(together15_cli, emu, "files", "list"))
    assert fid in table and rid in table, table
    assert json_out(together15(together15_cli, emu, "files", "delete", fid)) == {
        "id": fid,
        "object": "file",
        "deleted": True,
    }


def test_together15_cli_generation_score_compare(emu: Any, advance: Any, together15_cli: Path, tmp_path: Path) -> None:
    gen = CASES["score-generate"]
    fid = upload15(together15_cli, emu, gen.write_jsonl(tmp_path / "q.jsonl"))
    mr = gen.parameters["model_to_evaluate"]
    w_gen = check_created(
        json_out(
            together15(
                together15_cli,
                emu,
                "evaluation",
                "create",
                "--type",
                "score",
                "--judge-model",
                JUDGE_MODEL,
                "--judge-model-source",
                "serverless",
                "--judge-system-template",
                gen.parameters["judge"]["system_template"],
                "--input-data-file-path",
                fid,
                "--min-score",
                "0",
                "--max-score",
                "5",
                "--pass-threshold",
                "3.5",
                "--model-to-evaluate",
                mr["model"],
                "--model-to-evaluate-source",
                "serverless",
                "--model-to-evaluate-max-tokens",
                str(mr["max_tokens"]),
                "--model-to-evaluate-temperature",
                str(mr["temperature"]),
                "--model-to-evaluate-system-template",
                mr["system_template"],
                "--model-to-evaluate-input-template",
                mr["input_template"],
            )
        )
    )
    cmp = CASES["compare-columns"]
    fid_c = upload15(together15_cli, emu, cmp.write_jsonl(tmp_path / "c.jsonl"))
    w_cmp = check_created(
        json_out(
            together15(
                together15_cli,
                emu,
                "evaluation",
                "create",
                "--type",
                "compare",
                "--judge-model",
                JUDGE_MODEL,
                "--judge-model-source",
                "serverless",
                "--judge-system-template",
                cmp.parameters["judge"]["system_template"],
                "--input-data-file-path",
                fid_c,
                "--model-a-field",
                "response_a",
                "--model-b-field",
                "response_b",
            )
        )
    )
    advance(3600)
    for wid in (w_gen, w_cmp):
        assert json_out(together15(together15_cli, emu, "evaluation", "status", wid))["status"] == "completed"
    check_job_with_sdk(emu, w_gen, gen)
    check_job_with_sdk(emu, w_cmp, cmp)


def test_together15_cli_retrieve_crashes_on_created_at(emu: Any, together15_cli: Path, tmp_path: Path) -> None:
    """SDK defect, not an emulator one: `together evaluation retrieve` json.dumps() a model_dump()
    holding datetime objects (together 1.5.35 cli/api/evaluation.py, `retrieve`), so it fails for
    every job that has `created_at`, as real jobs do (docs/reference/evaluations.md#the-job-object). This test pins that
    behaviour."""
    case = CASES["classify-column"]
    fid = upload15(together15_cli, emu, case.write_jsonl(tmp_path / "qa.jsonl"))
    wid = check_created(sdk(emu).evals.create(type="classify", parameters=case.params_for(fid)).to_dict())  # type: ignore[arg-type]
    proc = together15(together15_cli, emu, "evaluation", "retrieve", wid)
    assert proc.returncode != 0
    assert "Object of type datetime is not JSON serializable" in proc.stderr, proc.stderr[-2000:]


def test_together15_cli_reports_not_found(emu: Any, together15_cli: Path) -> None:
    proc = together15(together15_cli, emu, "evaluation", "status", "eval-abcd-1767225600")
    assert proc.returncode != 0
    assert "InvalidRequestError" in proc.stderr and "404" in proc.stderr, proc.stderr[-2000:]


def test_together15_cli_downloads_a_large_result_file_streamed(
    emu: Any, advance: Any, together15_cli: Path, tmp_path: Path
) -> None:
    """A result file of about a megabyte leaves the server as it is generated, in pieces under its
    `Content-Length`, which the 1.5 SDK reports as the file's size; 3.x reads the same bytes."""
    case = CASES["classify-column"]
    rows = [{"prompt": f"Large question {i}: what is {i} times 3?", "response": f"It is {3 * i}."} for i in range(4000)]
    dataset = tmp_path / "large.jsonl"
    dataset.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    fid = sdk(emu).files.upload(file=dataset, purpose="eval", check=False).id
    wid = check_created(sdk(emu).evals.create(type="classify", parameters=case.params_for(fid)).to_dict())  # type: ignore[arg-type]
    advance(3600)
    results = emu.api("GET", f"/v1/evaluation/{wid}/status", key=KEY).json()["results"]
    out_path = tmp_path / "downloaded.jsonl"
    rid = results["result_file_id"]
    got = json_out(together15(together15_cli, emu, "files", "retrieve-content", rid, "--output", str(out_path)))
    assert got == {"object": "local", "id": rid, "filename": str(out_path), "size": out_path.stat().st_size}
    assert out_path.stat().st_size > 1_000_000
    assert sdk(emu).files.content(rid).read() == out_path.read_bytes()
    check_results_and_file(case, results, parse_jsonl(out_path.read_bytes()), rows)
