"""200,000 creates within one emulated second: every id unique and of the real form, and no dearer
than the same creates spread over seconds whose id spaces never fill (the baseline: the clock moves
on every 10,000 creates). What both pay alike, a store that grows, cancels out of the ratio."""

from __future__ import annotations

import json
import re
import time

from together_eval_emulator import Emulator

from .timing import Figure
from .workload import call, upload

JOBS = 200_000
SPREAD = 10_000  # the baseline moves the clock on by a second after this many creates
ID = re.compile(r"^eval-[0-9a-f]{4}-(\d+)$")


class Creator:
    """An emulator and a create body: `JOBS` creates, `SPREAD` at a time, on a frozen clock or
    (`spread`) one moved on a second before every batch."""

    def __init__(self, *, spread: bool) -> None:
        self.emulator = Emulator(clock="manual", journal_limit=1)
        self.spread = spread
        self.made: list[str] = []
        file_id = upload(self.emulator, 3)
        judge = {"model": "judge", "model_source": "serverless", "system_template": "Judge {{prompt}}"}
        parameters = {"input_data_file_path": file_id, "judge": judge, "labels": ["good", "bad"]}
        parameters.update(pass_labels=["good"], model_to_evaluate="response")
        self.body = json.dumps({"type": "classify", "parameters": parameters}).encode()

    def batch(self) -> float:
        """Seconds per create of the next `SPREAD` creates."""
        if self.spread and self.made:
            self.emulator.advance(1)
        headers = {"content-type": "application/json"}
        start = time.perf_counter()
        for _ in range(SPREAD):
            answer = call(self.emulator, "POST", "/v1/evaluation", self.body, headers)
            self.made.append(json.loads(answer)["workflow_id"])
        return (time.perf_counter() - start) / SPREAD


def measure() -> list[Figure]:
    crowded, spread = Creator(spread=False), Creator(spread=True)
    # Batches alternate between the two (in turns), so a machine that slows down slows both alike;
    # the sums keep the batches where a space fills up.
    times = {"crowded": 0.0, "spread": 0.0}
    for round_ in range(JOBS // SPREAD):
        turns = [("crowded", crowded), ("spread", spread)]
        for name, creator in turns if round_ % 2 == 0 else reversed(turns):
            times[name] += creator.batch() / (JOBS // SPREAD)
    made = crowded.made
    spaces = {int(match.group(1)) for job_id in made if (match := ID.fullmatch(job_id))}
    valid = len(made) == len(set(made)) == JOBS and all(ID.fullmatch(job_id) for job_id in made)
    ratio = times["crowded"] / times["spread"]
    return [
        Figure(
            f"{JOBS:,} creates in one emulated second: unique, valid ids",
            f"{len(set(made)):,} unique over {len(spaces)} seconds' id spaces",
            f"{JOBS:,}",
            "–",
            "all unique and valid",
            valid,
        ),
        Figure(
            f"a create among {JOBS:,} in one second vs spread over {JOBS // SPREAD} seconds (mean)",
            f"{times['crowded'] * 1e6:.0f} µs",
            f"{times['spread'] * 1e6:.0f} µs",
            f"{ratio:.2f}x",
            "< 1.25x",
            ratio < 1.25,
        ),
    ]
