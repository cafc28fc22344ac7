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

    from .big_datasets import call, dataset
    from emulator import Emulator

    emulator = Emulator(clock="manual")
    file_id = call(emulator, "POST", "/v1/files", b"purpose=eval&file_name=d.jsonl&file_type=jsonl",
                   {"content-type": "application/x-www-form-urlencoded"}).decode()
    call(emulator, "PUT", f"/_emulator/uploads/{next(iter(emulator.state.uploads))}", dataset(ROWS))
    call(emulator, "POST", f"/v1/files/{file_id}/preprocess")
    body = json.dumps({"type": "classify", "parameters": {
        "input_data_file_path": file_id, "labels": ["good", "bad"], "pass_labels": ["good"],
        "model_to_evaluate": "response",
        "judge": {"model": "judge", "model_source": "serverless", "system_template": "Rate {{prompt}}"}}}).encode()

    def one_job() -> None:
        workflow_id = json.loads(call(emulator, "POST", "/v1/evaluation", body))["workflow_id"]
        emulator.advance(3600)
        results = json.loads(call(emulator, "GET", f"/v1/evaluation/{workflow_id}/status"))["results"]
        call(emulator, "GET", f"/v1/files/{results['result_file_id']}/content")

    one_job()  # warm caches (text pool, templates) before the baseline
    gc.collect()
    before = rss_bytes()
    for _ in range(JOBS - 1):
        one_job()
    gc.collect()
    print(json.dumps({"added": rss_bytes() - before, "jobs": len(emulator.state.tenant("bench").jobs)}))


def measure() -> list[Figure]:
    done = subprocess.run([sys.executable, "-m", "tests.benchmarks.memory"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    added_mb = report["added"] / 2**20
    return [Figure(f"memory added by {report['jobs']:,} completed jobs × {ROWS} rows", f"{added_mb:.1f} MB",
                   "a fresh process", "–", "< 100 MB", added_mb < 100)]


if __name__ == "__main__":
    child()
