"""The benchmarks' live server: `together-eval-emulator serve` in its own process, and plain
keep-alive HTTP calls to it."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AUTH = {"Authorization": "Bearer bench"}

Answer = tuple[int, dict[str, str], bytes]


def classify(file_id: str) -> bytes:
    """The body of a classify create on `file_id`, the same for every live benchmark."""
    return json.dumps(
        {
            "type": "classify",
            "parameters": {
                "input_data_file_path": file_id,
                "labels": ["good", "bad"],
                "pass_labels": ["good"],
                "model_to_evaluate": "response",
                "judge": {"model": "judge", "model_source": "serverless", "system_template": "Rate {{prompt}}"},
            },
        }
    ).encode()


def start_server(*options: str) -> tuple[subprocess.Popen[str], str]:
    """A server on a free loopback port with `options`; the process and its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "together_eval_emulator", "serve", "--port", "0", *options],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("listening on "):
        process.kill()
        raise RuntimeError(f"the server did not start: {line!r}")
    return process, line.removeprefix("listening on ").strip()


def stop_server(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(30)
    if process.stdout is not None:
        process.stdout.close()


def request(
    connection: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> Answer:
    """One request on a keep-alive connection: status, headers (lower-case names), body."""
    connection.request(method, path, body=body or None, headers={**AUTH, **(headers or {})})
    response = connection.getresponse()
    data = response.read()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def expect(answer: Answer, *statuses: int) -> Answer:
    if answer[0] not in statuses:
        raise RuntimeError(f"status {answer[0]}: {answer[2][:300]!r}")
    return answer


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def peak_rss_bytes(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmHWM in /proc/{pid}/status")
