"""EmulatorController: clock jumps to job ends, reads that are not polls, reset and seed, base URLs."""

from __future__ import annotations

import pytest
from together_eval_emulator.engine._lifecycle import Phase
from together_eval_emulator.faces._controller import (
    EmulatorController,
    JobNeverCompletes,
    sdk_base_url,
    together_major_version,
)
from together_eval_emulator.http._core import Emulator

from tests.http.journal_calls import DATA, call, create_job


@pytest.fixture
def ctl() -> EmulatorController:
    return EmulatorController(Emulator(clock="manual"), "http://emulator.test/")


def test_base_urls_per_sdk_generation(ctl: EmulatorController) -> None:
    assert ctl.url == "http://emulator.test"
    assert ctl.v1_url == "http://emulator.test/v1"
    assert ctl.base_url_for("1.5.35") == ctl.base_url_for(2) == "http://emulator.test/v1"
    assert ctl.base_url_for("3.1.1") == "http://emulator.test"
    assert sdk_base_url("http://h:1", None) == "http://h:1"  # no SDK installed: the 3.x form
    assert together_major_version() == 3  # together==3.1.1 is this suite's test dependency
    assert ctl.base_url == "http://emulator.test"


def test_run_until_complete_is_one_clock_jump(ctl: EmulatorController) -> None:
    job_id, _ = create_job(ctl.emulator)
    assert ctl.job(job_id).status == "pending"
    assert ctl.run_until_complete(job_id) == "completed"
    # pending 1 s + queued 2 s + running 3 s + 2 rows x 0.01 s
    assert ctl.now().isoformat() == "2026-01-01T00:00:06.020000+00:00"
    assert ctl.run_until_complete(job_id) == "completed"
    assert ctl.now().isoformat() == "2026-01-01T00:00:06.020000+00:00"  # already terminal: no jump
    assert ctl.polls(job_id) == 0  # the controller's reads are not polls
    with pytest.raises(LookupError, match=rf"No evaluation job 'eval-x'.*Jobs: \['{job_id}'\]"):
        ctl.run_until_complete("eval-x")


def test_complete_all_waits_for_the_slowest_job(ctl: EmulatorController) -> None:
    first, _ = create_job(ctl.emulator)
    ctl.advance(100)
    second, _ = create_job(ctl.emulator)
    bad = call(
        ctl.emulator,
        "POST",
        "/v1/evaluation",
        {
            "type": "classify",
            "parameters": {
                "judge": {"model": "m", "model_source": "serverless", "system_template": "{{missing}}"},
                "labels": ["a", "b"],
                "pass_labels": ["a"],
                "input_data_file_path": "file-unknown",
            },
        },
    )
    assert bad[0] == 200
    statuses = ctl.complete_all()
    assert statuses[first] == statuses[second] == "completed"
    assert sorted(statuses.values()) == ["completed", "completed", "user_error"]
    assert ctl.now().isoformat() == "2026-01-01T00:01:46.020000+00:00"
    assert EmulatorController(Emulator(clock="manual"), "http://x").complete_all() == {}


def test_a_job_that_never_ends_is_reported(ctl: EmulatorController) -> None:
    job_id, _ = create_job(ctl.emulator)
    ctl.emulator.state.tenants["key-a"].jobs[job_id].phases = [Phase("pending", 0), Phase("running", 5)]
    with pytest.raises(JobNeverCompletes, match=f"Job {job_id} never completes on its own.*'running'"):
        ctl.run_until_complete(job_id)
    with pytest.raises(JobNeverCompletes):
        ctl.complete_all()


def test_jobs_and_files_as_the_api_shows_them(ctl: EmulatorController) -> None:
    job_id, file_id = create_job(ctl.emulator)
    ctl.run_until_complete(job_id)
    (job,) = ctl.jobs()
    assert job.workflow_id == job_id and job.status == "completed"
    assert ctl.jobs(tenant="someone-else") == []
    files = {f.id: f for f in ctl.files()}
    result_file_id = job.results["result_file_id"]  # type: ignore[index]
    assert set(files) == {file_id, result_file_id} and files[result_file_id].purpose == "eval-output"
    assert ctl.file_content(file_id) == DATA
    assert ctl.file_content(result_file_id).count(b"\n") == 2
    with pytest.raises(LookupError, match="No uploaded or result file 'file-x'"):
        ctl.file_content("file-x")


def test_reset_reseed_and_journal(ctl: EmulatorController) -> None:
    job_id, _ = create_job(ctl.emulator)
    ctl.advance(30)
    ctl.assert_called("evaluation.create", times=1)
    ctl.reset_journal()
    ctl.assert_not_called("evaluation.create")
    assert ctl.jobs()
    ctl.reseed(11)
    assert ctl.jobs() == [] and ctl.now().second == 30 and ctl.emulator.config.seed == 11
    ctl.reset()
    assert ctl.now().isoformat() == "2026-01-01T00:00:00+00:00"
    assert create_job(ctl.emulator)[0] != job_id
    assert ctl.requests[0].route == "files.upload"
    assert "seed=11" in repr(ctl)
