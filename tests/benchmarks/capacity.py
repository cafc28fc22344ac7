"""A status read with a long queue (docs/capacity.md#cost): `GET /v1/evaluation/{id}/status` of the
last job in line, with 1,000 and 10,000 jobs `queued` behind a per-tenant capacity of 5, against the
same read with the same jobs and no capacity (the baseline: nothing is scheduled). Reads find the
schedule kept; the first read after a create simulates it again, which is measured apart. Then the
status-filtered lists, which under a capacity scan the tenant's jobs newest first instead of asking
the status index: `?status=queued&limit=10` (the newest jobs: the scan stops after 10) and
`?status=running&limit=10` (the oldest: the scan crosses every job), against the same calls without
a capacity (answered by the index)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from together_eval_emulator import Emulator
from together_eval_emulator.http._transport import ApiRequest

from .live import classify
from .timing import Figure, interleaved, per_call
from .workload import AUTH, call, upload

SIZES = (1_000, 10_000)
RUNNING = 5
READS = 2_000
LISTS = 20


class Queue:
    """An emulator on a frozen clock with `queued` jobs behind `RUNNING` running ones (or, without a
    capacity, the same jobs all running)."""

    def __init__(self, queued: int, *, capacity: bool) -> None:
        config = {"max_running_per_tenant": RUNNING} if capacity else {}
        self.emulator = Emulator(clock="manual", journal_limit=1, **config)  # type: ignore[arg-type]
        self.body = classify(upload(self.emulator, 10))
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

    def lister(self, status: str) -> Callable[[], float]:
        """Seconds per `GET /v1/evaluation?status=...&limit=10`."""
        request = ApiRequest("GET", "/v1/evaluation", "http://bench", f"status={status}&limit=10", AUTH, b"")
        return lambda: per_call(lambda: self.emulator.handle(request), LISTS)

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
        for status, scanned in (("queued", "10 newest"), ("running", f"every one of the {queued + RUNNING:,}")):
            lists = interleaved({"limited": limited.lister(status), "unlimited": unlimited.lister(status)}, repetitions)
            figures.append(
                Figure(
                    f"`?status={status}&limit=10`, {queued:,} queued jobs (a scan: {scanned} jobs looked at)",
                    f"{lists['limited'] * 1e3:.2f} ms",
                    f"{lists['unlimited'] * 1e3:.2f} ms (no capacity: the status index)",
                    f"{lists['limited'] / lists['unlimited']:.1f}x",
                    "for reference",
                    True,
                )
            )
    return figures
