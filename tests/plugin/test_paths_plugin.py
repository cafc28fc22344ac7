"""The lifecycle path explorer in a user's pytest session (run by pytester): a client that handles
only `completed` fails on the failure and stall paths, each failure saying which path it was; one
that handles everything passes them all; the session ends with the table of paths each test
survived; both fixtures follow the paths; a misused marker is a clear collection error."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

import pytest

pytest_plugins = ["pytester"]
# Other plugins installed with the test dependencies are left out of the inner runs. schemathesis's
# collection hookwrapper would chain an assertion of its own onto any collection error (its output,
# not ours), which the clear-errors test below could not tell apart.
QUIET = (
    "-p",
    "no:hypothesispytest",
    "-p",
    "no:benchmark",
    "-p",
    "no:faker",
    "-p",
    "no:cacheprovider",
    "-p",
    "no:schemathesis",
)

CLIENT = '''
import json
import time

import pytest
from together import Together

ROWS = [{"prompt": f"Question {i}?", "response": f"Answer {i}."} for i in range(3)]
PARAMETERS = {
    "judge": {"model": "meta-llama/Llama-3.3-70B-Instruct-Turbo", "model_source": "serverless",
              "system_template": "Is the answer to {{prompt}} helpful?"},
    "labels": ["helpful", "unhelpful"],
    "pass_labels": ["helpful"],
    "model_to_evaluate": "response",
}
TERMINAL = ("completed", "error", "user_error")


class EvaluationFailed(Exception):
    pass


class EvaluationTimedOut(Exception):
    pass


def start(tmp_path):
    client = Together()
    path = tmp_path / "data.jsonl"
    path.write_text("".join(json.dumps(row) + "\\n" for row in ROWS))
    uploaded = client.files.upload(path, purpose="eval", check=False)
    return client, client.evals.create(type="classify", parameters={**PARAMETERS, "input_data_file_path": uploaded.id})


def naive_result(client, job_id):
    """Written for the happy path only."""
    while (status := client.evals.status(job_id)).status not in TERMINAL:
        time.sleep(5)
    return status.results.result_file_id


def careful_result(client, job_id, deadline=600):
    """Handles every end, and gives up after `deadline` seconds."""
    waited = 0
    while True:
        status = client.evals.status(job_id)
        if status.status == "completed":
            return status.results.result_file_id
        if status.status in ("error", "user_error"):
            raise EvaluationFailed(status.results.error)
        if waited >= deadline:
            raise EvaluationTimedOut(job_id)
        time.sleep(5)
        waited += 5
'''

SUITE = (
    CLIENT
    + """

pytestmark = pytest.mark.together_emulator(advance_on_sleep=True)


@pytest.mark.together_emulator_paths(max_preemptions=1)
def test_naive(together_emulator, tmp_path):
    client, job = start(tmp_path)
    assert naive_result(client, job.workflow_id).startswith("file-")


@pytest.mark.together_emulator_paths(max_preemptions=1)
def test_careful(together_emulator, together_emulator_path, tmp_path):
    client, job = start(tmp_path)
    if together_emulator_path.end == "completed":
        assert careful_result(client, job.workflow_id).startswith("file-")
    elif together_emulator_path.end == "stall":
        with pytest.raises(EvaluationTimedOut):
            careful_result(client, job.workflow_id)
    else:
        with pytest.raises(EvaluationFailed, match="failed"):
            careful_result(client, job.workflow_id)


@pytest.mark.together_emulator_paths(terminal=["error"], at=["queued"], progression="after_polls", max_polls=2)
def test_careful_on_the_live_server(together_emulator_server, together_emulator_path, tmp_path):
    client, job = start(tmp_path)
    with pytest.raises(EvaluationFailed):
        careful_result(client, job.workflow_id)
    assert together_emulator_path.polls in ({"pending": 1, "queued": 1}, {"pending": 1, "queued": 2},
                                            {"pending": 2, "queued": 1}, {"pending": 2, "queued": 2})


def test_without_the_marker(together_emulator, together_emulator_path):
    assert together_emulator_path is None
"""
)

FAILURE_PATHS = [
    "pending->error",
    "pending->queued->error",
    "pending->queued->running->error",
    "pending->queued->running->queued->running->error",
    "pending->user_error",
    "pending->queued->user_error",
    "pending->queued->running->user_error",
    "pending->queued->running->queued->running->user_error",
]
STALL_PATHS = ["pending->stall", "pending->queued->stall", "pending->queued->running->stall"]
COMPLETED_PATHS = ["pending->queued->running->completed", "pending->queued->running->queued->running->completed"]


@dataclass
class Run:
    """What a pytest session printed."""

    outlines: list[str]

    def text(self) -> str:
        return "\n".join(self.outlines)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The user's suite, run once for the module's tests (13 paths, twice, and more)."""
    where = tmp_path_factory.mktemp("paths")
    (where / "test_client.py").write_text(SUITE)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOGETHER_", "PYTEST_"))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-rA", "-p", "no:randomly", *QUIET],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]  # the naive client fails
    return Run(done.stdout.splitlines())


def outcome_of(run: Run, test: str) -> dict[str, str]:
    """Each path's outcome for one test, from `-rA`'s short summary."""
    found = {}
    for line in run.outlines:
        word, _, rest = line.partition(f" test_client.py::{test}[")
        if rest and word in ("PASSED", "FAILED"):
            found[rest.rsplit("]", 1)[0]] = word
    return found


def test_a_client_that_handles_only_completed_fails_on_the_failure_and_stall_paths(run: Run) -> None:
    outcomes = outcome_of(run, "test_naive")
    assert outcomes == {
        **dict.fromkeys(COMPLETED_PATHS, "PASSED"),
        **dict.fromkeys(FAILURE_PATHS + STALL_PATHS, "FAILED"),
    }


def test_each_failure_says_which_path_it_was(run: Run) -> None:
    text = run.text()
    assert (
        "This run's jobs followed pending->queued->error: the job ends in error, entered from queued; "
        "its results hold only `error`." in text
    )
    assert (
        "The job stalled (pending->queued->running->stall) and the client was still waiting 3600 s of emulator "
        "time after the test began (stall_deadline): give it a deadline of its own and handle it" in text
    )


def test_a_client_that_handles_every_end_passes_every_path(run: Run) -> None:
    assert set(outcome_of(run, "test_careful").values()) == {"PASSED"}
    assert len(outcome_of(run, "test_careful")) == 13
    assert set(outcome_of(run, "test_careful_on_the_live_server")) == {
        "pending->queued->error (reads 1,1)",
        "pending->queued->error (reads 1,2)",
        "pending->queued->error (reads 2,1)",
        "pending->queued->error (reads 2,2)",
    }
    assert "PASSED test_client.py::test_without_the_marker" in run.outlines


def test_the_session_ends_with_the_paths_each_test_survived(run: Run) -> None:
    text = run.text()
    table = text[text.index("together emulator: lifecycle paths") :].splitlines()[1:]
    assert table[0] == "test_client.py::test_careful: survived 13 of 13 paths"
    assert table[1:3] == [f"  passed  {path}" for path in COMPLETED_PATHS]
    naive = table.index("test_client.py::test_naive: survived 2 of 13 paths")
    assert table[naive + 3] == "  failed  pending->error"
    assert "test_client.py::test_careful_on_the_live_server: survived 4 of 4 paths" in table


def test_a_misused_marker_is_a_clear_collection_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bad_filter="""
import pytest

@pytest.mark.together_emulator_paths(terminal=["finished"])
def test_bad_filter(together_emulator):
    pass
""",
        test_no_emulator="""
import pytest

@pytest.mark.together_emulator_paths()
def test_no_emulator():
    pass
""",
    )
    result = pytester.runpytest_inprocess(*QUIET)
    result.assert_outcomes(errors=2)
    text = result.stdout.str()
    assert (
        "@pytest.mark.together_emulator_paths: invalid terminal='finished': Input should be 'completed', 'error', "
        "'user_error' or 'stall'. Options: terminal, at, max_preemptions, progression, max_polls, type, "
        "stall_deadline (docs/lifecycle-paths.md)." in text
    )
    assert "During handling" not in text
    assert "test_no_emulator.py::test_no_emulator: the test uses neither together_emulator nor" in text
