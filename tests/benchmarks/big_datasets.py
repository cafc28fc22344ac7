"""Wall time from create to completed results and a downloaded result file, at 1k, 10k, 100k rows."""

from __future__ import annotations

import json
import time

from together_eval_emulator import Emulator

from .timing import Figure
from .workload import call, completed_job, upload

SIZES = (1_000, 10_000, 100_000)


def create_to_download(rows: int) -> float:
    """Seconds from create to a downloaded result file, for one classify job on a fresh emulator."""
    emulator = Emulator(clock="manual")
    file_id = upload(emulator, rows)
    start = time.perf_counter()
    workflow_id = completed_job(emulator, file_id)
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
    figures = [
        Figure(
            f"create → results → result file, classify, {rows:,} rows",
            f"{seconds[rows]:.3f} s",
            "–",
            f"{per_row[rows] * 1e6:.1f} µs/row",
            "–",
            True,
        )
        for rows in SIZES[:2]
    ]
    figures.append(
        Figure(
            "create → results → result file, classify, 100,000 rows",
            f"{seconds[100_000]:.3f} s",
            "–",
            f"{per_row[100_000] * 1e6:.1f} µs/row",
            "< 2 s",
            seconds[100_000] < 2.0,
        )
    )
    figures.append(
        Figure(
            "cost per row at 100k vs 10k",
            f"{per_row[100_000] * 1e6:.1f} µs",
            f"{per_row[10_000] * 1e6:.1f} µs",
            f"{growth:.2f}×",
            "≤ 1.2×",
            growth <= 1.2,
        )
    )
    return figures
