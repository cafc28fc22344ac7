"""The polling verdict in a user's pytest session (run by pytester): `--together-emulator-polling-report`
lists, at the end, the tests whose clients polled badly and why; the marker option `polling="strict"`
(or `--together-emulator-polling=strict`) fails such a test; `polling="off"` leaves a test out."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]
QUIET = ("-p", "no:hypothesispytest", "-p", "no:benchmark", "-p", "no:faker", "-p", "no:cacheprovider")

SUITE = '''
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


def run_job(tmp_path, every):
    """Upload, create, and read the status every `every` seconds until the job ends."""
    client = Together()
    path = tmp_path / "data.jsonl"
    path.write_text("".join(json.dumps(row) + "\\n" for row in ROWS))
    uploaded = client.files.upload(path, purpose="eval", check=False)
    job = client.evals.create(type="classify", parameters={**PARAMETERS, "input_data_file_path": uploaded.id})
    while client.evals.status(job.workflow_id).status not in ("completed", "error", "user_error"):
        time.sleep(every)


pytestmark = pytest.mark.together_emulator(advance_on_sleep=True)


def test_patient(together_emulator, tmp_path):
    run_job(tmp_path, every=2)


def test_busy(together_emulator, tmp_path):
    run_job(tmp_path, every=0.2)


@pytest.mark.together_emulator(polling="strict")
def test_busy_strict(together_emulator, tmp_path):
    run_job(tmp_path, every=0.2)


@pytest.mark.together_emulator(polling="strict")
def test_patient_strict_on_the_live_server(together_emulator_server, tmp_path):
    run_job(tmp_path, every=2)


@pytest.mark.together_emulator(polling="strict")
def test_busy_strict_on_the_live_server(together_emulator_server, tmp_path):
    run_job(tmp_path, every=0.5)


@pytest.mark.together_emulator(polling="off")
def test_busy_but_left_out(together_emulator, tmp_path):
    run_job(tmp_path, every=0.2)
'''

REPORT = "--together-emulator-polling-report"


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_suite=SUITE)
    return pytester


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    """Each test's outcome, from `-rA`'s short summary."""
    found = {}
    for line in result.outlines:
        word, _, rest = line.partition(" test_suite.py::")
        if rest and word in ("PASSED", "FAILED"):
            found[rest.split(" ")[0]] = word
    return found


def test_a_strict_test_whose_client_polled_badly_fails_and_says_why(suite: pytest.Pytester) -> None:
    result = suite.runpytest_inprocess("-rA", *QUIET)
    assert outcomes(result) == {
        "test_patient": "PASSED",
        "test_busy": "PASSED",  # lenient by default: graded only for the report
        "test_busy_strict": "FAILED",
        "test_patient_strict_on_the_live_server": "PASSED",
        "test_busy_strict_on_the_live_server": "FAILED",
        "test_busy_but_left_out": "PASSED",
    }
    text = result.stdout.str()
    assert "together emulator: the test's client polled badly (polling='strict'):" in text
    assert "polls_too_often: 31 reads came less than 1 s after the read before (shortest 0.2 s)" in text
    assert "/status -> 200 saw pending: 0.2 s after #" in text  # the offending requests, with their time
    assert "polls_too_often: 13 reads came less than 1 s after the read before (shortest 0.5 s)" in text
    assert "together emulator: polling" not in text  # no session report unless asked


def test_the_session_report_lists_the_tests_that_polled_badly(suite: pytest.Pytester) -> None:
    result = suite.runpytest_inprocess(REPORT, *QUIET)
    result.assert_outcomes(passed=4, failed=2)
    text = result.stdout.str()
    report = text[text.index("together emulator: polling") :]
    listed = [line for line in report.splitlines() if line.startswith("test_suite.py::")]
    assert listed == [
        "test_suite.py::test_busy",
        "test_suite.py::test_busy_strict",
        "test_suite.py::test_busy_strict_on_the_live_server",
    ]
    assert "  job eval-" in report and ": bad\n    polls_too_often: 31 reads came less than 1 s" in report
    assert "3 tests polled badly" in report


def test_strict_for_the_whole_session_from_the_command_line(suite: pytest.Pytester) -> None:
    result = suite.runpytest_inprocess("-rA", "--together-emulator-polling=strict", *QUIET)
    assert outcomes(result)["test_busy"] == "FAILED"
    assert outcomes(result)["test_busy_but_left_out"] == "PASSED"  # the closest marker wins


def test_a_session_that_polled_well_says_so(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE.replace("every=0.2", "every=1").replace("every=0.5", "every=1"))
    result = pytester.runpytest_inprocess(REPORT, *QUIET)
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["*together emulator: polling*", "No test's client polled a job badly."])
