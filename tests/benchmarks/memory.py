"""Resident memory added by 10,000 completed jobs of 100 rows each, result files fetched once.

Runs in a fresh process (`python -m tests.benchmarks.memory`), so nothing else is counted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .timing import Figure

ROOT = Path(__file__).resolve().parents[2]
JOBS, ROWS = 10_000, 100


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
        [sys.executable, "-m", "tests.benchmarks.memory"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    added_mb = report["added"] / 2**20
    return [
        Figure(
            f"memory added by {report['jobs']:,} completed jobs × {ROWS} rows",
            f"{added_mb:.1f} MB",
            "a fresh process",
            "–",
            "< 100 MB",
            added_mb < 100,
        )
    ]


if __name__ == "__main__":
    child()
