"""Result files are derived from their jobs and the clock when read: no read of the job is needed
for one to appear, its place in `GET /v1/files` never depends on when anyone looked, and a deleted
one stays deleted (through export and import too). Job views follow every change of their job."""

from __future__ import annotations

from typing import Any

import pytest
from together_eval_emulator import Emulator

from tests.support import CoreClient, classify_params, jsonl, qa_rows

# The default durations of a 3-row job: pending 1 s, queued 2 s, running 3 s + 0.03 s.
DONE = 6.03


def client() -> CoreClient:
    return CoreClient(Emulator(clock="manual"))


def start(api: CoreClient, rows: int = 3) -> tuple[str, str, str]:
    """(file id, workflow id, result file id) of a classify job that has not completed yet."""
    file_id = api.upload(jsonl(qa_rows(rows)))
    workflow_id = api.create_id("classify", classify_params(file_id))
    summary = api.control("GET", f"jobs/{workflow_id}")
    assert summary["status"] == "pending" and summary["reads"] == 0
    job = api.emulator.store.find_job(workflow_id)
    assert job is not None and job.result_file_id is not None
    return file_id, workflow_id, job.result_file_id


def ids(files: list[dict[str, Any]]) -> list[str]:
    return [f["id"] for f in files]


def test_a_completed_jobs_result_file_is_there_without_any_read_of_the_job() -> None:
    api = client()
    file_id, workflow_id, result_id = start(api)
    for method, path in (("GET", ""), ("GET", "/content"), ("DELETE", "")):
        assert api.request(method, f"/v1/files/{result_id}{path}").status == 404  # not completed yet
    assert ids(api.own_files()) == [file_id]
    api.advance(DONE)
    assert ids(api.own_files()) == [file_id, result_id]  # nobody read the job
    listed = api.request("GET", f"/v1/files/{result_id}").json()
    assert (listed["purpose"], listed["filename"]) == ("eval-output", f"{workflow_id}-results.jsonl")
    assert listed["created_at"] == 1_767_225_600 + int(DONE)  # the instant the job completed
    assert len(api.content(result_id)) == 3
    assert listed["bytes"] == len(api.request("GET", f"/v1/files/{result_id}/content").body)
    assert api.control("GET", f"jobs/{workflow_id}")["reads"] == 0
    assert api.status(workflow_id)["results"]["result_file_id"] == result_id


def test_the_listing_does_not_depend_on_when_anyone_looked() -> None:
    def run(look: bool) -> bytes:
        api = client()
        first, early, _ = start(api, rows=3)
        api.advance(1)
        late = api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(50)))))
        if look:
            api.status(early)
        api.advance(100)  # both complete: `late` (50 rows) after `early` (3 rows)
        if look:
            api.status(late)
            api.status(early)
        api.upload(jsonl(qa_rows(1)))  # an upload after both completions
        return api.request("GET", "/v1/files").body

    assert run(look=True) == run(look=False)


def test_files_are_ordered_by_created_at_uploads_first_then_result_files_by_id() -> None:
    api = client()
    file_id = api.upload(jsonl(qa_rows(3)))
    api.control("PUT", "scenarios/default", {"progression": {"mode": "immediate"}})
    jobs = [api.create_id("classify", classify_params(file_id)) for _ in range(3)]  # all complete at once
    later = api.upload(jsonl(qa_rows(2)))  # same instant: the clock is frozen
    api.advance(5)
    last = api.upload(jsonl(qa_rows(1)))
    results = sorted(api.job(job)["results"]["result_file_id"] for job in reversed(jobs))
    listed = api.own_files()
    assert ids(listed) == [file_id, later, *results, last]
    assert [f["created_at"] for f in listed] == sorted(f["created_at"] for f in listed)


def test_a_deleted_result_file_stays_deleted() -> None:
    api = client()
    file_id, workflow_id, result_id = start(api)
    api.advance(DONE)
    deleted = api.request("DELETE", f"/v1/files/{result_id}")
    assert deleted.status == 200 and (deleted.json()["id"], deleted.json()["deleted"]) == (result_id, True)
    for _ in range(2):
        assert api.request("GET", f"/v1/files/{result_id}").status == 404
        assert api.request("GET", f"/v1/files/{result_id}/content").status == 404
        assert api.request("DELETE", f"/v1/files/{result_id}").status == 404
        assert ids(api.own_files()) == [file_id]
        api.advance(60)
    assert api.status(workflow_id)["results"]["result_file_id"] == result_id  # the job still names it

    fresh = client()  # and after export and import
    fresh.control("PUT", "state", api.control("GET", "state"))
    assert fresh.request("GET", f"/v1/files/{result_id}").status == 404
    assert fresh.request("GET", "/v1/files").body == api.request("GET", "/v1/files").body


def test_a_job_forced_on_after_completing_keeps_its_result_file() -> None:
    api = client()
    _, workflow_id, result_id = start(api)
    api.advance(DONE)
    created = api.request("GET", f"/v1/files/{result_id}").json()["created_at"]
    api.advance(10)
    api.control("POST", f"jobs/{workflow_id}/status", {"status": "error", "message": "late failure"})
    assert api.status(workflow_id)["status"] == "error"
    assert api.request("GET", f"/v1/files/{result_id}").json()["created_at"] == created


def test_a_job_that_never_completes_has_no_result_file() -> None:
    api = client()
    file_id, workflow_id, result_id = start(api)
    api.control("POST", f"jobs/{workflow_id}/status", {"status": "user_error", "message": "bad rows"})
    api.advance(3600)
    assert api.request("GET", f"/v1/files/{result_id}").status == 404
    assert ids(api.own_files()) == [file_id]


def test_a_result_file_is_found_as_the_input_of_another_job() -> None:
    api = client()
    _, _, result_id = start(api)
    api.advance(DONE)
    reader = api.create_id(
        "score",
        {
            "input_data_file_path": result_id,
            "judge": {"model": "judge", "model_source": "serverless", "system_template": "{{prompt}}"},
            "min_score": 1,
            "max_score": 10,
            "pass_threshold": 5,
            "model_to_evaluate": "response",
        },
    )
    api.advance(3600)
    error = (api.status(reader)["results"] or {}).get("error", "")
    assert "was not found" not in error  # the file is found (its columns are another matter)


def test_the_export_lists_the_result_files_of_completed_jobs() -> None:
    api = client()
    file_id, workflow_id, result_id = start(api)
    exported = api.control("GET", "state")
    assert [f["id"] for f in exported["tenants"][0]["files"]] == [file_id]
    assert exported["tenants"][0]["jobs"][0]["result_file_registered"] is False
    api.advance(DONE)
    exported = api.control("GET", "state")
    assert [f["id"] for f in exported["tenants"][0]["files"]] == [file_id, result_id]
    assert exported["tenants"][0]["files"][1]["source_job"] == workflow_id
    assert exported["tenants"][0]["jobs"][0]["result_file_registered"] is True
    fresh = client()
    fresh.control("PUT", "state", exported)
    assert fresh.control("GET", "state") == exported


# ---------------------------------------------------------------- views follow their job


@pytest.mark.parametrize("route", ["", "/status"])
def test_views_follow_every_change_of_their_job(route: str) -> None:
    api = client()
    _, workflow_id, _ = start(api)
    path = f"/v1/evaluation/{workflow_id}{route}"
    before = api.request("GET", path).body
    assert api.request("GET", path).body == before  # served again as is
    api.advance(DONE)
    completed = api.request("GET", path).json()
    assert completed["status"] == "completed"
    reply = api.request(
        "POST", f"/v1/evaluation/{workflow_id}/update", json_body={"results": {"custom": 1, "result_file_id": "x"}}
    )
    assert reply.status == 200
    updated = api.request("GET", path).json()
    assert updated["results"] == {"custom": 1, "result_file_id": "x"} != completed["results"]
    api.control("POST", f"jobs/{workflow_id}/status", {"status": "error", "message": "forced"})
    assert api.request("GET", path).json()["results"] == {"error": "forced"}
