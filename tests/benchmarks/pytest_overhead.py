"""pytest wall time for 200 tests that each create and complete a job through the in-process
fixture, against 200 empty tests: the emulator's cost per test in a user's suite."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .timing import Figure, interleaved, user_environment

ROOT = Path(__file__).resolve().parents[2]
TESTS = 200

# The baseline module imports the SDK and builds its client too, and imports the emulator (which the
# plugin loads on a fixture's first use): those one-time costs would otherwise be spread over the 200 tests.
EMPTY = """
import pytest
import together_eval_emulator.faces._mock  # the plugin loads the emulator on a fixture's first use: once per run
import together_eval_emulator.faces._server
from together import Together

CLIENT = Together(api_key="test-emulator-key", base_url="http://together-emulator.test")
CLIENT.evals  # the SDK imports its resource modules on first use (~0.3 s)


@pytest.mark.parametrize("n", range({n}))
def test_empty(n):
    pass
"""

JOBS = """
import pytest
from together import Together

# One client per module, as a suite that cares about speed builds it: each Together() makes an SSL
# context (~50 ms), a cost of the SDK that any mock would pay.
CLIENT = Together(api_key="test-emulator-key", base_url="http://together-emulator.test")
CLIENT.evals  # the SDK imports its resource modules on first use (~0.3 s)
JUDGE = {{"model": "judge", "model_source": "serverless", "system_template": "Rate {{{{prompt}}}}"}}
ROWS = b'{{"prompt": "2+2?", "response": "4"}}\\n{{"prompt": "Capital of France?", "response": "Paris"}}\\n'


@pytest.fixture(scope="session")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "data.jsonl"
    path.write_bytes(ROWS)
    return path


def input_file(data):
    if {upload}:
        return CLIENT.files.upload(data, purpose="eval", check=False).id
    return "code-benchmark-v1"  # a built-in dataset: every tenant has it


def params(file_id):
    if file_id == "code-benchmark-v1":
        judge = {{**JUDGE, "system_template": "{{{{question}}}} ({{{{category}}}})"}}
        return {{"input_data_file_path": file_id, "judge": judge, "labels": ["correct", "incorrect"],
                "pass_labels": ["correct"], "model_to_evaluate": "reference_answer"}}
    return {{"input_data_file_path": file_id, "judge": JUDGE, "labels": ["good", "bad"], "pass_labels": ["good"],
            "model_to_evaluate": "response"}}


@pytest.mark.parametrize("n", range({n}))
def test_job(n, together_emulator, data):
    job = CLIENT.evals.create(type="classify", parameters=params(input_file(data)))
    together_emulator.run_until_complete(job.workflow_id)
    assert CLIENT.evals.status(job.workflow_id).status == "completed"
"""


# The same tests against a hand-written respx router with canned answers: what the SDK, respx and
# pytest cost without the emulator, so the emulator's own share can be read off.
CANNED = """
import httpx
import pytest
import respx
import together_eval_emulator.faces._mock  # as in the baseline: one-time imports are not per-test costs
import together_eval_emulator.faces._server
from together import Together

CLIENT = Together(api_key="test-emulator-key", base_url="http://together-emulator.test")
CLIENT.evals  # the SDK imports its resource modules on first use (~0.3 s)
CREATED = {{"workflow_id": "eval-0000-1767225600", "status": "pending"}}
STATUS = {{"status": "completed", "results": {{"generation_fail_count": 0, "invalid_label_count": 0,
          "judge_fail_count": 0, "label_counts": {{"correct": 90, "incorrect": 36}},
          "pass_percentage": 71.42857142857143,
          "result_file_id": "file-00000000-0000-4000-8000-000000000000"}}}}


@pytest.fixture
def canned():
    with respx.mock(base_url="http://together-emulator.test", assert_all_called=False) as router:
        router.post("/v1/evaluation").respond(200, json=CREATED)
        router.get("/v1/evaluation/eval-0000-1767225600/status").respond(200, json=STATUS)
        yield router


@pytest.mark.parametrize("n", range({n}))
def test_job(n, canned):
    job = CLIENT.evals.create(type="classify", parameters={{"input_data_file_path": "code-benchmark-v1"}})
    assert CLIENT.evals.status(job.workflow_id).status == "completed"
"""


def run(directory: Path, name: str) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "-p",
            "no:hypothesispytest",
            "-p",
            "no:benchmark",
            "-p",
            "no:faker",
            name,
        ],
        cwd=directory,
        env=user_environment(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or f"{TESTS} passed" not in done.stdout:
        raise RuntimeError(done.stdout[-2000:] + done.stderr[-2000:])
    return elapsed


def measure(repetitions: int = 3) -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / "test_empty.py").write_text(EMPTY.format(n=TESTS))
        (directory / "test_jobs.py").write_text(JOBS.format(n=TESTS, upload=False))
        (directory / "test_uploads.py").write_text(JOBS.format(n=TESTS, upload=True))
        (directory / "test_canned.py").write_text(CANNED.format(n=TESTS))
        medians = interleaved(
            {
                name: (lambda name=name: run(directory, f"test_{name}.py"))
                for name in ("jobs", "uploads", "canned", "empty")
            },
            repetitions,
        )
    extra = {name: (medians[name] - medians["empty"]) / TESTS * 1000 for name in ("jobs", "uploads", "canned")}
    return [
        Figure(
            f"pytest: {TESTS} tests that each create and complete a job (together 3.x, in-process fixture)",
            f"{medians['jobs']:.2f} s",
            f"{medians['empty']:.2f} s ({TESTS} empty tests, same imports)",
            f"+{extra['jobs']:.2f} ms/test",
            "< 5 ms/test",
            extra["jobs"] < 5,
        ),
        Figure(
            f"pytest: the same {TESTS} tests, each also uploading its dataset (3 more SDK requests)",
            f"{medians['uploads']:.2f} s",
            f"{medians['empty']:.2f} s ({TESTS} empty tests)",
            f"+{extra['uploads']:.2f} ms/test",
            "for reference",
            True,
        ),
        Figure(
            f"pytest: the same {TESTS} create + status calls against a hand-written canned respx router",
            f"{medians['canned']:.2f} s",
            f"{medians['empty']:.2f} s ({TESTS} empty tests)",
            f"+{extra['canned']:.2f} ms/test",
            "for reference",
            True,
        ),
        Figure(
            "pytest: the emulator's own share per test (emulator fixture − canned respx router)",
            f"{extra['jobs'] - extra['canned']:+.2f} ms/test",
            "–",
            "–",
            "for reference",
            True,
        ),
    ]
