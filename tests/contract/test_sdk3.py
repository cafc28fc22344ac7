"""Contract: together==3.1.1 (the Stainless SDK) against a live emulator.

Clients validate responses strictly (`_strict_response_validation=True`) except where the 3.1.1
types cannot describe what the wire contract requires (the `eval-output` purpose of result files:
docs/wire-contract.md#decision-result-file).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import together
import together.lib.resources.files as sdk_files
from contract_checks import (
    CASES,
    FILE_ID_RE,
    QA_ROWS,
    SDK3_ONLY_CASES,
    Case,
    check_created,
    check_error_body,
    check_job_timestamps,
    check_params_echo,
    check_results_and_file,
    check_status_updates,
    check_wire_status_text,
    column_use_message,
    is_user_file,
    model_request,
    ns_epoch,
    parse_jsonl,
)
from contract_server import start_emulator
from together import AsyncTogether, Together

KEY_A = "tenant-a-key"
KEY_B = "tenant-b-key"
UNAUTHORIZED_BODY = {
    "error": {
        "message": "Invalid API key provided. You can find your API key at https://api.together.xyz/settings/api-keys.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
}  # docs/wire-contract.md#decision-api-keys
LIFECYCLE = ["pending", "queued", "running", "completed"]


def client(emu: Any, key: str = KEY_A, *, strict: bool = True) -> Together:
    return Together(api_key=key, base_url=emu.url, _strict_response_validation=strict, max_retries=0, timeout=30.0)


def upload(c: Together, case: Case, tmp_path: Path, name: str | None = None) -> Any:
    path = case.write_jsonl(tmp_path / (name or f"{case.name}.jsonl"))
    return c.files.upload(file=path, purpose="eval", check=False)


def create(c: Together, case: Case, file_id: str) -> str:
    created = c.evals.create(type=case.type, parameters=case.params_for(file_id))  # type: ignore[arg-type]
    return check_created({"status": created.status, "workflow_id": created.workflow_id})


def raw_json(emu: Any, path: str, key: str = KEY_A) -> Any:
    r = emu.api("GET", path, key=key)
    assert r.status_code == 200, (path, r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json"), r.headers
    return r.json()


# ----------------------------------------------------------------------------------- files


def test_files_upload_retrieve_list_content_delete(emu: Any, tmp_path: Path) -> None:
    c = client(emu)
    path = CASES["classify-column"].write_jsonl(tmp_path / "qa.jsonl")
    f = c.files.upload(file=path, purpose="eval", check=False)  # strict FileResponse
    assert FILE_ID_RE.match(f.id), f.id
    assert (f.object, f.filename, f.bytes, f.file_type, f.purpose) == (
        "file",
        "qa.jsonl",
        path.stat().st_size,
        "jsonl",
        "eval",
    )
    assert isinstance(f.created_at, int)

    csv_path = tmp_path / "qa.csv"
    csv_path.write_text("prompt,response\nWhat is 2 + 2?,4\nName a colour.,Blue\n")
    f_csv = c.files.upload(file=csv_path, purpose="eval", check=False)
    assert (f_csv.file_type, f_csv.bytes, f_csv.filename) == ("csv", csv_path.stat().st_size, "qa.csv")

    got = c.files.retrieve(f.id)
    assert (got.id, got.filename, got.bytes, got.file_type, got.purpose, got.created_at) == (
        f.id,
        f.filename,
        f.bytes,
        "jsonl",
        "eval",
        f.created_at,
    )

    listed = {x.id: x for x in c.files.list().data if is_user_file(x.id)}
    assert set(listed) == {f.id, f_csv.id}
    assert listed[f.id].purpose == "eval"

    assert c.files.content(f.id).read() == path.read_bytes()
    assert c.files.content(f_csv.id).read() == csv_path.read_bytes()

    deleted = c.files.delete(f.id)
    assert (deleted.id, deleted.deleted) == (f.id, True)
    with pytest.raises(together.NotFoundError) as ei:
        c.files.retrieve(f.id)
    check_error_body(ei.value.body)
    with pytest.raises(together.NotFoundError):
        c.files.content(f.id).read()
    with pytest.raises(together.NotFoundError):
        c.files.delete(f.id)
    assert [x.id for x in c.files.list().data if is_user_file(x.id)] == [f_csv.id]


BUILTIN_DATASETS = [
    "reasoning-benchmark-v1",
    "qa-benchmark-v1",
    "code-benchmark-v1",
    "math-benchmark-v1",
    "reading-comprehension-v1",
    "safety-benchmark-v1",
    "standard-benchmark-v1",
]


def test_a_new_key_lists_only_the_builtin_datasets(emu: Any, tmp_path: Path) -> None:
    """A tenant starts with no file of its own: GET /v1/files lists only the read-only built-in
    datasets every key shares (issue 5, ids = their names), and nothing another key uploaded
    (docs/wire-contract.md#decision-tenant-isolation)."""
    (tmp_path / "other.jsonl").write_bytes(b'{"prompt": "p"}\n')
    client(emu).files.upload(file=tmp_path / "other.jsonl", purpose="eval", check=False)  # key A's own
    assert [f.id for f in client(emu, "brand-new-key").files.list().data] == BUILTIN_DATASETS
    assert [f["id"] for f in raw_json(emu, "/v1/files", key="another-new-key")["data"]] == BUILTIN_DATASETS


def test_files_unknown_id_is_404(emu: Any) -> None:
    c = client(emu)
    with pytest.raises(together.NotFoundError) as ei:
        c.files.retrieve("file-00000000-0000-4000-8000-000000000000")
    check_error_body(ei.value.body)


# ------------------------------------------------------------------------------ job lifecycle


ALL_CASES = {**CASES, **SDK3_ONLY_CASES}


@pytest.mark.parametrize("case_name", list(ALL_CASES))
def test_job_flow_results_and_result_file(emu: Any, advance: Any, tmp_path: Path, case_name: str) -> None:
    case = ALL_CASES[case_name]
    c = client(emu)
    f = upload(c, case, tmp_path)
    params = case.params_for(f.id)
    wid = create(c, case, f.id)

    job = c.evals.retrieve(wid)
    assert (job.workflow_id, job.type, job.status, job.results) == (wid, case.type, "pending", None)
    check_params_echo(job.parameters, params)
    assert [u.status for u in job.status_updates or []] == ["pending"]
    st = c.evals.status(wid)
    assert (st.status, st.results) == ("pending", None)
    raw = raw_json(emu, f"/v1/evaluation/{wid}")
    check_job_timestamps(raw)
    check_status_updates(raw["status_updates"], ["pending"])

    advance(3600)

    resp = c.evals.with_raw_response.status(wid)
    raw_text = resp.http_response.text
    check_wire_status_text(raw_text)
    st = resp.parse()
    assert st.status == "completed", raw_text
    results = json.loads(raw_text)["results"]
    # what the 3.1.1 objects expose (docs/reference/results.md#how-the-sdks-expose-results): attribute access
    # works whichever union variant is picked
    assert st.results is not None and st.results.result_file_id == results["result_file_id"]
    if case.type == "classify":
        assert st.results.label_counts == results["label_counts"]
        assert st.results.pass_percentage == results["pass_percentage"]
    elif case.type == "score":
        agg = st.results.aggregated_scores
        assert (agg.mean_score, agg.pass_percentage, agg.std_score) == tuple(
            results["aggregated_scores"][k] for k in ("mean_score", "pass_percentage", "std_score")
        )
    else:
        assert (st.results.a_wins, st.results.b_wins, st.results.ties) == (  # type: ignore[union-attr]
            results["A_wins"],
            results["B_wins"],
            results["Ties"],
        )

    job = c.evals.retrieve(wid)
    assert job.status == "completed" and job.results is not None
    assert job.results.result_file_id == results["result_file_id"]
    raw = raw_json(emu, f"/v1/evaluation/{wid}")
    assert raw["results"] == results
    check_job_timestamps(raw)
    check_status_updates(raw["status_updates"], LIFECYCLE)
    assert raw["updated_at"][:26] == raw["status_updates"][-1]["timestamp"][:26], (
        "updated_at should be the completion time"
    )
    check_params_echo(raw["parameters"], params)

    data = c.files.content(results["result_file_id"]).read()
    out_rows = parse_jsonl(data)
    check_results_and_file(case, results, out_rows)

    # the result file is an eval-output file of the job owner (docs/wire-contract.md#decision-result-file);
    # 3.1.1's FilePurpose literal lacks eval-output, so read its metadata with a non-strict client.
    rf = client(emu, strict=False).files.retrieve(results["result_file_id"])
    assert (rf.id, rf.purpose, rf.file_type, rf.bytes, rf.object) == (
        results["result_file_id"],
        "eval-output",
        "jsonl",
        len(data),
        "file",
    )


def test_lifecycle_follows_the_clock(emu: Any, advance: Any, tmp_path: Path) -> None:
    """pending ~1 s, queued ~2 s, running ~3 s + per-row cost; a frozen clock freezes the job."""
    case = CASES["classify-column"]
    c = client(emu)
    wid = create(c, case, upload(c, case, tmp_path).id)
    assert c.evals.status(wid).status == "pending"
    advance(0.5)
    assert c.evals.status(wid).status == "pending"
    advance(1.0)  # t = 1.5
    assert c.evals.status(wid).status == "queued"
    advance(2.0)  # t = 3.5
    st = c.evals.status(wid)
    assert (st.status, st.results) == ("running", None)
    raw = raw_json(emu, f"/v1/evaluation/{wid}")
    check_status_updates(raw["status_updates"], ["pending", "queued", "running"])
    advance(600)
    assert c.evals.status(wid).status == "completed"
    raw = raw_json(emu, f"/v1/evaluation/{wid}")
    check_status_updates(raw["status_updates"], LIFECYCLE)
    # transitions are stamped at their planned times (not when they were observed, 600 s later)
    t = [ns_epoch(u["timestamp"]) for u in raw["status_updates"]]
    assert abs((t[1] - t[0]) - 1.0) < 0.01 and abs((t[2] - t[1]) - 2.0) < 0.01, raw["status_updates"]
    assert 3.0 <= t[3] - t[2] < 4.0, raw["status_updates"]


def test_list_newest_first_filters_and_limit(emu: Any, advance: Any, tmp_path: Path) -> None:
    case = CASES["classify-column"]
    c = client(emu)
    fid = upload(c, case, tmp_path).id
    w1 = create(c, case, fid)
    advance(3600)
    w2 = create(c, case, fid)
    advance(0.25)
    w3 = create(c, case, fid)

    jobs = c.evals.list()
    assert [j.workflow_id for j in jobs] == [w3, w2, w1], "GET /v1/evaluation is newest first"
    assert [j.status for j in jobs] == ["pending", "pending", "completed"]
    assert all(j.type == "classify" and j.parameters for j in jobs)
    assert [j.workflow_id for j in c.evals.list(limit=2)] == [w3, w2]
    assert [j.workflow_id for j in c.evals.list(status="completed")] == [w1]
    assert [j.workflow_id for j in c.evals.list(status="pending", limit=1)] == [w3]
    assert [j.workflow_id for j in c.evals.list(status="pending", limit=100)] == [w3, w2]
    assert c.evals.list(status="failed") == []  # not a status: matches nothing
    assert c.evals.list(status="running") == []


def test_list_orders_jobs_created_at_the_same_instant(emu: Any, tmp_path: Path) -> None:
    """With a frozen clock several jobs share created_at; newest first still means last created."""
    case = CASES["score-column"]
    c = client(emu)
    fid = upload(c, case, tmp_path).id
    ids = [create(c, case, fid) for _ in range(4)]
    assert [j.workflow_id for j in c.evals.list()] == ids[::-1]


def test_list_default_limit_is_10(emu: Any, tmp_path: Path) -> None:
    case = CASES["score-column"]
    c = client(emu)
    fid = upload(c, case, tmp_path).id
    ids = [create(c, case, fid) for _ in range(12)]
    assert [j.workflow_id for j in c.evals.list()] == ids[::-1][:10]
    assert len(c.evals.list(limit=100)) == 12


@pytest.mark.parametrize("limit", [0, -1])
def test_list_rejects_bad_limit(emu: Any, limit: int) -> None:
    with pytest.raises(together.BadRequestError) as ei:
        client(emu).evals.list(limit=limit)
    check_error_body(ei.value.body, param="limit")
    for path in ("/v1/evaluation?limit=ten", "/v1/evaluations?limit=2.5"):
        r = emu.api("GET", path, key=KEY_A)
        assert r.status_code == 400 and r.headers["content-type"].startswith("application/json"), r.text
        check_error_body(r.json(), param="limit")


def test_list_limit_is_capped_at_100(emu: Any, tmp_path: Path) -> None:
    case = CASES["score-column"]
    c = client(emu)
    fid = upload(c, case, tmp_path).id
    for _ in range(101):
        create(c, case, fid)
    assert len(c.evals.list(limit=500)) == 100  # a larger value returns at most 100 jobs
    assert len(raw_json(emu, "/v1/evaluations?limit=101&userId=someone")) == 100


def test_result_file_listed_with_purpose_eval_output(emu: Any, advance: Any, tmp_path: Path) -> None:
    case = CASES["compare-columns"]
    strict = client(emu)
    fid = upload(strict, case, tmp_path).id
    wid = create(strict, case, fid)
    assert [x.id for x in strict.files.list().data if is_user_file(x.id)] == [
        fid
    ]  # strict list works before completion
    advance(3600)
    rid = strict.evals.status(wid).results.result_file_id  # type: ignore[union-attr]
    # result files have purpose eval-output, which the strict 3.1.1 FilePurpose literal cannot parse
    with pytest.raises(together.APIResponseValidationError):
        strict.files.list()
    files = {x.id: x for x in client(emu, strict=False).files.list().data if is_user_file(x.id)}
    assert set(files) == {fid, rid}
    assert (files[fid].purpose, files[rid].purpose) == ("eval", "eval-output")
    assert files[rid].file_type == "jsonl"


# ---------------------------------------------------------------------------------- failures


def test_column_use_rule_fails_the_job_with_the_documented_message(emu: Any, advance: Any, tmp_path: Path) -> None:
    rows = [dict(r, category="misc", id=str(i)) for i, r in enumerate(QA_ROWS)]
    case = Case("classify-unused", "classify", rows, CASES["classify-column"].parameters)
    c = client(emu)
    wid = create(c, case, upload(c, case, tmp_path).id)  # dataset problems are not create errors
    advance(3600)
    job = c.evals.retrieve(wid)
    assert job.status == "user_error"
    raw = raw_json(emu, f"/v1/evaluation/{wid}/status")
    assert raw == {"status": "user_error", "results": {"error": column_use_message(["category", "id"])}}
    assert [j.workflow_id for j in c.evals.list(status="user_error")] == [wid]
    raw_job = raw_json(emu, f"/v1/evaluation/{wid}")
    assert [u["status"] for u in raw_job["status_updates"]] == ["pending", "queued", "running", "user_error"]


@pytest.mark.parametrize(
    "problem", ["missing-model-column", "missing-template-column", "unknown-file", "deleted-file", "not-jsonl"]
)
def test_dataset_problems_end_in_user_error(emu: Any, advance: Any, tmp_path: Path, problem: str) -> None:
    c = client(emu)
    base = CASES["classify-column"]
    params = base.params_for("")
    f = upload(c, base, tmp_path)
    params["input_data_file_path"] = f.id
    needle = None
    if problem == "missing-model-column":
        params["model_to_evaluate"] = "answer_text"
        params["judge"]["system_template"] = "Grade {{prompt}} and {{response}}"
        needle = "answer_text"
    elif problem == "missing-template-column":
        params["judge"]["system_template"] = "Grade {{prompt}} given {{reference}}"
        needle = "reference"
    elif problem == "unknown-file":
        params["input_data_file_path"] = "file-00000000-0000-4000-8000-000000000000"
        needle = params["input_data_file_path"]
    elif problem == "deleted-file":
        c.files.delete(f.id)
        needle = f.id
    else:
        bad = tmp_path / "broken.jsonl"
        bad.write_text('{"prompt": "a", "response": "b"}\nthis is not json\n')
        params["input_data_file_path"] = c.files.upload(file=bad, purpose="eval", check=False).id
    created = c.evals.create(type="classify", parameters=params)  # type: ignore[arg-type]
    wid = check_created({"status": created.status, "workflow_id": created.workflow_id})
    advance(3600)
    raw = raw_json(emu, f"/v1/evaluation/{wid}/status")
    assert raw["status"] == "user_error", raw
    assert list(raw["results"]) == ["error"] and isinstance(raw["results"]["error"], str), raw
    if needle:
        assert needle in raw["results"]["error"], raw


# ------------------------------------------------------------------------------------ errors


def test_missing_authorization_header_raw_http(emu: Any) -> None:
    for method, path, body in [
        ("GET", "/v1/evaluation", None),
        ("GET", "/v1/evaluations", None),
        ("POST", "/v1/evaluation", {"type": "classify", "parameters": {}}),
        ("GET", "/v1/evaluation/eval-0000-1767225600/status", None),
        ("GET", "/v1/files", None),
        ("POST", "/v1/files", None),
        ("GET", "/v3/whoami", None),
    ]:
        r = emu.api(method, path, key=None, json=body)
        assert r.status_code == 401, (method, path, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/json")
        assert r.json() == UNAUTHORIZED_BODY, (method, path, r.text)
    r = emu.http.get("/v1/evaluation", headers={"Authorization": "Bearer"})  # empty bearer key
    assert (r.status_code, r.json()) == (401, UNAUTHORIZED_BODY)


def test_sdk_without_key_gets_authentication_error(emu: Any, tmp_path: Path) -> None:
    c = client(emu)
    # the SDK cannot send an empty key (h11 rejects "Bearer "); drop the header or send a bare "Bearer"
    with pytest.raises(together.AuthenticationError) as ei:
        c.evals.list(extra_headers={"Authorization": together.omit})
    assert ei.value.status_code == 401 and ei.value.body == UNAUTHORIZED_BODY
    with pytest.raises(together.AuthenticationError) as ei:
        c.evals.retrieve("eval-0000-1767225600", extra_headers={"Authorization": "Bearer"})
    check_error_body(ei.value.body, code="invalid_api_key")
    empty = Together(api_key="unused", base_url=emu.url, default_headers={"Authorization": "Bearer"}, max_retries=0)
    path = CASES["classify-column"].write_jsonl(tmp_path / "x.jsonl")
    with pytest.raises(together.AuthenticationError):
        empty.files.upload(file=path, purpose="eval", check=False)


def test_unknown_job_is_not_found(emu: Any) -> None:
    c = client(emu)
    for call in (c.evals.retrieve, c.evals.status):
        with pytest.raises(together.NotFoundError) as ei:
            call("eval-abcd-1767225600")
        check_error_body(ei.value.body)


INVALID_CREATES: list[tuple[str, str, Any, Any]] = [
    # (id, type, mutation of a valid parameters dict, expected param)
    ("one-label", "classify", lambda p: p.update(labels=["correct"], pass_labels=["correct"]), "parameters.labels"),
    ("pass-labels-not-subset", "classify", lambda p: p.update(pass_labels=["great"]), "parameters.pass_labels"),
    ("pass-labels-empty", "classify", lambda p: p.update(pass_labels=[]), "parameters.pass_labels"),
    ("labels-not-array", "classify", lambda p: p.update(labels="correct,incorrect"), "parameters.labels"),
    ("missing-labels", "classify", lambda p: p.pop("labels"), "parameters.labels"),
    ("missing-judge", "classify", lambda p: p.pop("judge"), "parameters.judge"),
    ("missing-file", "classify", lambda p: p.pop("input_data_file_path"), "parameters.input_data_file_path"),
    (
        "judge-missing-template",
        "classify",
        lambda p: p["judge"].pop("system_template"),
        "parameters.judge.system_template",
    ),
    (
        "judge-bad-source",
        "classify",
        lambda p: p["judge"].update(model_source="cloud"),
        "parameters.judge.model_source",
    ),
    (
        "judge-external-no-token",
        "classify",
        lambda p: p["judge"].update(model_source="external", model="openai/gpt-5"),
        "parameters.judge.external_api_token",
    ),
    ("judge-temperature", "classify", lambda p: p["judge"].update(temperature=3), "parameters.judge.temperature"),
    ("judge-max-tokens", "classify", lambda p: p["judge"].update(max_tokens=0), "parameters.judge.max_tokens"),
    (
        "judge-num-workers-float",
        "classify",
        lambda p: p["judge"].update(num_workers=2.5),
        "parameters.judge.num_workers",
    ),
    ("score-key-on-classify", "classify", lambda p: p.update(min_score=1), "parameters.min_score"),
    ("model-to-evaluate-number", "classify", lambda p: p.update(model_to_evaluate=5), "parameters.model_to_evaluate"),
    (
        "model-request-missing-input-template",
        "classify",
        lambda p: p.update(
            model_to_evaluate={k: v for k, v in model_request("m", "{{prompt}}").items() if k != "input_template"}
        ),
        "parameters.model_to_evaluate.input_template",
    ),
    (
        "model-request-temperature",
        "classify",
        lambda p: p.update(model_to_evaluate=model_request("m", "{{prompt}}", temperature=2.5)),
        "parameters.model_to_evaluate.temperature",
    ),
    (
        "min-equals-max",
        "score",
        lambda p: p.update(min_score=5, max_score=5, pass_threshold=5),
        ("parameters.min_score", "parameters.max_score"),
    ),
    (
        "min-above-max",
        "score",
        lambda p: p.update(min_score=10, max_score=1, pass_threshold=5),
        ("parameters.min_score", "parameters.max_score"),
    ),
    ("threshold-outside", "score", lambda p: p.update(pass_threshold=11), "parameters.pass_threshold"),
    ("min-score-bool", "score", lambda p: p.update(min_score=True), "parameters.min_score"),
    ("missing-max-score", "score", lambda p: p.pop("max_score"), "parameters.max_score"),
    ("labels-on-compare", "compare", lambda p: p.update(labels=["a", "b"]), "parameters.labels"),
    (
        "model-to-evaluate-on-compare",
        "compare",
        lambda p: p.update(model_to_evaluate="response_a"),
        "parameters.model_to_evaluate",
    ),
    (
        "bias-flag-not-bool",
        "compare",
        lambda p: p.update(disable_position_bias_correction="yes"),
        "parameters.disable_position_bias_correction",
    ),
]


@pytest.mark.parametrize("type_,mutate,param", [x[1:] for x in INVALID_CREATES], ids=[x[0] for x in INVALID_CREATES])
def test_invalid_create_is_bad_request_naming_the_field(emu: Any, type_: str, mutate: Any, param: Any) -> None:
    base = {"classify": "classify-column", "score": "score-column", "compare": "compare-columns"}[type_]
    params = CASES[base].params_for("file-00000000-0000-4000-8000-000000000000")
    mutate(params)
    with pytest.raises(together.BadRequestError) as ei:
        client(emu).evals.create(type=type_, parameters=params)  # type: ignore[arg-type]
    check_error_body(ei.value.body, param=param)
    assert client(emu).evals.list() == []  # nothing was created


def test_first_structural_problem_is_reported(emu: Any) -> None:
    """Checks run in a fixed order (required keys before value rules) and the first failure wins
    (docs/wire-contract.md#decision-create-validation)."""
    params = CASES["classify-column"].params_for("file-00000000-0000-4000-8000-000000000000")
    params.pop("judge")
    params["labels"] = ["only"]
    r = emu.api("POST", "/v1/evaluation", key=KEY_A, json={"type": "classify", "parameters": params})
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/json"), r.text
    check_error_body(r.json(), param="parameters.judge")
    r = emu.api("POST", "/v1/evaluation", key=KEY_A, json={"parameters": params})
    check_error_body(r.json(), param="type")
    r = emu.api("POST", "/v1/evaluation", key=KEY_A, json={"type": "classify"})
    check_error_body(r.json(), param="parameters")


def test_body_without_type_is_bad_request(emu: Any) -> None:
    """A create body without `type` is a 400 naming `type`. (A body carrying `evaluation_type`
    instead is the emulator-only convenience API of issue 5, tested in test_sdk3_builtin.py.)"""
    for body in (
        {"model": "meta-llama/Llama-3.2-3B-Instruct-Turbo", "dataset": "qa-benchmark-v1"},
        {"type": None, "parameters": {"judge": {}}},
        {},
    ):
        r = emu.api("POST", "/v1/evaluation", key=KEY_A, json=body)
        assert r.status_code == 400, (body, r.status_code, r.text)
        check_error_body(r.json(), param="type")
    assert client(emu).evals.list() == []


def test_invalid_type_is_bad_request(emu: Any) -> None:
    params = CASES["classify-column"].params_for("file-00000000-0000-4000-8000-000000000000")
    with pytest.raises(together.BadRequestError) as ei:
        client(emu).evals.create(type="rank", parameters=params)  # type: ignore[arg-type]
    check_error_body(ei.value.body, param="type")


def test_nulls_count_as_absent(emu: Any, tmp_path: Path) -> None:
    """`null` is 'absent' for every optional field (what the 1.5.35 client and 3.1.1 CLI send;
    docs/wire-contract.md#decision-null-means-absent)."""
    c = client(emu)
    fid = upload(c, CASES["classify-column"], tmp_path).id
    params: dict[str, Any] = CASES["classify-column"].params_for(fid)
    params["judge"].update(
        external_api_token=None, external_base_url=None, max_tokens=None, temperature=None, num_workers=None
    )
    params.update(model_to_evaluate=None, min_score=None, model_a=None, colour="blue")  # unknown keys ignored
    created = c.evals.create(type="classify", parameters=params)  # type: ignore[arg-type]
    check_created({"status": created.status, "workflow_id": created.workflow_id})
    cmp = CASES["compare-generate"].params_for(fid)
    cmp["model_a"]["temperature"] = None  # what `tg evals create` sends without a temperature flag
    cmp["model_b"].pop("max_tokens")
    cmp.update(disable_position_bias_correction=None, labels=None)
    created = c.evals.create(type="compare", parameters=cmp)  # type: ignore[arg-type]
    check_created({"status": created.status, "workflow_id": created.workflow_id})


# ------------------------------------------------------------------------------------ tenants


def test_tenants_are_isolated(emu: Any, advance: Any, tmp_path: Path) -> None:
    case = CASES["classify-column"]
    a, b = client(emu, KEY_A), client(emu, KEY_B)
    fa = upload(a, case, tmp_path)
    wid = create(a, case, fa.id)
    advance(3600)
    rid = a.evals.status(wid).results.result_file_id  # type: ignore[union-attr]

    for call in (b.evals.retrieve, b.evals.status):
        with pytest.raises(together.NotFoundError) as ei:
            call(wid)
        check_error_body(ei.value.body)
    assert b.evals.list() == []
    assert [x.id for x in b.files.list().data if is_user_file(x.id)] == []
    for fid in (fa.id, rid):
        with pytest.raises(together.NotFoundError):
            b.files.retrieve(fid)
        with pytest.raises(together.NotFoundError):
            b.files.content(fid).read()
        with pytest.raises(together.NotFoundError):
            b.files.delete(fid)
    # B may name A's file in a create, but the job cannot read it (same message as an unknown file)
    wid_b = create(b, case, fa.id)
    advance(3600)
    st_b = raw_json(emu, f"/v1/evaluation/{wid_b}/status", key=KEY_B)
    assert st_b["status"] == "user_error", st_b
    # ... and the message is the one an unknown file gets: no tenant information leaks
    unknown = "file-00000000-0000-4000-8000-000000000000"
    wid_u = create(b, case, unknown)
    advance(3600)
    st_u = raw_json(emu, f"/v1/evaluation/{wid_u}/status", key=KEY_B)
    assert st_b["results"]["error"].replace(fa.id, "<id>") == st_u["results"]["error"].replace(unknown, "<id>")
    # A is untouched
    assert a.evals.retrieve(wid).status == "completed"
    assert [j.workflow_id for j in a.evals.list()] == [wid]
    assert a.files.retrieve(fa.id).id == fa.id


# ----------------------------------------------------------------------------- async client


@pytest.mark.anyio
async def test_async_client_flow(emu: Any, tmp_path: Path) -> None:
    case = CASES["compare-columns"]
    path = case.write_jsonl(tmp_path / "cmp.jsonl")
    async with AsyncTogether(
        api_key=KEY_A, base_url=emu.url, _strict_response_validation=True, max_retries=0, timeout=30.0
    ) as c:
        f = await c.files.upload(file=path, purpose="eval", check=False)
        assert (f.purpose, f.file_type, f.bytes) == ("eval", "jsonl", path.stat().st_size)
        created = await c.evals.create(type="compare", parameters=case.params_for(f.id))  # type: ignore[arg-type]
        wid = check_created({"status": created.status, "workflow_id": created.workflow_id})
        job = await c.evals.retrieve(wid)
        assert (job.workflow_id, job.status, job.type) == (wid, "pending", "compare")
        assert (await c.evals.status(wid)).status == "pending"
        assert [j.workflow_id for j in await c.evals.list(status="pending", limit=5)] == [wid]

        async with httpx.AsyncClient(base_url=emu.url) as h:
            r = await h.post("/_emulator/clock/advance", json={"seconds": 3600})
            assert r.status_code == 200, r.text

        st = await c.evals.status(wid)
        assert st.status == "completed" and st.results is not None
        results = (await c.evals.with_raw_response.status(wid)).http_response.json()["results"]
        data = await (await c.files.content(results["result_file_id"])).read()
        check_results_and_file(case, results, parse_jsonl(data))
        with pytest.raises(together.NotFoundError):
            await c.evals.retrieve("eval-ffff-1767225600")


# ------------------------------------------------------------------------- base URL, whoami


def test_v1_in_3x_base_url_gets_a_helpful_404(emu: Any) -> None:
    c = Together(api_key=KEY_A, base_url=emu.url + "/v1", max_retries=0)
    with pytest.raises(together.NotFoundError) as ei:
        c.evals.list()
    err = check_error_body(ei.value.body)
    assert "/v1/v1/evaluation" in err["message"], err
    assert f"base_url='{emu.url}'" in err["message"], err  # names the right 3.x base URL


def test_unknown_paths_are_404_with_hints_for_base_url_mistakes(emu: Any) -> None:
    """Canonical routes only; a path that looks like a base-URL mistake names both base URLs
    (docs/wire-contract.md#decision-canonical-routes, docs/wire-contract.md#decision-base-url-hint)."""
    for path, hinted in [
        ("/v1/v1/evaluation", True),
        ("/evaluations", True),
        ("/files", True),
        ("/evaluation/eval-abcd-1767225600/status", True),
        ("/v1/v3/whoami", True),
        ("/v1/nothing-here", False),
    ]:
        r = emu.api("GET", path, key=KEY_A)
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/json"), (path, r.text)
        err = check_error_body(r.json())
        assert err["type"] == "invalid_request_error"
        has_hint = f"base_url='{emu.url}'" in err["message"] and f"base_url='{emu.url}/v1'" in err["message"]
        assert has_hint == hinted, (path, err)


def test_whoami_for_the_3x_cli(emu: Any) -> None:
    me = client(emu).whoami()  # strict: a discriminated union on `type`
    assert me.type == "project_api_key"
    again = client(emu).whoami()
    other = client(emu, KEY_B).whoami()
    assert me.project.id == again.project.id and me.organization.id == again.organization.id  # type: ignore[union-attr]
    assert me.project.id != other.project.id  # type: ignore[union-attr]
    assert all(
        isinstance(x, str) and x
        for x in (
            me.api_key.id,
            me.project.name,
            me.project.slug,  # type: ignore[union-attr]
            me.organization.name,
        )
    )  # type: ignore[union-attr]


# ----------------------------------------------------------------------- more dataset shapes


def test_csv_dataset_job(emu: Any, advance: Any, tmp_path: Path) -> None:
    """CSV input (docs/reference/results.md#input-datasets): parsed with quoting, result rows carry the CSV values
    in input order."""
    case = CASES["classify-column"]
    path = tmp_path / "qa.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["prompt", "response"])
        writer.writeheader()
        writer.writerows(QA_ROWS)  # one response contains a comma, so it gets quoted
    c = client(emu)
    f = c.files.upload(file=path, purpose="eval", check=False)
    assert f.file_type == "csv"
    wid = create(c, case, f.id)
    advance(3600)
    results = raw_json(emu, f"/v1/evaluation/{wid}/status")["results"]
    rows = parse_jsonl(c.files.content(results["result_file_id"]).read())
    check_results_and_file(case, results, rows, QA_ROWS)


def test_multipart_upload_path_of_the_sdk(
    emu: Any, advance: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDK's > 5 GiB multipart path (docs/reference/files.md#multipart-upload), exercised with tiny parts."""
    monkeypatch.setattr(sdk_files, "MULTIPART_THRESHOLD_GB", 0.0)
    monkeypatch.setattr(sdk_files, "TARGET_PART_SIZE_MB", 200 / 2**20)
    monkeypatch.setattr(sdk_files, "MIN_PART_SIZE_MB", 100 / 2**20)
    case = CASES["classify-column"]
    path = case.write_jsonl(tmp_path / "multi.jsonl")
    assert path.stat().st_size > 400  # at least three parts
    c = client(emu)
    f = c.files.upload(file=path, purpose="eval", check=False)
    assert (f.filename, f.bytes, f.file_type, f.purpose) == ("multi.jsonl", path.stat().st_size, "jsonl", "eval")
    assert c.files.content(f.id).read() == path.read_bytes()
    wid = create(c, case, f.id)
    advance(3600)
    assert c.evals.status(wid).status == "completed"


# ------------------------------------------------------------------- model list, update hook


SERVERLESS_2026 = {
    "LiquidAI/LFM2-24B-A2B",
    "MiniMaxAI/MiniMax-M2.7",
    "Qwen/Qwen3-235B-A22B-Instruct-2507-tput",
    "Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8",
    "Qwen/Qwen3-Coder-Next-FP8",
    "Qwen/Qwen3.5-397B-A17B",
    "Qwen/Qwen3.5-9B",
    "Qwen/Qwen3.6-Plus",
    "deepcogito/cogito-v2-1-671b",
    "deepseek-ai/DeepSeek-R1",
    "deepseek-ai/DeepSeek-V3.1",
    "deepseek-ai/DeepSeek-V4-Pro",
    "essentialai/rnj-1-instruct",
    "google/gemma-3n-E4B-it",
    "google/gemma-4-31B-it",
    "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    "moonshotai/Kimi-K2.5",
    "moonshotai/Kimi-K2.6",
    "openai/gpt-oss-120b",
    "openai/gpt-oss-20b",
    "zai-org/GLM-5",
    "zai-org/GLM-5.1",
}  # docs/reference/evaluations.md#model-list


def test_model_list_routes(emu: Any) -> None:
    for path in ("/v1/evaluation/model-list", "/v1/evaluations/model-list"):
        body = raw_json(emu, path)
        assert list(body) == ["model_list"] and set(body["model_list"]) == SERVERLESS_2026, body
        assert len(body["model_list"]) == 22
    assert set(raw_json(emu, "/v1/evaluation/model-list?model_source=serverless")["model_list"]) == SERVERLESS_2026
    assert raw_json(emu, "/v1/evaluation/model-list?model_source=dedicated") == {"model_list": []}
    r = emu.api("GET", "/v1/evaluation/model-list", key=None)
    assert (r.status_code, r.json()) == (401, UNAUTHORIZED_BODY)


def test_update_hook_sets_a_terminal_status(emu: Any, advance: Any, tmp_path: Path) -> None:
    case = CASES["classify-column"]
    c = client(emu)
    wid = create(c, case, upload(c, case, tmp_path).id)
    r = emu.api("POST", f"/v1/evaluation/{wid}/update", key=KEY_B, json={"status": "error", "error": "x"})
    assert r.status_code == 404, r.text  # another tenant's job (docs/wire-contract.md#decision-tenant-isolation)
    check_error_body(r.json())
    r = emu.api("POST", f"/v1/evaluation/{wid}/update", json={"status": "failed"}, key=KEY_A)
    assert r.status_code == 400, r.text
    check_error_body(r.json(), param="status")
    r = emu.api(
        "POST", f"/v1/evaluation/{wid}/update", key=KEY_A, json={"status": "error", "error": "judge endpoint exploded"}
    )
    assert (r.status_code, r.json()) == (200, {"workflow_id": wid, "status": "error"}), r.text
    assert raw_json(emu, f"/v1/evaluation/{wid}/status") == {
        "status": "error",
        "results": {"error": "judge endpoint exploded"},
    }
    advance(3600)  # a terminal job no longer progresses
    job = c.evals.retrieve(wid)
    assert job.status == "error"
    raw = raw_json(emu, f"/v1/evaluation/{wid}")
    assert raw["status_updates"][-1]["status"] == "error"
    assert raw["status_updates"][-1]["message"] == "Job status updated"
    assert [j.workflow_id for j in c.evals.list(status="error")] == [wid]


# ------------------------------------------------------------------------------ seeded ids


def _id_sequence(server: Any, path: Path) -> list[str]:
    c = Together(api_key=KEY_A, base_url=server.url, max_retries=0)
    case = CASES["compare-columns"]
    ids = [c.files.upload(file=path, purpose="eval", check=False).id]
    ids.append(c.evals.create(type="compare", parameters=case.params_for(ids[0])).workflow_id or "")  # type: ignore[arg-type]
    server.advance(3600)
    ids.append(c.evals.status(ids[1]).results.result_file_id)  # type: ignore[union-attr]
    ids.append(c.evals.create(type="compare", parameters=case.params_for(ids[0])).workflow_id or "")  # type: ignore[arg-type]
    return ids


def test_same_seed_and_requests_give_the_same_ids(emu: Any, tmp_path: Path) -> None:
    path = CASES["compare-columns"].write_jsonl(tmp_path / "cmp.jsonl")
    first = _id_sequence(emu, path)
    assert first[1] != first[3]
    emu.reset()
    assert _id_sequence(emu, path) == first  # reset restarts ids and clock from the seed
    with start_emulator(tmp_path / "fresh.log") as fresh:
        assert _id_sequence(fresh, path) == first
    with start_emulator(tmp_path / "seed7.log", "--seed", "7") as other_seed:
        other = _id_sequence(other_seed, path)
    assert all(a != b for a, b in zip(other, first, strict=False)), (other, first)


# --------------------------------------------------------- strict models, column-use rule switched off


def test_server_options_strict_models_and_column_rule_off(tmp_path: Path) -> None:
    rows = [dict(r, category="misc") for r in QA_ROWS]
    base = CASES["classify-column"]
    with start_emulator(tmp_path / "opts.log", "--column-use-rule", "off", "--strict-models", "on") as srv:
        c = Together(api_key=KEY_A, base_url=srv.url, max_retries=0)
        fid = upload(c, Case("with-category", "classify", rows, base.parameters), tmp_path).id
        ok = create(c, base, fid)  # allowlisted judge; `category` unused but the rule is off
        off_list = base.params_for(fid)
        off_list["judge"]["model"] = "acme/not-a-listed-model"
        bad_judge = c.evals.create(type="classify", parameters=off_list).workflow_id  # type: ignore[arg-type]
        dedicated = base.params_for(fid)
        dedicated["judge"].update(model="ep_abc123", model_source="dedicated")
        ded = c.evals.create(type="classify", parameters=dedicated).workflow_id  # type: ignore[arg-type]
        gen = base.params_for(fid)
        gen["model_to_evaluate"] = model_request("acme/unlisted-generator", "{{prompt}} {{response}}")
        bad_gen = c.evals.create(type="classify", parameters=gen).workflow_id  # type: ignore[arg-type]
        srv.advance(3600)

        st = srv.api("GET", f"/v1/evaluation/{ok}/status", key=KEY_A).json()
        assert st["status"] == "completed", st
        out = parse_jsonl(c.files.content(st["results"]["result_file_id"]).read())
        check_results_and_file(base, st["results"], out, rows)  # unused columns are copied through
        for wid, model in ((bad_judge, "acme/not-a-listed-model"), (bad_gen, "acme/unlisted-generator")):
            st = srv.api("GET", f"/v1/evaluation/{wid}/status", key=KEY_A).json()
            assert st["status"] == "user_error", st
            assert model in st["results"]["error"] and "/v1/evaluation/model-list" in st["results"]["error"], st
        assert srv.api("GET", f"/v1/evaluation/{ded}/status", key=KEY_A).json()["status"] == "completed"
