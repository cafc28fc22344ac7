"""200,000 creates within one emulated second: every id unique and of the real form, and a create
costs no more once the second's 65,536 ids are used up and the next seconds' are borrowed."""

from __future__ import annotations

import json
import re
import time

from together_eval_emulator import Emulator

from .timing import Figure
from .workload import call, upload

JOBS = 200_000
BATCH = 10_000  # creates timed together
ID = re.compile(r"^eval-[0-9a-f]{4}-(\d+)$")


def create_all() -> tuple[list[str], list[float]]:
    """The ids of `JOBS` creates on a frozen clock, and the seconds per create of each batch."""
    emulator = Emulator(clock="manual", journal_limit=1)
    file_id = upload(emulator, 3)
    body = json.dumps(
        {
            "type": "classify",
            "parameters": {
                "input_data_file_path": file_id,
                "judge": {"model": "judge", "model_source": "serverless", "system_template": "Judge {{prompt}}"},
                "labels": ["good", "bad"],
                "pass_labels": ["good"],
                "model_to_evaluate": "response",
            },
        }
    ).encode()
    headers = {"content-type": "application/json"}
    made: list[str] = []
    batches = []
    for _ in range(JOBS // BATCH):
        start = time.perf_counter()
        for _ in range(BATCH):
            made.append(json.loads(call(emulator, "POST", "/v1/evaluation", body, headers))["workflow_id"])
        batches.append((time.perf_counter() - start) / BATCH)
    return made, batches


def measure() -> list[Figure]:
    made, batches = create_all()
    seconds = {int(match.group(1)) for job_id in made if (match := ID.fullmatch(job_id))}
    valid = len(set(made)) == JOBS and all(ID.fullmatch(job_id) for job_id in made)
    first, last = batches[0], max(batches[-5:])
    return [
        Figure(
            f"{JOBS:,} creates in one emulated second: unique, valid ids",
            f"{len(set(made)):,} unique over {len(seconds)} seconds' id spaces",
            f"{JOBS:,}",
            "–",
            "all unique and valid",
            valid,
        ),
        Figure(
            "create cost, last batches (spaces borrowed) vs the first",
            f"{last * 1e6:.0f} µs",
            f"{first * 1e6:.0f} µs",
            f"{last / first:.2f}x",
            "< 2x",
            last / first < 2,
        ),
    ]
