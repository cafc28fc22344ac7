"""The polling verdict (docs/polling.md) of jobs whose timeline is not their record's plan: a job that
replays a recording (docs/recordings.md) and a job that waits for a slot under a capacity
(docs/capacity.md). Each is graded on the statuses it really showed: the recorded ones at the recorded
offsets, and the waits the queue added."""

from __future__ import annotations

from typing import Any

from together_eval_emulator import Emulator, PollingReport
from together_eval_emulator.engine._replays import builtins

from tests.support import CoreClient, classify_params, jsonl, qa_rows

RECORDING = "example-compare-docs"  # pending, queued at 6.75 s, running at 21.72 s, completed at 76.54 s
JUDGE = {"model": f"emulator/replay:{RECORDING}", "model_source": "serverless", "system_template": "Judge {{prompt}}"}


def client(**config: Any) -> CoreClient:
    return CoreClient(Emulator(clock="manual", **config))


def replayed(api: CoreClient) -> str:
    file_id = api.upload(jsonl(qa_rows(20)))
    params = {"input_data_file_path": file_id, "judge": JUDGE, "model_a": "prompt", "model_b": "response"}
    return api.create_id("compare", params)


def poll(api: CoreClient, job_id: str, every: float) -> list[str]:
    """Read the job's status every `every` seconds until it ends; the statuses seen."""
    seen = [api.status(job_id)["status"]]
    while seen[-1] not in ("completed", "error", "user_error"):
        api.advance(every)
        seen.append(api.status(job_id)["status"])
    return seen


def report(api: CoreClient, job_id: str, **query: Any) -> PollingReport:
    polling = api.emulator.engine.polling
    return polling.report(job_id, polling.thresholds(**query))


def test_a_replayed_job_is_graded_on_its_recorded_statuses() -> None:
    api = client()
    job_id = replayed(api)
    seen = poll(api, job_id, every=5.0)
    assert seen == ["pending"] * 2 + ["queued"] * 3 + ["running"] * 11 + ["completed"]  # 0, 5, ... 80 s
    found = report(api, job_id)
    assert (found.verdict, found.findings, found.complete) == ("ok", [], True)
    assert found.reads.by_status == {"pending": 2, "queued": 3, "running": 11, "completed": 1}
    assert builtins()[RECORDING].timeline()[-1] == ("completed", 76_538_992_323)
    assert found.terminal_at == "2026-01-01T00:01:16.538992Z"  # the recorded offset from its own creation
    # Over HTTP too, as a control-plane read (not a client read of the job).
    assert api.control("GET", f"jobs/{job_id}/polling")["verdict"] == "ok"


def test_a_replayed_job_watched_through_the_list_names_its_recorded_status() -> None:
    api = client()
    job_id = replayed(api)
    for seconds in (10, 30, 90):  # queued at 10 s, running at 30 s, completed at 90 s, as recorded
        api.control("POST", "clock/set", {"now": f"2026-01-01T00:{seconds // 60:02d}:{seconds % 60:02d}Z"})
        api.request("GET", "/v1/evaluation")
    assert api.status(job_id)["status"] == "completed"
    found = report(api, job_id)
    assert [finding.name for finding in found.findings] == ["list_used_to_watch"]
    assert [cited.why for cited in found.findings[0].requests] == [
        "the job was 'queued' and no read of it followed",
        "the job was 'running' and no read of it followed",
    ]


def test_a_replay_under_a_capacity_is_graded_on_its_recorded_timeline() -> None:
    api = client(max_running=1)
    first = api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(3)))))
    api.advance(3.5)  # the first job holds the one slot; the replay runs as recorded all the same
    job_id = replayed(api)
    assert poll(api, job_id, every=5.0)[-1] == "completed"
    found = report(api, job_id)
    assert found.verdict == "ok" and found.reads.by_status["running"] == 11
    assert api.status(first)["status"] == "completed"


def test_a_job_waiting_for_a_slot_is_graded_on_its_scheduled_statuses() -> None:
    api = client(max_running=1)
    file_id = api.upload(jsonl(qa_rows(3)))  # a 3-row job: pending 1 s, queued 2 s, running 3.03 s
    first, second = (api.create_id("classify", classify_params(file_id)) for _ in range(2))
    api.advance(4)
    api.request("GET", "/v1/evaluation")  # the tenant lists its jobs and reads neither before it lists again
    api.advance(1)
    api.request("GET", "/v1/evaluation")
    assert poll(api, second, every=1.0) == ["queued"] * 2 + ["running"] * 3 + ["completed"]  # from 5 s
    found = report(api, second)
    assert found.reads.by_status == {"queued": 2, "running": 3, "completed": 1}
    assert found.terminal_at == "2026-01-01T00:00:09.060000Z"  # it ran from 6.03 s, when the first ended
    assert [finding.name for finding in found.findings] == ["list_used_to_watch"]
    (watch,) = found.findings[0].requests
    assert watch.why == "the job was 'queued' and no read of it followed"  # its record alone says 'running'
    assert report(api, first).terminal_at == "2026-01-01T00:00:06.030000Z"
