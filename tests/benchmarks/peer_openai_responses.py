"""Peer reference: per-call overhead of openai-responses (the closest pytest mocking plugin for an
AI API) against a bare respx route returning the same bytes, with the `openai` SDK.

Run inside its own virtual environment (`openai-responses` pins its own `openai` and `respx`):
`python -m tests.benchmarks` creates `.venvs/peer-openai-responses` on first use and runs this file there."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .timing import Figure

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venvs" / "peer-openai-responses"
PACKAGE = "openai-responses==0.13.1"


def child(calls: int, repetitions: int) -> None:
    import statistics
    import time

    import httpx
    import openai
    import respx
    from openai_responses import OpenAIMock

    client = openai.OpenAI(api_key="sk-bench", max_retries=0)
    mock = OpenAIMock()
    with mock.router:
        file_id = client.files.create(file=("data.jsonl", b'{"a": 1}\n'), purpose="batch").id
        body = client.files.with_raw_response.retrieve(file_id).content
    bare = respx.mock(assert_all_called=False)
    bare.get(f"https://api.openai.com/v1/files/{file_id}").mock(
        return_value=httpx.Response(200, content=body, headers={"content-type": "application/json"})
    )

    def timed(router: respx.MockRouter) -> float:
        with router:
            start = time.perf_counter()
            for _ in range(calls):
                client.files.retrieve(file_id)
            return (time.perf_counter() - start) / calls

    samples: dict[str, list[float]] = {"mock": [], "bare": []}
    for round_ in range(repetitions):
        for name in ["mock", "bare"] if round_ % 2 == 0 else ["bare", "mock"]:
            samples[name].append(timed(mock.router if name == "mock" else bare))
    print(json.dumps({name: statistics.median(values) for name, values in samples.items()}))


def python() -> Path:
    interpreter = VENV / "bin" / "python"
    if not interpreter.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(interpreter), "-m", "pip", "install", "-q", PACKAGE], check=True)
    return interpreter


def measure(calls: int = 300, repetitions: int = 7) -> list[Figure]:
    done = subprocess.run(
        [str(python()), "-m", "tests.benchmarks.peer_openai_responses", str(calls), str(repetitions)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    medians = json.loads(done.stdout.strip().splitlines()[-1])
    ratio = medians["mock"] / medians["bare"]
    return [
        Figure(
            "peer: openai-responses `files.retrieve` (openai SDK), for reference",
            f"{medians['mock'] * 1e6:.0f} µs/call",
            f"{medians['bare'] * 1e6:.0f} µs/call (bare respx)",
            f"{ratio:.2f}",
            "reference",
            True,
        )
    ]


if __name__ == "__main__":
    child(int(sys.argv[1]), int(sys.argv[2]))
