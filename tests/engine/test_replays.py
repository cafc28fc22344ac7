"""Replaying recorded jobs (docs/recordings.md): a job following a recording goes through exactly
the recorded statuses at the recorded offsets from its own creation, ends with the recorded
results, and serves the recorded result file or one made from its own rows that adds up to them;
what cannot agree is refused at create, and a refused create changes nothing."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from together_eval_emulator import Emulator, EmulatorConfig
from together_eval_emulator.engine._recordings import instant_ns
from together_eval_emulator.engine._replays import builtins
from together_eval_emulator.faces._configfile import load_config_file

from tests.support import CoreClient, classify_params, jsonl

START = "2026-01-01T00:00:00"
HARMBENCH_LIKE = {"labels": ["Harmful", "Not Harmful"], "pass_labels": ["Not Harmful"]}


def rows(n: int) -> list[dict[str, Any]]:
    return [{"prompt": f"Question {i}?", "response": f"Answer {i}."} for i in range(n)]


def judge(model: str = "judge-model") -> dict[str, Any]:
    return {"model": model, "model_source": "serverless", "system_template": "Judge {{prompt}} {{response}}"}


def replay_judge(name: str) -> dict[str, Any]:
    return judge(f"emulator/replay:{name}")


def compare_params(file_id: str, **extra: Any) -> dict[str, Any]:
    return {"input_data_file_path": file_id, "judge": judge(), "model_a": "prompt", "model_b": "response", **extra}


def score_params(file_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "input_data_file_path": file_id,
        "judge": judge(),
        "min_score": 1,
        "max_score": 10,
        "pass_threshold": 6,
        "model_to_evaluate": "response",
        **extra,
    }


def recorded(
    eval_type: str, timeline: list[tuple[str, str]], results: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """A recorded job: `timeline` is (status, RFC 3339 time) pairs."""
    updates = [{"status": status, "message": "Job status updated", "timestamp": stamp} for status, stamp in timeline]
    return {"type": eval_type, "status_updates": updates, "results": results, **extra}


def nanos_after(created_at: str, offset_ns: int) -> str:
    """The status-update timestamp `offset_ns` after a job's `created_at` (microseconds, `Z`)."""
    seconds, fraction = divmod(instant_ns(created_at) + offset_ns, 10**9)
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{fraction:09d}Z"


class Replays:
    """An emulator on a frozen clock, a client, and a dataset of `n` rows."""

    def __init__(self, n: int = 20, **config: Any) -> None:
        self.client = CoreClient(Emulator(clock="manual", **config))
        self.file_id = self.client.upload(jsonl(rows(n)))

    def control(self, method: str, path: str, body: Any = None, expect: int | tuple[int, ...] = (200, 201)) -> Any:
        return self.client.control(method, path, body, expect=expect)

    def add(self, name: str, job: dict[str, Any], **extra: Any) -> Any:
        return self.control("POST", "recordings", {"name": name, "job": job, **extra})

    def create(self, eval_type: str, params: dict[str, Any]) -> str:
        return self.client.create_id(eval_type, params)

    def advance_to(self, job_id: str, offset_ns: int) -> None:
        """Set the clock to `offset_ns` after the job's creation, to the nanosecond (the control
        plane's clock routes take microseconds)."""
        emulator = self.client.emulator
        job = emulator.store.find_job(job_id)
        assert job is not None
        with emulator.store.transaction():
            emulator.clock.set_ns(job.created_ns + offset_ns)

    def content(self, job_id: str) -> list[dict[str, Any]]:
        file_id = self.client.status(job_id)["results"]["result_file_id"]
        body = self.client.request("GET", f"/v1/files/{file_id}/content").body
        return [json.loads(line) for line in body.decode().splitlines()]


def check_every_status_at_its_offset(replays: Replays, job_id: str, timeline: list[tuple[str, int]]) -> None:
    """Just before each recorded offset the job still shows the status before it; at the offset it
    shows the recorded one, with the recorded instant; and the whole history reads back at the end."""
    created = replays.client.job(job_id)["created_at"]
    for index, (status, offset) in enumerate(timeline[1:], 1):
        if offset > timeline[index - 1][1]:
            replays.advance_to(job_id, offset - 1)
            assert replays.client.status(job_id)["status"] == timeline[index - 1][0]
        replays.advance_to(job_id, offset)
        job = replays.client.job(job_id)
        assert job["status"] == status
        assert job["status_updates"][index] == {
            "status": status,
            "message": "Job status updated",
            "timestamp": nanos_after(created, offset),
        }
    expected = [(status, nanos_after(created, offset)) for status, offset in timeline]
    assert [(u["status"], u["timestamp"]) for u in replays.client.job(job_id)["status_updates"]] == expected


# ---------------------------------------------------------------- the built-in recordings


def test_the_built_in_recordings_say_where_they_come_from() -> None:
    found = builtins()
    assert sorted(found) == [
        "example-classify-cookbook",
        "example-compare-docs",
        "example-late-error",
        "example-long-queue",
        "example-preempted-once",
    ]
    assert all(recording.source for recording in found.values())
    assert "docs.together.ai/docs/ai-evaluations" in (found["example-compare-docs"].source or "")
    docs = found["example-compare-docs"]
    assert docs.job.model_extra is not None and docs.job.model_extra["workflow_id"] == "eval-7df2-1751287840"
    finals = {name: recording.final for name, recording in found.items()}
    assert finals["example-late-error"] == "error" and finals["example-long-queue"] == "completed"
    statuses = [status for status, _ in found["example-preempted-once"].timeline()]
    assert statuses == ["pending", "queued", "running", "queued", "running", "completed"]


def test_the_real_compare_job_replays_at_its_recorded_offsets_with_its_results() -> None:
    replays = Replays(20)
    job_id = replays.create("compare", compare_params(replays.file_id, judge=replay_judge("example-compare-docs")))
    recording = builtins()["example-compare-docs"]
    assert [offset for _, offset in recording.timeline()] == [0, 6_753_971_418, 21_716_762_882, 76_538_992_323]
    check_every_status_at_its_offset(replays, job_id, recording.timeline())
    results = replays.client.status(job_id)["results"]
    assert {k: results[k] for k in ("A_wins", "B_wins", "Ties")} == {"A_wins": 1, "B_wins": 13, "Ties": 6}
    assert results["result_file_id"] != "file-95c8f0a3-e8cf-43ea-889a-e79b1f1ea1b9"  # the job's own file
    decisions = Counter(row["final_decision"] for row in replays.content(job_id))
    assert decisions == {"A": 1, "B": 13, "Tie": 6}


@pytest.mark.parametrize("name", ["example-classify-cookbook", "example-preempted-once", "example-long-queue"])
def test_the_classify_recordings_replay_on_200_rows_with_the_cookbook_counts(name: str) -> None:
    replays = Replays(200)
    job_id = replays.create("classify", classify_params(replays.file_id, judge=replay_judge(name), **HARMBENCH_LIKE))
    check_every_status_at_its_offset(replays, job_id, builtins()[name].timeline())
    results = replays.client.status(job_id)["results"]
    assert results["label_counts"] == {"Harmful": 27, "Not Harmful": 173} and results["pass_percentage"] == 86.5
    labels = Counter(row["label"] for row in replays.content(job_id))
    assert labels == {"Harmful": 27, "Not Harmful": 173}


def test_the_late_error_replays_its_error_and_has_no_result_file() -> None:
    replays = Replays(5)
    job_id = replays.create("compare", compare_params(replays.file_id, judge=replay_judge("example-late-error")))
    check_every_status_at_its_offset(replays, job_id, builtins()["example-late-error"].timeline())
    status = replays.client.status(job_id)
    assert status["status"] == "error"
    assert status["results"] == {"error": builtins()["example-late-error"].job.results["error"]}  # type: ignore[index]
    assert [f for f in replays.client.own_files() if f["purpose"] == "eval-output"] == []


def test_a_replay_moved_off_a_recording_that_fails_completes_with_the_verdicts_of_its_own_rows() -> None:
    """Moves leave the recording: a late-error replay forced to `completed` (or sent back to `queued`,
    then on) completes as any job on those rows would, with results its result file adds up to."""
    replays = Replays(5)
    params = compare_params(replays.file_id, judge=replay_judge("example-late-error"))
    forced, moved = replays.create("compare", params), replays.create("compare", params)
    replays.client.control("POST", f"jobs/{forced}/status", {"status": "completed"})
    replays.client.advance(30)
    assert replays.client.status(moved)["status"] == "running"
    replays.client.control("POST", f"jobs/{moved}/status", {"status": "queued"})
    replays.client.advance(3600)
    counted = []
    for job_id in (forced, moved):
        status = replays.client.status(job_id)
        assert status["status"] == "completed"
        results = dict(status["results"])
        rows = replays.client.content(results.pop("result_file_id"))
        assert len(rows) == 5
        decisions = Counter(row["final_decision"] for row in rows)
        assert (results["A_wins"], results["B_wins"], results["Ties"]) == (
            decisions["A"],
            decisions["B"],
            decisions["Tie"],
        )
        counted.append(results)
    assert counted[0] == counted[1]  # the same rows and judge: the same verdicts


# ---------------------------------------------------------------- recordings added, and their result files


def test_an_added_recording_replays_through_a_rule_with_its_own_result_file() -> None:
    replays = Replays(3)
    job = recorded(
        "classify",
        [
            ("pending", "2025-11-12T19:27:36.1Z"),
            ("queued", "2025-11-12T19:27:40Z"),
            ("completed", "2025-11-12T19:29:00Z"),
        ],
        {"label_counts": {"good": 5, "bad": 1}, "pass_percentage": 83.33, "result_file_id": "file-x"},
        workflow_id="eval-d3e0-1762975656",
    )
    file = '{"prompt": "recorded", "label": "good"}\n'
    summary = replays.add("five-of-six", job, result_file=file)
    assert summary == {
        "name": "five-of-six",
        "type": "classify",
        "builtin": False,
        "source": None,
        "timeline": [
            {"status": "pending", "offset_seconds": 0.0},
            {"status": "queued", "offset_seconds": 3.9},
            {"status": "completed", "offset_seconds": 83.9},
        ],
        "final": "completed",
        "result_file": True,
    }
    rule = replays.control("POST", "scenarios", {"match": {"judge_model": "judge-*"}, "recording": "five-of-six"})
    assert rule["recording"] == "five-of-six"
    job_id = replays.create("classify", classify_params(replays.file_id))
    replays.client.advance(84)
    status = replays.client.status(job_id)
    assert status["results"]["label_counts"] == {"bad": 1, "good": 5}  # as recorded, not the job's 3 rows
    assert replays.content(job_id) == [{"prompt": "recorded", "label": "good"}]
    summary = replays.control("GET", f"jobs/{job_id}")
    assert summary["recording"] == "five-of-six" and summary["source"]["recording"] == f"scenario:{rule['id']}"


def test_a_generated_result_file_adds_up_to_every_recorded_count() -> None:
    replays = Replays(10)
    job = recorded(
        "score",
        [("pending", f"{START}Z"), ("running", f"{START}.5Z"), ("completed", "2026-01-01T00:00:02Z")],
        {
            "aggregated_scores": {"mean_score": 6.1, "pass_percentage": 50, "std_score": 2.2},
            "failed_samples": 3,
            "generation_fail_count": 1,
            "invalid_score_count": 1,
            "judge_fail_count": 1,
        },
    )
    replays.add("half-pass", job)
    generator = {"model": "gen", "model_source": "serverless", "system_template": "s", "input_template": "{{prompt}}"}
    params = score_params(replays.file_id, judge=replay_judge("half-pass"), model_to_evaluate=generator)
    job_id = replays.create("score", params)
    replays.client.advance(2)
    lines = replays.content(job_id)
    failed = [row for row in lines if not row["evaluation_successful"]]
    assert len(lines) == 10 and len(failed) == 3
    assert sum(row["MODEL_TO_EVALUATE_OUTPUT"] is None for row in lines) == 1  # the generation failure
    scores = [row["score"] for row in lines if row["evaluation_successful"]]
    assert sum(score >= 6 for score in scores) == 5 and sum(score < 6 for score in scores) == 2
    assert replays.client.status(job_id)["results"]["aggregated_scores"]["mean_score"] == 6.1  # as recorded


def test_the_same_replay_gives_the_same_file_for_the_same_seed() -> None:
    def content(seed: int) -> list[dict[str, Any]]:
        replays = Replays(20, seed=seed)
        job_id = replays.create("compare", compare_params(replays.file_id, judge=replay_judge("example-compare-docs")))
        replays.client.advance(80)
        return replays.content(job_id)

    assert content(1) == content(1) != content(2)


def test_a_replay_enters_running_at_its_recorded_instant_whatever_the_capacity() -> None:
    replays = Replays(20, max_running=1)
    first = replays.create("classify", classify_params(replays.file_id))
    replays.client.advance(3.5)  # the first job holds the one slot
    job_id = replays.create("compare", compare_params(replays.file_id, judge=replay_judge("example-compare-docs")))
    replays.client.advance(22)
    assert replays.client.status(job_id)["status"] == "running"  # as recorded, over the limit
    assert replays.client.status(first)["status"] == "completed"


# ---------------------------------------------------------------- refused at create, and nothing changes


@pytest.mark.parametrize(
    ("eval_type", "params", "words"),
    [
        ("compare", {}, "it is a classify job, this one is a compare job"),
        ("classify", {}, "results.label_counts names ['Harmful', 'Not Harmful'], not among the job's labels"),
        ("classify", {"labels": ["Harmful", "Not Harmful"], "pass_labels": ["Harmful"]}, "pass_percentage is 86.5"),
        ("classify", {**HARMBENCH_LIKE, "rows": 199}, "the recorded counts add up to 200 rows, the dataset has 199"),
        ("classify", {**HARMBENCH_LIKE, "file": "file-00000000-0000-4000-8000-000000000000"}, "cannot make one"),
    ],
)
def test_a_replay_that_cannot_agree_is_refused_and_changes_nothing(
    eval_type: str, params: dict[str, Any], words: str
) -> None:
    n = params.pop("rows", 200)
    replays = Replays(n)
    file_id = params.pop("file", replays.file_id)
    replays.control("POST", "scenarios", {"times": 1, "recording": "example-classify-cookbook"})
    base = classify_params(file_id) if eval_type == "classify" else compare_params(file_id)
    reply = replays.client.create(eval_type, {**base, **params})
    assert reply.status == 400, reply.body
    error = reply.json()["error"]
    assert error["message"].startswith("Recording 'example-classify-cookbook' cannot be replayed by this job: ")
    assert words in error["message"]
    assert replays.control("GET", "jobs") == []
    assert replays.control("GET", "scenarios")["entries"][0]["used"] == 0  # still there, unused
    replays.control("DELETE", "scenarios")
    fresh = Replays(n)
    assert replays.create("classify", classify_params(replays.file_id)) == fresh.create(
        "classify", classify_params(fresh.file_id)
    )  # the id generator did not move


def test_an_unknown_recording_in_a_magic_model_is_a_400_naming_the_field() -> None:
    replays = Replays(3)
    reply = replays.client.create("classify", classify_params(replays.file_id, judge=replay_judge("nowhere")))
    assert reply.status == 400
    assert reply.json()["error"]["param"] == "parameters.judge.model"
    assert "Recording 'nowhere' not found. Recordings: example-compare-docs" in reply.json()["error"]["message"]
    mixed = replay_judge("example-compare-docs")
    mixed["model"] += "+error"
    reply = replays.client.create("classify", classify_params(replays.file_id, judge=mixed))
    assert reply.status == 400 and "takes no other directive" in reply.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({"job": recorded("score", [("queued", f"{START}Z")])}, "job", "must start with 'pending'"),
        (
            {"job": recorded("score", [("pending", f"{START}.5Z"), ("running", f"{START}Z")])},
            "job",
            "before the one of the update before it",
        ),
        (
            {"job": recorded("score", [("pending", f"{START}Z"), ("error", f"{START}Z")]), "result_file": "{}\n"},
            None,
            "only a completed job has a result file",
        ),
        ({"job": recorded("score", [("pending", "yesterday")])}, "job.status_updates.0.timestamp", "RFC 3339"),
        ({"job": recorded("score", [("pending", f"{START}Z"), ("completed", f"{START}Z")])}, "job", "its results"),
        (
            {"name": "example-mine", "job": recorded("score", [("pending", f"{START}Z")])},
            "name",
            "kept for the built-in",
        ),
        ({"name": "a b", "job": recorded("score", [("pending", f"{START}Z")])}, "name", "pattern"),
    ],
)
def test_a_bad_recording_is_a_400_naming_the_field(body: dict[str, Any], param: str | None, words: str) -> None:
    replays = Replays(1)
    reply = replays.client.request("POST", "/_emulator/recordings", json_body={"name": "mine", **body}, key=None)
    assert reply.status == 400, reply.body
    error = reply.json()["error"]
    assert words in error["message"]
    if param is not None:
        assert error["param"] == param
    assert [r["name"] for r in replays.control("GET", "recordings")["data"] if not r["builtin"]] == []


def test_a_recording_is_never_replaced_and_a_rule_needs_one_that_exists() -> None:
    replays = Replays(1)
    job = recorded("score", [("pending", f"{START}Z")])
    replays.add("mine", job)
    reply = replays.client.request("POST", "/_emulator/recordings", json_body={"name": "mine", "job": job}, key=None)
    assert reply.status == 409 and reply.json()["error"]["param"] == "name"
    reply = replays.client.request("POST", "/_emulator/scenarios", json_body={"recording": "theirs"}, key=None)
    assert reply.status == 400 and reply.json()["error"]["param"] == "recording"
    both = {"recording": "mine", "outcome": {"kind": "error"}}
    reply = replays.client.request("POST", "/_emulator/scenarios", json_body=both, key=None)
    assert reply.status == 400 and "give 'recording', or 'progression' and 'outcome'" in reply.body.decode()
    assert replays.control("GET", "recordings/mine")["job"]["status_updates"][0]["status"] == "pending"
    assert replays.client.request("GET", "/_emulator/recordings/theirs", key=None).status == 404


# ---------------------------------------------------------------- the state, the settings


def test_the_state_carries_the_recordings_and_the_replays() -> None:
    replays = Replays(3)
    job = recorded("classify", [("pending", f"{START}Z"), ("user_error", "2026-01-01T00:01:00Z")], {"error": "bad"})
    replays.add("mine", job)
    job_id = replays.create("classify", classify_params(replays.file_id, judge=replay_judge("mine")))
    state = replays.control("GET", "state")
    assert [r["name"] for r in state["recordings"]] == ["mine"]
    assert state["tenants"][0]["jobs"][0]["recording"] == "mine"
    copy = Replays(1)
    copy.control("PUT", "state", state)
    for replay in (replays, copy):
        replay.client.advance(60)
        assert replay.client.status(job_id) == {"status": "user_error", "results": {"error": "bad"}}
    replays.control("POST", "reset")
    assert [r["name"] for r in replays.control("GET", "recordings")["data"] if not r["builtin"]] == []
    plain = Replays(1).control("GET", "state")
    assert "recordings" not in plain


def test_recordings_from_the_config_file_with_their_files(tmp_path: Path) -> None:
    (tmp_path / "recorded").mkdir()
    job = recorded(
        "classify",
        [("pending", f"{START}Z"), ("completed", "2026-01-01T00:00:10Z")],
        {"label_counts": {"good": 1}, "pass_percentage": 100},
    )
    (tmp_path / "recorded" / "job.json").write_text(json.dumps(job))
    (tmp_path / "recorded" / "job-results.jsonl").write_text('{"label": "good"}\n')
    config_file = tmp_path / "emulator.toml"
    config_file.write_text(
        '[[recordings]]\nname = "from-file"\npath = "recorded/job.json"\n'
        'result_file_path = "recorded/job-results.jsonl"\n\n'
        '[[scenarios]]\nrecording = "from-file"\n'
    )
    config = EmulatorConfig.model_validate({**load_config_file(config_file), "clock": "manual"})
    client = CoreClient(Emulator(config))
    file_id = client.upload(jsonl(rows(4)))
    job_id = client.create_id("classify", classify_params(file_id))
    client.advance(10)
    assert client.status(job_id)["results"]["label_counts"] == {"good": 1}
    with pytest.raises(ValueError, match="named twice"):
        EmulatorConfig.model_validate({"recordings": [{"name": "a", "job": job}, {"name": "a", "job": job}]})


def test_results_the_update_hook_sets_on_a_replay_still_give_its_result_file() -> None:
    replays = Replays(20)
    job_id = replays.create("compare", compare_params(replays.file_id, judge=replay_judge("example-compare-docs")))
    body = {"status": "completed", "results": {"A_wins": 3}}
    reply = replays.client.request("POST", f"/v1/evaluation/{job_id}/update", json_body=body)
    assert reply.status == 200, reply.body
    assert len(replays.content(job_id)) == 20  # no longer the recorded counts: the rows as drawn
