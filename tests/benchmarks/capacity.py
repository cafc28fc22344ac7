"""A status read with a long queue (docs/capacity.md#cost): `GET /v1/evaluation/{id}/status` of the
last job in line, with 1,000 and 10,000 jobs `queued` behind a per-tenant capacity of 5, against the
same read with the same jobs and no capacity (the baseline: nothing is scheduled). Reads find the
schedule kept; the first read after a create simulates it again, which is measured apart."""

from __future__ import annotations

import json
import time

from together_eval_emulator import Emulator

from .timing import Figure, interleaved, per_call
from .workload import call, classify_body, upload

SIZES = (1_000, 10_000)
RUNNING = 5
READS = 2_000


class Queue:
    """An emulator on a frozen clock with `queued` jobs behind `RUNNING` running ones (or, without a
    capacity, the same jobs all running)."""

    def __init__(self, queued: int, *, capacity: bool) -> None:
        config = {"max_running_per_tenant": RUNNING} if capacity else {}
        self.emulator = Emulator(clock="manual", journal_limit=1, **config)  # type: ignore[arg-type]
        self.body = classify_body(upload(self.emulator, 10))
        self.last = ""
        for _ in range(queued + RUNNING):
            self.create()
        self.emulator.advance(4)  # past every job's planned queue time: the queue is full
        self.path = f"/v1/evaluation/{self.last}/status"
        self.expected = b"queued" if capacity else b"running"
        self.read()

    def create(self) -> None:
        self.last = json.loads(call(self.emulator, "POST", "/v1/evaluation", self.body))["workflow_id"]

    def read(self) -> bytes:
        body = call(self.emulator, "GET", self.path)
        if self.expected not in body:
            raise RuntimeError(f"{self.path}: {body!r}, expected {self.expected!r}")
        return body

    def reads(self) -> float:
        """Seconds per status read."""
        return per_call(self.read, READS)

    def read_after_create(self) -> float:
        """Seconds of the first status read after a create (the schedule is simulated again)."""
        self.create()
        start = time.perf_counter()
        self.read()
        return time.perf_counter() - start


def measure(repetitions: int = 5) -> list[Figure]:
    figures = []
    for queued in SIZES:
        limited, unlimited = Queue(queued, capacity=True), Queue(queued, capacity=False)
        read = interleaved({"limited": limited.reads, "unlimited": unlimited.reads}, repetitions)
        ratio = read["limited"] / read["unlimited"]
        after_create = interleaved({"limited": limited.read_after_create}, 3)["limited"]
        figures += [
            Figure(
                f"status read of the last of {queued:,} queued jobs (per-tenant capacity {RUNNING})",
                f"{read['limited'] * 1e6:.0f} µs",
                f"{read['unlimited'] * 1e6:.0f} µs (no capacity)",
                f"{ratio:.2f}x",
                "< 1 ms",
                read["limited"] < 1e-3,
            ),
            Figure(
                f"first status read after a create, {queued:,} queued jobs (schedule simulated again)",
                f"{after_create * 1e3:.1f} ms",
                "–",
                "–",
                "for reference",
                True,
            ),
        ]
    return figures
