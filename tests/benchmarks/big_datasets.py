"""Wall time from create to completed results and a downloaded result file, at 1k, 10k, 100k rows."""

from __future__ import annotations

import json
import time

from emulator import Emulator
from emulator.transport import ApiRequest

from .timing import Figure

AUTH = {"authorization": "Bearer bench"}
SIZES = (1_000, 10_000, 100_000)


def call(emulator: Emulator, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> bytes:
    response = emulator.handle(ApiRequest(method, path, "http://bench", "", {**AUTH, **(headers or {})}, body))
    if response.status_code not in (200, 302):
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.body[:200]!r}")
    return response.body if response.status_code == 200 else response.headers["x-together-file-id"].encode()


def dataset(rows: int) -> bytes:
    return "".join(json.dumps({"prompt": f"Question {i}: what is {i} times 3?", "response": f"It is {3 * i}."}) + "\n"
                   for i in range(rows)).encode()


def create_to_download(rows: int) -> float:
    """Seconds from create to a downloaded result file, for one classify job on a fresh emulator."""
    emulator = Emulator(clock="manual")
    file_id = call(emulator, "POST", "/v1/files", b"purpose=eval&file_name=d.jsonl&file_type=jsonl",
                   {"content-type": "application/x-www-form-urlencoded"}).decode()
    token = next(iter(emulator.state.uploads))
    call(emulator, "PUT", f"/_emulator/uploads/{token}", dataset(rows))
    call(emulator, "POST", f"/v1/files/{file_id}/preprocess")
    body = json.dumps({"type": "classify", "parameters": {
        "input_data_file_path": file_id, "labels": ["good", "bad"], "pass_labels": ["good"],
        "model_to_evaluate": "response",
        "judge": {"model": "judge", "model_source": "serverless", "system_template": "Rate {{prompt}}"}}}).encode()
    start = time.perf_counter()
    workflow_id = json.loads(call(emulator, "POST", "/v1/evaluation", body))["workflow_id"]
    emulator.advance(10 ** 7)
    results = json.loads(call(emulator, "GET", f"/v1/evaluation/{workflow_id}/status"))["results"]
    content = call(emulator, "GET", f"/v1/files/{results['result_file_id']}/content")
    elapsed = time.perf_counter() - start
    lines = content.count(b"\n")
    if lines != rows:
        raise RuntimeError(f"result file has {lines} rows, expected {rows}")
    return elapsed


def measure(repetitions: int = 3) -> list[Figure]:
    import statistics

    seconds = {rows: statistics.median(create_to_download(rows) for _ in range(repetitions)) for rows in SIZES}
    per_row = {rows: seconds[rows] / rows for rows in SIZES}
    growth = per_row[100_000] / per_row[10_000]
    figures = [Figure(f"create → results → result file, classify, {rows:,} rows", f"{seconds[rows]:.3f} s",
                      "–", f"{per_row[rows] * 1e6:.1f} µs/row", "–", True) for rows in SIZES[:2]]
    figures.append(Figure("create → results → result file, classify, 100,000 rows",
                          f"{seconds[100_000]:.3f} s", "–", f"{per_row[100_000] * 1e6:.1f} µs/row", "< 2 s",
                          seconds[100_000] < 2.0))
    figures.append(Figure("cost per row at 100k vs 10k", f"{per_row[100_000] * 1e6:.1f} µs",
                          f"{per_row[10_000] * 1e6:.1f} µs", f"{growth:.2f}×", "≤ 1.2×", growth <= 1.2))
    return figures
