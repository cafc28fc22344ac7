"""Resident memory per stored job: 100,000 completed classify jobs of 100 rows each on one dataset,
each created, completed, its status read and its result file fetched once, through the core.

Runs in a fresh process (`python -m tests.benchmarks.memory`), so nothing else is counted. The
first job warms every cache (judge, summary, text pool, the shared small result file) before the
baseline; the bounded caches and the journal (10,000 requests by default) fill up well before the
last job, so what the figure measures is what each further job adds: its record, its ids, its
entries in the store's indexes and counters, its `results`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .timing import Figure

ROOT = Path(__file__).resolve().parents[2]
JOBS, ROWS = 100_000, 100
TARGET = 3 * 1024  # bytes per job


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def child() -> None:
    import gc

    from together_eval_emulator import Emulator

    from .workload import call, completed_job, upload

    emulator = Emulator(clock="manual")
    file_id = upload(emulator, ROWS)

    def one_job() -> None:
        workflow_id = completed_job(emulator, file_id)
        results = json.loads(call(emulator, "GET", f"/v1/evaluation/{workflow_id}/status"))["results"]
        call(emulator, "GET", f"/v1/files/{results['result_file_id']}/content")

    one_job()  # warm caches (text pool, templates) before the baseline
    gc.collect()
    before = rss_bytes()
    for _ in range(JOBS - 1):
        one_job()
    gc.collect()
    print(json.dumps({"added": rss_bytes() - before, "jobs": len(emulator.store.jobs("bench"))}))


def measure() -> list[Figure]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.memory"], cwd=ROOT, capture_output=True, text=True, timeout=1200
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    per_job = report["added"] / (report["jobs"] - 1)
    return [
        Figure(
            f"memory per stored job, {report['jobs']:,} completed jobs × {ROWS} rows, result file fetched once",
            f"{per_job:,.0f} bytes",
            "a fresh process",
            f"{report['added'] / 2**20:.1f} MB in all",
            f"≤ {TARGET / 1024:g} KB",
            per_job <= TARGET,
        )
    ]


if __name__ == "__main__":
    child()
