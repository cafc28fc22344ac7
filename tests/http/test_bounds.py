"""Every input has a bound, and every bound is a 4xx in the real error shape: body size (413), JSON
nesting, array and string lengths, finite numbers that are not booleans, clock moves the clock can
make, strictly parsed query values. None of them can break the emulator for later requests."""

from __future__ import annotations

import json
from typing import Any

import pytest
from together_eval_emulator import Emulator

from tests.support import JUDGE, Api, Reply, classify_params, jsonl, make_face, qa_rows

FACES = ["core", "server"]


def error_of(reply: Reply, status: int = 400) -> dict[str, Any]:
    """The error of a reply in the real shape, after checking its status."""
    assert reply.status == status, (reply.status, reply.body)
    assert reply.headers["content-type"] == "application/json"
    error = reply.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error  # type: ignore[no-any-return]


def raw(api: Api, method: str, path: str, body: bytes, key: str | None = "default") -> Reply:
    return api.request(method, path, body=body, headers={"content-type": "application/json"}, key=key)


def still_healthy(api: Api) -> None:
    """The emulator answers as before: control plane and API alike."""
    assert api.request("GET", "/_emulator/health", key=None).status == 200
    assert api.request("GET", "/_emulator/clock", key=None).status == 200
    assert api.request("GET", "/v1/evaluation").status == 200
    assert api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(2)))))


# ---------------------------------------------------------------- body size


@pytest.mark.parametrize("face", FACES)
def test_a_body_over_max_body_bytes_is_a_413_naming_the_setting(face: str) -> None:
    api = make_face(face, Emulator(clock="manual", max_body_bytes=1000))
    body = json.dumps({"type": "classify", "parameters": {"labels": ["x" * 990]}}).encode()
    error = error_of(raw(api, "POST", "/v1/evaluation", body), 413)
    assert "1000 bytes" in error["message"] and "max_body_bytes" in error["message"]
    assert error["code"] == "request_too_large"
    entry = api.emulator.journal.entries[-1]
    assert (entry.status_code, entry.body) == (413, b"")  # the journal does not keep what was refused
    assert error_of(raw(api, "POST", "/v1/evaluation", body[:999])) != error  # at the limit: read, then judged
    still_healthy(api)


@pytest.mark.parametrize("face", FACES)
def test_file_bytes_have_their_own_limit(face: str) -> None:
    api = make_face(face, Emulator(clock="manual", max_body_bytes=100, max_upload_bytes=1000))
    content = jsonl(qa_rows(12)).encode()
    assert 100 < len(content) <= 1000
    file_id = api.upload(content)  # more than max_body_bytes: file bytes are bounded by max_upload_bytes
    assert api.own_files()[0]["id"] == file_id
    step1 = api.request(
        "POST",
        "/v1/files",
        headers={"content-type": "application/x-www-form-urlencoded"},
        body=b"purpose=eval&file_name=big.jsonl&file_type=jsonl",
    )
    url = step1.headers["location"].split("/_emulator/", 1)[1]
    error = error_of(api.request("PUT", "/_emulator/" + url, body=b"x" * 1001, key=None), 413)
    assert "max_upload_bytes" in error["message"]


# ---------------------------------------------------------------- JSON: nesting, lengths, standard numbers


@pytest.mark.parametrize("face", FACES)
def test_a_body_nested_10000_deep_is_a_400_not_a_recursion_error(face: str) -> None:
    api = make_face(face)
    for path, key in (("/v1/evaluation", "default"), ("/_emulator/faults", None), ("/_emulator/scenarios", None)):
        error = error_of(raw(api, "POST", path, b"[" * 10_000 + b"]" * 10_000, key=key))
        assert "deeper than 64" in error["message"] and "max_json_depth" in error["message"]
    error = error_of(raw(api, "POST", "/v1/evaluation", json.dumps({"parameters": {"x": [[[[1]]]]}}).encode()))
    assert "deeper" not in error["message"]  # a body within the depth goes on to be validated
    still_healthy(api)


def test_a_deep_body_is_a_400_also_when_fault_rules_read_bodies() -> None:
    api = make_face("core")
    api.control("POST", "faults", {"match": {"fields": {"type": "score"}}, "action": {"kind": "error", "status": 503}})
    error_of(raw(api, "POST", "/v1/evaluation", b"[" * 10_000 + b"]" * 10_000))
    assert api.request("GET", "/_emulator/requests", key=None).status == 200  # and the journal shows it


def test_the_depth_limit_is_a_setting() -> None:
    shallow = make_face("core", Emulator(clock="manual", max_json_depth=3))
    body = json.dumps({"match": {"parameters": {"judge.model": "m"}}}).encode()  # 3 deep
    assert raw(shallow, "POST", "/_emulator/scenarios", body, key=None).status == 201
    deeper = json.dumps({"match": {"parameters": {"judge.model": ["m"]}}}).encode()
    assert "deeper than 3" in error_of(raw(shallow, "POST", "/_emulator/scenarios", deeper, key=None))["message"]


def test_arrays_and_strings_have_bounds_named_where_they_broke() -> None:
    api = make_face("core", Emulator(clock="manual", max_list_items=50, max_string_chars=200))
    file_id = api.upload(jsonl(qa_rows(2)))
    labels = [f"label-{n}" for n in range(51)]
    error = error_of(api.create("classify", classify_params(file_id, labels=labels, pass_labels=labels[:1])))
    assert error["param"] == "parameters.labels"
    assert "51 items" in error["message"] and "max_list_items" in error["message"]
    error = error_of(api.create("classify", classify_params(file_id, judge={**JUDGE, "system_template": "t" * 201})))
    assert error["param"] == "parameters.judge.system_template"
    assert "201 characters" in error["message"] and "max_string_chars" in error["message"]
    assert api.create_id("classify", classify_params(file_id, labels=labels[:50], pass_labels=labels[:1]))


def test_a_million_labels_are_refused_by_default() -> None:
    api = make_face("core")
    file_id = api.upload(jsonl(qa_rows(2)))
    labels = [str(n) for n in range(1001)]
    error = error_of(api.create("classify", classify_params(file_id, labels=labels, pass_labels=["0"])))
    assert error["param"] == "parameters.labels"


def test_a_state_import_holds_whole_files_and_is_bounded_by_depth_only() -> None:
    source = make_face("core", Emulator(clock="manual", max_string_chars=10, max_list_items=2))
    for _ in range(3):
        source.upload(jsonl(qa_rows(5)))
    state = source.control("GET", "state")
    target = make_face("core", Emulator(clock="manual", max_string_chars=10, max_list_items=2))
    assert target.control("PUT", "state", state)["imported"] is True
    assert len(target.own_files()) == 3


@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_non_finite_numbers_are_refused_in_every_json_body(face: str, constant: bytes) -> None:
    api = make_face(face)
    file_id = api.upload(jsonl(qa_rows(2)))
    params = classify_params(file_id)
    body = {"type": "score", "parameters": {**params, "min_score": 1, "max_score": "MAX", "pass_threshold": 2}}
    del body["parameters"]["labels"], body["parameters"]["pass_labels"]
    create = json.dumps(body).replace('"MAX"', constant.decode()).encode()
    cases = [
        ("POST", "/v1/evaluation", create, "default"),
        ("POST", "/_emulator/clock/advance", b'{"seconds": %s}' % constant, None),
        ("POST", "/_emulator/faults", b'{"action": {"kind": "latency", "seconds": %s}}' % constant, None),
        ("PUT", "/_emulator/scenarios/default", b'{"outcome": {"pass_percentage": %s}}' % constant, None),
    ]
    for method, path, payload, key in cases:
        error = error_of(raw(api, method, path, payload, key=key))
        assert "not valid JSON" in error["message"] and "finite" in error["message"], path
    # so no job, no result file and no listing can ever hold a non-finite number
    body["parameters"]["max_score"] = 10
    job_id = api.create_id("score", body["parameters"])
    api.advance(3600)
    assert api.status(job_id)["status"] == "completed"


@pytest.mark.parametrize("face", FACES)
def test_a_lone_surrogate_is_refused_so_no_listing_breaks_on_it(face: str) -> None:
    api = make_face(face)
    rule = b'{"action": {"kind": "error", "status": 503, "message": "\\ud800"}}'
    assert "lone surrogate" in error_of(raw(api, "POST", "/_emulator/faults", rule, key=None))["message"]
    initiate = b'{"file_name": "\\udfff.jsonl", "file_size": 1, "num_parts": 1, "purpose": "eval"}'
    error_of(raw(api, "POST", "/v1/files/multipart/initiate", initiate))
    assert api.request("GET", "/_emulator/faults", key=None).status == 200
    assert api.request("GET", "/v1/files").status == 200
    assert api.request("GET", "/_emulator/requests", key=None).status == 200


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("POST", "clock/advance", {"seconds": True}),
        ("POST", "clock/run", {"time_scale": True}),
        ("POST", "clock/scale", {"time_scale": False}),
        ("POST", "clock/set", {"now": True}),
        ("POST", "seed", {"seed": True}),
        ("POST", "faults", {"action": {"kind": "latency", "seconds": True}}),
        ("POST", "faults", {"probability": True}),
        ("POST", "faults", {"times": True}),
        ("POST", "scenarios", {"times": True}),
        ("PUT", "scenarios/default", {"outcome": {"pass_percentage": True}}),
        ("PUT", "scenarios/default", {"progression": {"mode": "durations", "running": True}}),
    ],
)
def test_booleans_are_not_numbers_on_the_control_plane(method: str, path: str, body: dict[str, Any]) -> None:
    api = make_face("core")
    reply = api.request(method, "/_emulator/" + path, json_body=body, key=None)
    error = error_of(reply)
    assert error["param"], error


def test_booleans_are_not_numbers_in_the_api() -> None:
    api = make_face("core")
    file_id = api.upload(jsonl(qa_rows(2)))
    initiate = {"file_name": "big.jsonl", "file_size": True, "num_parts": 1, "purpose": "eval"}
    assert error_of(api.request("POST", "/v1/files/multipart/initiate", json_body=initiate))["param"] == "file_size"
    judge = {**JUDGE, "max_tokens": True}
    assert error_of(api.create("classify", classify_params(file_id, judge=judge)))["param"] == (
        "parameters.judge.max_tokens"
    )


def test_numbers_as_text_are_not_numbers_either() -> None:
    api = make_face("core")
    error = error_of(api.request("POST", "/_emulator/clock/advance", json_body={"seconds": "Infinity"}, key=None))
    assert error["param"] == "seconds"


@pytest.mark.parametrize(
    "body,param",
    [
        ({"action": {"kind": "latency", "seconds": 1e9}}, "action.seconds"),
        ({"action": {"kind": "hang", "seconds": 1e300}}, "action.seconds"),
        ({"action": {"kind": "error", "status": 429, "retry_after": 1e300}}, "action.retry_after"),
        ({"quota": {"limit": 1, "window_seconds": 1e300}}, "quota.window_seconds"),
        ({"action": {"kind": "error", "status": 500, "headers": {"x-a": "b\r\nx-b: c"}}}, "action.headers"),
        ({"action": {"kind": "error", "status": 500, "headers": {"x a": "b"}}}, "action.headers"),
        ({"action": {"kind": "error", "status": 500, "headers": {"x-a": "€"}}}, "action.headers"),
    ],
)
def test_fault_rules_hold_only_what_can_be_played(body: dict[str, Any], param: str) -> None:
    api = make_face("core")
    assert error_of(api.request("POST", "/_emulator/faults", json_body=body, key=None))["param"] == param
    assert api.control("GET", "faults")["rules"] == []


@pytest.mark.parametrize("field", ["min_score", "max_score", "pass_threshold"])
def test_score_parameters_stay_where_scores_are_exact(field: str) -> None:
    api = make_face("core")
    params = classify_params(api.upload(jsonl(qa_rows(2))))
    del params["labels"], params["pass_labels"]
    score = {**params, "min_score": -1e15, "max_score": 1e15, "pass_threshold": 0}
    assert api.create("score", score).status == 200
    score[field] = 1e16 if field == "max_score" else -1e16
    assert error_of(api.create("score", score))["param"] == f"parameters.{field}"


# ---------------------------------------------------------------- the clock's range


@pytest.mark.parametrize("face", FACES)
def test_a_clock_move_that_would_overflow_is_a_400_and_breaks_nothing(face: str) -> None:
    api = make_face(face)
    before = api.control("GET", "clock")
    for path, body, param in [
        ("clock/run", {"time_scale": 1e308}, "time_scale"),
        ("clock/scale", {"time_scale": 1e7}, "time_scale"),
        ("clock/advance", {"seconds": 1e12}, "seconds"),
        ("clock/set", {"now": 1e15}, "now"),
        ("clock/set", {"now": "9999-06-01T00:00:00Z"}, "now"),
        ("clock/set", {"now": -1}, "now"),
    ]:
        assert error_of(api.request("POST", "/_emulator/" + path, json_body=body, key=None))["param"] == param, path
    assert api.control("GET", "clock") == before
    still_healthy(api)


def test_the_clock_goes_to_the_end_of_its_range_and_no_further() -> None:
    api = make_face("core")
    job_id = api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(2)))))
    room = api.control("POST", "clock/set", {"now": "9998-12-31T23:59:59Z"})
    assert room["now"] == "9998-12-31T23:59:59.000000Z"
    error = error_of(api.request("POST", "/_emulator/clock/advance", json_body={"seconds": 2}, key=None))
    assert "9999-01-01T00:00:00Z" in error["message"] and "at most 1 s" in error["message"]
    assert api.advance(1)["now"] == "9999-01-01T00:00:00.000000Z"
    late = api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(2)))))
    for job in (job_id, late):  # a job planned past the last instant a date can write still reads
        assert api.job(job)["created_at"]
    assert api.control("POST", "clock/run", {"time_scale": 1_000_000})["time_scale"] == 1_000_000
    assert api.control("GET", "clock")["now"] == "9999-01-01T00:00:00.000000Z"  # a running clock stops there


def test_a_state_import_cannot_put_the_clock_out_of_range() -> None:
    api = make_face("core")
    state = api.control("GET", "state")
    for clock, field in (
        ({"time_scale": 1e300, "mode": "real"}, "clock.time_scale"),
        ({"now_ns": 10**30}, "clock.now_ns"),
    ):
        broken = {**state, "clock": {**state["clock"], **clock}}
        assert error_of(api.request("PUT", "/_emulator/state", json_body=broken, key=None))["param"] == field
    assert api.control("GET", "state") == state
    still_healthy(api)


# ---------------------------------------------------------------- query values


@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize("value", ["²", "١", "1e3", "-1", "0x10", "1" * 30])
def test_query_integers_are_ascii_digits_only(face: str, value: str) -> None:
    api = make_face(face)
    assert error_of(api.request("GET", "/v1/evaluation", query={"limit": value}))["param"] == "limit"
    reply = api.request("GET", "/_emulator/requests", query={"status_code": value}, key=None)
    assert error_of(reply)["param"] == "status_code"
    assert api.request("GET", "/v1/evaluation", query={"limit": " 007 "}).status == 200


# ---------------------------------------------------------------- dataset rows


@pytest.mark.parametrize("levels", [1_000, 5_000, 65])
def test_a_dataset_row_nested_too_deep_ends_the_job_in_user_error(levels: int) -> None:
    api = make_face("core")
    nested = "[" * (levels - 1) + "]" * (levels - 1)
    content = jsonl(qa_rows(2)) + '{"prompt": ' + nested + ', "response": "r"}\n'
    file_id = api.upload(content)
    reply = api.create("classify", classify_params(file_id))
    assert reply.status == 200, reply.body
    api.advance(3600)
    job = api.job(reply.json()["workflow_id"])
    assert job["status"] == "user_error"
    assert "Line 3" in job["results"]["error"] or "Row 3" in job["results"]["error"]


def test_the_dataset_depth_follows_the_setting() -> None:
    content = jsonl([{"prompt": {"a": {"b": ["c"]}}, "response": "r"}])  # a row 4 deep (a create body is 3)
    for depth, status in ((3, "user_error"), (4, "completed")):
        api = make_face("core", Emulator(clock="manual", max_json_depth=depth, column_use_rule=False))
        job_id = api.create_id("classify", classify_params(api.upload(content)))
        api.advance(3600)
        job = api.job(job_id)
        assert job["status"] == status, job
        if status == "user_error":
            assert job["results"]["error"].startswith("Row 1 of 'data.jsonl' nests arrays and objects 4 levels deep")


# ---------------------------------------------------------------- every error inside the guard


@pytest.mark.parametrize("face", FACES)
def test_a_failing_journal_is_a_json_500_and_the_next_request_is_fine(
    face: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = make_face(face)
    journal = api.emulator.journal

    def broken(make: Any) -> None:
        raise RuntimeError("journal down")

    monkeypatch.setattr(journal, "record", broken)
    error = error_of(api.request("GET", "/v1/evaluation"), 500)
    assert "journal down" in error["message"] and error["type"] == "server_error"
    monkeypatch.undo()
    still_healthy(api)


def test_the_server_face_never_answers_plain_text(monkeypatch: pytest.MonkeyPatch) -> None:
    api = make_face("server")

    def broken(request: Any) -> None:
        raise RuntimeError("core down")

    monkeypatch.setattr(api.emulator, "handle_unconfirmed", broken)  # what the server face calls
    error = error_of(api.request("GET", "/_emulator/health", key=None), 500)
    assert "core down" in error["message"]
