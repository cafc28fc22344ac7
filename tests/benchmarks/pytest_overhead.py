"""pytest wall time for 200 tests that each create and complete a job through the in-process
fixture, against 200 empty tests: the emulator's cost per test in a user's suite."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .timing import Figure, interleaved

ROOT = Path(__file__).resolve().parents[2]
TESTS = 200

EMPTY = '''
import pytest

@pytest.mark.parametrize("n", range({n}))
def test_empty(n):
    pass
'''

JOBS = '''
import pytest
from together import Together

ROWS = b'{{"prompt": "2+2?", "response": "4"}}\\n{{"prompt": "Capital of France?", "response": "Paris"}}\\n'
# One client per module, as a suite that cares about speed builds it: each Together() makes an SSL
# context (~50 ms), a cost of the SDK that any mock would pay.
CLIENT = Together(api_key="test-emulator-key", base_url="http://together-emulator.test")
PARAMS = {{"judge": {{"model": "judge", "model_source": "serverless", "system_template": "Rate {{{{prompt}}}}"}},
          "labels": ["good", "bad"], "pass_labels": ["good"], "model_to_evaluate": "response"}}


@pytest.fixture(scope="session")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "data.jsonl"
    path.write_bytes(ROWS)
    return path


@pytest.mark.parametrize("n", range({n}))
def test_job(n, together_emulator, data):
    client = CLIENT
    file_id = client.files.upload(data, purpose="eval", check=False).id
    job = client.evals.create(type="classify", parameters={{**PARAMS, "input_data_file_path": file_id}})
    together_emulator.run_until_complete(job.workflow_id)
    assert client.evals.status(job.workflow_id).status == "completed"
'''


def run(directory: Path, name: str) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                           "-p", "no:hypothesispytest", "-p", "no:benchmark", "-p", "no:faker", name], cwd=directory,
                          capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or f"{TESTS} passed" not in done.stdout:
        raise RuntimeError(done.stdout[-2000:] + done.stderr[-2000:])
    return elapsed


def measure(repetitions: int = 3) -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / "test_empty.py").write_text(EMPTY.format(n=TESTS))
        (directory / "test_jobs.py").write_text(JOBS.format(n=TESTS))
        medians = interleaved({"jobs": lambda: run(directory, "test_jobs.py"),
                               "empty": lambda: run(directory, "test_empty.py")}, repetitions)
    extra_ms = (medians["jobs"] - medians["empty"]) / TESTS * 1000
    return [Figure(f"pytest: {TESTS} tests that upload, create and complete a job (together 3.x, in-process)",
                   f"{medians['jobs']:.2f} s", f"{medians['empty']:.2f} s ({TESTS} empty tests)",
                   f"+{extra_ms:.2f} ms/test", "< 5 ms/test", extra_ms < 5)]
