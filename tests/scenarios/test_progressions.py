"""Each progression policy at each attachment level, under a manual clock, through both faces."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from scenario_support import JUDGE, Api, classify_params, jsonl, qa_rows, score_params, statuses

FULL = ["pending", "queued", "running", "completed"]
POLICIES: dict[str, dict[str, Any]] = {
    "immediate": {"mode": "immediate"},
    "after_polls": {"mode": "after_polls", "polls": 2},
    "durations": {"mode": "durations", "pending": 1, "queued": 2, "running": 3, "running_per_row": 0},
    "manual": {"mode": "manual"},
}
LEVELS = ["default", "type", "next", "rule", "job"]
SPECIAL_JUDGE = dict(JUDGE, model="special-judge")


def attach(api: Api, level: str, progression: dict[str, Any], file_id: str) -> Callable[[], str]:
    """Attach `progression` at `level`; return a function creating a job that gets it."""
    scenario = {"progression": progression}
    if level == "default":
        api.control("PUT", "scenarios/default", scenario)
    elif level == "type":
        api.control("PUT", "scenarios/types/classify", scenario)
    elif level == "next":
        api.control("POST", "scenarios", dict(scenario, times=1))
    elif level == "rule":
        api.control("POST", "scenarios", dict(scenario, match={"judge_model": "special-*"}))
        return lambda: api.create_id("classify", classify_params(file_id, judge=SPECIAL_JUDGE))
    else:
        api.control("PUT", "scenarios/default", {"progression": {"mode": "manual"}})

        def create_then_attach() -> str:
            workflow_id = api.create_id("classify", classify_params(file_id))
            api.control("PUT", f"jobs/{workflow_id}/scenario", scenario)
            return workflow_id

        return create_then_attach
    return lambda: api.create_id("classify", classify_params(file_id))


def drive(api: Api, policy: str, workflow_id: str) -> list[str]:
    """The statuses a client sees while the policy plays out."""
    seen = []
    if policy == "immediate":
        seen.append(api.job(workflow_id)["status"])
    elif policy == "after_polls":
        seen += [api.status(workflow_id)["status"] for _ in range(8)]
    elif policy == "durations":
        for step in (0, 0.999, 0.001, 1.999, 0.001, 2.999, 0.001):
            api.advance(step)
            seen.append(api.status(workflow_id)["status"])
    else:
        api.advance(3600)
        seen += [api.status(workflow_id)["status"] for _ in range(3)]
        for _ in range(3):
            api.control("POST", f"jobs/{workflow_id}/advance")
            seen.append(api.status(workflow_id)["status"])
    return seen


EXPECTED = {
    "immediate": ["completed"],
    "after_polls": ["pending", "pending", "queued", "queued", "running", "running", "completed", "completed"],
    "durations": ["pending", "pending", "queued", "queued", "running", "running", "completed"],
    "manual": ["pending", "pending", "pending", "queued", "running", "completed"],
}


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("policy", list(POLICIES))
def test_policy_at_level(api: Api, policy: str, level: str) -> None:
    file_id = api.upload(jsonl(qa_rows(4)))
    create = attach(api, level, POLICIES[policy], file_id)
    workflow_id = create()
    assert drive(api, policy, workflow_id) == EXPECTED[policy]
    job = api.job(workflow_id)
    assert statuses(job) == FULL  # the full history, whatever the policy
    assert job["results"]["label_counts"] and job["results"]["result_file_id"]
    assert api.control("GET", f"jobs/{workflow_id}")["progression"]["mode"] == POLICIES[policy]["mode"]


@pytest.mark.parametrize("level", ["type", "next", "rule"])
def test_levels_apply_only_where_they_should(api: Api, level: str) -> None:
    file_id = api.upload(jsonl(qa_rows(4)))
    create = attach(api, level, {"mode": "immediate"}, file_id)
    first = create()
    other = (
        api.create_id("score", score_params(file_id))
        if level == "type"
        else api.create_id("classify", classify_params(file_id))
    )
    assert api.job(first)["status"] == "completed"
    assert api.job(other)["status"] == "pending"  # the settings' durations, frozen clock
    sources = api.control("GET", f"jobs/{other}")["source"]
    assert sources["progression"] == "settings"


def test_durations_timestamps_follow_the_clock(api: Api) -> None:
    api.control("PUT", "scenarios/default", {"progression": POLICIES["durations"]})
    workflow_id = api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(4)))))
    api.advance(10)
    job = api.job(workflow_id)
    stamps = [update["timestamp"] for update in job["status_updates"]]
    assert stamps == [
        "2026-01-01T00:00:00.000000000Z",
        "2026-01-01T00:00:01.000000000Z",
        "2026-01-01T00:00:03.000000000Z",
        "2026-01-01T00:00:06.000000000Z",
    ]
    assert job["updated_at"] == "2026-01-01T00:00:06.000000Z"


def test_running_scales_with_rows(api: Api) -> None:
    api.control(
        "PUT",
        "scenarios/default",
        {"progression": {"mode": "durations", "pending": 0, "queued": 0, "running": 1, "running_per_row": 0.5}},
    )
    small = api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(2)))))
    large = api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(10)))))
    api.advance(2)
    assert (api.status(small)["status"], api.status(large)["status"]) == ("completed", "running")
    api.advance(4)
    assert api.status(large)["status"] == "completed"


def test_after_polls_counts_reads_of_each_read_route(api: Api) -> None:
    api.control("PUT", "scenarios/default", {"progression": {"mode": "after_polls", "polls": 1}})
    file_id = api.upload(jsonl(qa_rows(2)))
    workflow_id = api.create_id("classify", classify_params(file_id))
    assert api.job(workflow_id)["status"] == "pending"
    assert api.status(workflow_id)["status"] == "queued"
    listed = api.request("GET", "/v1/evaluations").json()
    assert [job["status"] for job in listed] == ["running"]
    assert api.request("GET", "/v1/evaluation").json()[0]["status"] == "completed"
    # The control plane's own view never counts as a read.
    assert api.control("GET", f"jobs/{workflow_id}")["reads"] == 4
    assert api.control("GET", f"jobs/{workflow_id}")["reads"] == 4


def test_list_with_a_status_filter_counts_only_listed_jobs(api: Api) -> None:
    api.control("PUT", "scenarios/default", {"progression": {"mode": "after_polls", "polls": 1}})
    file_id = api.upload(jsonl(qa_rows(2)))
    workflow_id = api.create_id("classify", classify_params(file_id))
    assert api.request("GET", "/v1/evaluation", query={"status": "completed"}).json() == []
    assert api.control("GET", f"jobs/{workflow_id}")["reads"] == 0
    assert [j["workflow_id"] for j in api.request("GET", "/v1/evaluation", query={"status": "pending"}).json()] == [
        workflow_id
    ]
    assert api.control("GET", f"jobs/{workflow_id}")["reads"] == 1


def test_per_phase_poll_counts(api: Api) -> None:
    api.control(
        "PUT", "scenarios/default", {"progression": {"mode": "after_polls", "polls": {"pending": 0, "running": 3}}}
    )
    workflow_id = api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(2)))))
    seen = [api.status(workflow_id)["status"] for _ in range(6)]
    assert seen == ["queued", "running", "running", "running", "completed", "completed"]


def test_settings_default_policy(core_api: Api) -> None:
    from scenario_support import make_face
    from together_eval_emulator import Emulator

    api = make_face("core", Emulator(clock="manual", progression="after_polls", polls_per_phase=1))
    workflow_id = api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(2)))))
    assert [api.status(workflow_id)["status"] for _ in range(4)] == FULL


def test_status_is_always_present(api: Api) -> None:
    api.control("PUT", "scenarios/default", {"progression": {"mode": "manual"}})
    workflow_id = api.create_id("classify", classify_params(api.upload(jsonl(qa_rows(2)))))
    assert api.create("classify", classify_params("file-x")).json()["status"] == "pending"
    for body in (api.job(workflow_id), api.status(workflow_id), *api.request("GET", "/v1/evaluation").json()):
        assert body["status"] in ("pending", "queued", "running", "completed", "error", "user_error")


def test_controller_explains_jobs_that_do_not_end_on_the_clock(core_api: Api) -> None:
    from together_eval_emulator.faces._controller import EmulatorController, JobNeverCompletes

    core_api.control("PUT", "scenarios/default", {"progression": {"mode": "manual"}})
    workflow_id = core_api.create_id("classify", classify_params(core_api.upload(jsonl(qa_rows(2)))))
    control = EmulatorController(core_api.emulator, "http://emulator.test")
    with pytest.raises(JobNeverCompletes, match="does not end on the clock"):
        control.run_until_complete(workflow_id)
    core_api.emulator.jobs.advance(workflow_id, steps=3)
    assert control.run_until_complete(workflow_id) == "completed"
