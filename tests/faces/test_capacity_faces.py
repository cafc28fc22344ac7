"""The capacity from the faces: the controller's methods (both fixtures), the marker, `serve`'s
options, variables and config file (`[capacity]`), and a user's code on the real together 3.x SDK
seeing most of a batch wait in `queued` (docs/capacity.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from together import Together
from together_eval_emulator import CapacityState, EmulatorController, JobNeverCompletes, QueueState
from together_eval_emulator.faces._configfile import ConfigFileError, load_config_file
from together_eval_emulator.faces._settings import ServerSettings

pytest_plugins = ["pytester"]

FACES = ["together_emulator", "together_emulator_server"]
ROWS = [{"prompt": f"Question {i}?", "response": f"Answer {i}."} for i in range(10)]
PARAMETERS = {
    "judge": {"model": "judge-model", "model_source": "serverless", "system_template": "Judge {{prompt}}"},
    "labels": ["good", "bad"],
    "pass_labels": ["good"],
    "model_to_evaluate": "response",
}


@pytest.fixture(params=FACES, ids=["in_process", "live_server"])
def emu(request: pytest.FixtureRequest) -> EmulatorController:
    controller: EmulatorController = request.getfixturevalue(request.param)
    return controller


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    path = tmp_path / "qa.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    return path


def submit(client: Together, dataset: Path, count: int) -> list[str]:
    """What a user's batch code does: upload once, create `count` jobs."""
    file_id = client.files.upload(dataset, purpose="eval", check=False).id
    parameters = {**PARAMETERS, "input_data_file_path": file_id}
    return [client.evals.create(type="classify", parameters=parameters).workflow_id for _ in range(count)]


# ---------------------------------------------------------------- a user's batch on the real SDK


@pytest.mark.together_emulator(max_running_per_tenant=5)
def test_a_batch_submitted_with_the_sdk_mostly_waits_in_queued(emu: EmulatorController, dataset: Path) -> None:
    client = Together()
    made = submit(client, dataset, 40)
    emu.advance(4)  # past every job's planned queue time, before the first five end
    seen = [client.evals.status(job_id).status for job_id in made]
    assert seen.count("running") == 5 and seen.count("queued") == 35
    listed = client.evals.list(status="queued", limit=100)
    assert len(listed) == 35
    emu.complete_all()
    assert {client.evals.status(job_id).status for job_id in made} == {"completed"}
    last = client.evals.retrieve(made[-1])
    assert [u.status for u in last.status_updates] == ["pending", "queued", "running", "completed"]


# ---------------------------------------------------------------- the controller


def test_the_controller_sets_the_capacity_and_shows_the_queue(emu: EmulatorController, dataset: Path) -> None:
    assert emu.capacity() == CapacityState(per_tenant=None, total=None)
    assert emu.set_capacity(total=2) == CapacityState(per_tenant=None, total=2)
    made = submit(Together(), dataset, 5)
    emu.advance(4)
    queue = emu.queue()
    assert isinstance(queue, QueueState) and queue.running == 2
    assert [(entry.workflow_id, entry.position) for entry in queue.data] == [(made[2], 1), (made[3], 2), (made[4], 3)]
    summary = emu.job_summary(made[3])
    assert summary.status == "queued" and summary.queue is not None
    assert summary.queue.position == 2 and summary.queue.planned_start == queue.data[1].planned_start
    assert emu.job_summary(made[0]).queue is None
    assert emu.set_capacity() == CapacityState(per_tenant=None, total=None)


def test_the_controller_sets_per_type_limits_and_a_priority(emu: EmulatorController, dataset: Path) -> None:
    given = emu.set_capacity(total=1, per_type={"compare": 1}, priority=["key-vip"])
    assert given == CapacityState(per_tenant=None, total=1, per_type={"compare": 1}, priority=["key-vip"])
    assert emu.capacity() == given
    mine = submit(Together(), dataset, 2)
    emu.advance(0.5)
    vip = Together(api_key="key-vip")
    theirs = submit(vip, dataset, 1)
    emu.advance(3.5 + 3.1)  # my first job's slot freed: key-vip's job, created later, went first
    assert vip.evals.status(theirs[0]).status == "running"
    assert [entry.workflow_id for entry in emu.queue().data] == mine[1:]
    assert emu.set_capacity() == CapacityState(per_tenant=None, total=None)


@pytest.mark.together_emulator(max_running=1)
def test_run_until_complete_waits_out_the_queue(emu: EmulatorController, dataset: Path) -> None:
    made = submit(Together(), dataset, 4)
    assert emu.run_until_complete(made[-1]) == "completed"
    assert [emu.job(job_id).status for job_id in made] == ["completed"] * 4  # one clock jump, past the queue


@pytest.mark.together_emulator(max_running=2)
def test_complete_all_finishes_everything_in_one_jump(emu: EmulatorController, dataset: Path) -> None:
    made = submit(Together(), dataset, 7)
    finals = emu.complete_all()
    assert finals == dict.fromkeys(made, "completed")
    assert emu.queue().data == []


@pytest.mark.together_emulator(max_running=1)
def test_a_job_behind_a_job_that_never_ends_never_completes(emu: EmulatorController, dataset: Path) -> None:
    emu.add_scenario({"times": 1, "outcome": {"kind": "stall", "at": "running"}})
    stalled, waiting = submit(Together(), dataset, 2)
    emu.advance(60)
    assert emu.job_summary(waiting).queue is not None
    assert emu.job_summary(waiting).queue.planned_start is None  # type: ignore[union-attr]
    with pytest.raises(JobNeverCompletes, match="slot that never frees"):
        emu.run_until_complete(waiting)
    emu.force_status(stalled, "error", "gave up")
    assert emu.run_until_complete(waiting) == "completed"


def test_a_bad_marker_capacity_fails_the_test_with_the_setting_named(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.together_emulator(max_running_per_tenant=0)
        def test_it(together_emulator):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*invalid setting max_running_per_tenant=0: Input should be greater than or equal to 1*"]
    )


# ---------------------------------------------------------------- serve's settings


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_capacity_table_in_the_config_file_gives_the_two_settings(tmp_path: Path) -> None:
    path = write(tmp_path, "emulator.toml", "[capacity]\nper_tenant = 5\ntotal = 20\n")
    assert load_config_file(path) == {"max_running_per_tenant": 5, "max_running": 20}
    settings = ServerSettings(config=str(path))
    assert (settings.max_running_per_tenant, settings.max_running) == (5, 20)
    flat = write(tmp_path, "flat.json", json.dumps({"max_running": 3, "capacity": {"per_tenant": None}}))
    assert load_config_file(flat) == {"max_running": 3, "max_running_per_tenant": None}


def test_options_and_variables_beat_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "emulator.toml", "[capacity]\nper_tenant = 5\ntotal = 20\n")
    monkeypatch.setenv("TOGETHER_EMULATOR_MAX_RUNNING", "30")
    settings = ServerSettings(config=str(path), max_running_per_tenant=2)
    assert (settings.max_running_per_tenant, settings.max_running) == (2, 30)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("capacity = 5\n", "'capacity' must be a table"),
        ("[capacity]\nslots = 5\n", "capacity.slots is not a key"),
        ("max_running = 4\n[capacity]\ntotal = 5\n", "capacity.total and max_running give the same setting"),
    ],
)
def test_a_bad_capacity_table_is_refused_with_the_key_named(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(ConfigFileError, match=words):
        load_config_file(write(tmp_path, "emulator.toml", text))


def test_a_capacity_limit_below_one_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "emulator.toml", "[capacity]\ntotal = 0\n")
    with pytest.raises(ValueError, match="max_running"):
        ServerSettings(config=str(path))
